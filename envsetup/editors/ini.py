"""/etc/wsl.conf as WSL reads it, and an editor that changes only what it must.

The model follows ``ParseConfigFile`` in microsoft/WSL ``src/shared/configfile/configfile.cpp``
(the same from tag 2.5.8, the first with source, to 2.9.4), called by
``src/linux/init/WslDistributionConfig.cpp`` (lines 67-68) without
``CFG_SKIP_INVALID_LINES``:

* Lines end at LF, CR or CRLF; spaces and tabs at the start of a line are skipped.
* A line starting with ``#`` is a comment; a blank line is nothing. Anything else that
  breaks the grammar (a ``;`` comment, ``[ boot ]``, ``static_ip=``, a UTF-8 BOM on
  line 1, a key without ``=``) is invalid, and the parse *stops* there: no later line
  is read. The model can also skip invalid lines instead (``stop=False``), in case a
  later WSL does; the editor makes both readings give the wanted value.
* A header is ``[`` letter, letters and digits, ``]``, then only blanks or a ``#``
  comment (lines 448-561). A key is a letter, then letters and digits (lines 563-614);
  blanks may surround ``=``. Names compare case-insensitively (``strcasecmp``).
* In a value ``"`` toggles quoting and is dropped; an unquoted ``#`` ends it; ``\\``
  escapes ``\\ " b n t``, a ``\\`` before LF continues the line, any other escape is
  invalid; unquoted trailing blanks are trimmed (lines 657-801).
* The *first* occurrence of a key wins, even where its value is not valid
  (``ConfigKey::Parse``, lines 187-198); sections of the same name merge.
* Booleans are ``1``, ``0``, ``true``, ``false`` in any case (``ParseBool``).

The editor leaves a file whose reader already gets the value byte for byte; otherwise
it changes the first occurrence in place (keeping its comment), or adds the key to the
first block of its section read before any invalid line, or adds the section where WSL
reads it. The result is checked through the model; every other byte is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envsetup.editors import EditRefused

NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_HEADER = re.compile(r"\[([A-Za-z][A-Za-z0-9]*)\][ \t]*(#.*)?")
_KEY = re.compile(r"([A-Za-z][A-Za-z0-9]*)[ \t]*=[ \t]*")
BOOLEANS = {"1": True, "true": True, "0": False, "false": False}
_ESCAPES = {"\\": "\\", '"': '"', "b": "\b", "n": "\n", "t": "\t"}


@dataclass(frozen=True)
class Setting:
    """One ``key=value`` line as WSL reads it: where it is, and the parts of its text."""

    section: str | None  # lower case; None before any header
    key: str  # lower case
    value: str  # as WSL gets it
    lines: tuple[int, ...]  # physical lines (more than one where ``\\`` continued it)
    value_start: int  # offset of the value in the first line
    value_end: int  # offset where the value ends in the last line (its comment follows)


@dataclass(frozen=True)
class Parsed:
    settings: tuple[Setting, ...]
    headers: tuple[tuple[int, str], ...]  # (line, lower-case section)
    stopped_at: int | None = None
    why: str = ""


def physical_lines(text: str) -> list[str]:
    """Lines split at LF, CR or CRLF, each keeping its ending."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def parse(text: str, stop: bool = True) -> Parsed:
    """What WSL reads from ``text``; ``stop=False`` skips invalid lines instead."""
    lines = physical_lines(text)
    settings: list[Setting] = []
    headers: list[tuple[int, str]] = []
    section: str | None = None
    index = 0
    while index < len(lines):
        body = lines[index].rstrip("\r\n")
        start = len(body) - len(body.lstrip(" \t"))
        rest = body[start:]
        if not rest or rest.startswith("#"):
            index += 1
            continue
        header = _HEADER.fullmatch(rest)
        key = _KEY.match(rest)
        problem = ""
        if header:
            section = header.group(1).lower()
            headers.append((index, section))
            index += 1
            continue
        if key:
            read = _value(lines, index, start + key.end())
            if isinstance(read, str):
                problem = read
            else:
                value, last, end = read
                settings.append(
                    Setting(
                        section,
                        key.group(1).lower(),
                        value,
                        tuple(range(index, last + 1)),
                        start + key.end(),
                        end,
                    )
                )
                index = last + 1
                continue
        else:
            problem = _why_invalid(rest)
        if stop:
            return Parsed(tuple(settings), tuple(headers), index, problem)
        index += 1
    return Parsed(tuple(settings), tuple(headers))


def _why_invalid(rest: str) -> str:
    if rest.startswith("\ufeff"):
        return "a byte order mark starts the file"
    if rest.startswith("["):
        return "a section header is [ then letters and digits then ], with nothing else"
    if rest.startswith(";"):
        return "';' does not start a comment in wsl.conf, '#' does"
    return "a key is letters and digits (no '_', '.' or '-'), then '='"


def _value(lines: list[str], index: int, offset: int) -> tuple[str, int, int] | str:
    """The value starting at ``offset`` of line ``index``: (value, last line, end offset),
    or why the line is invalid."""
    out: list[str] = []
    trimmed = 0  # the value's length without unquoted blanks at its end
    end = offset  # where those blanks start in the line (what follows is kept on a change)
    quoted = False
    line = lines[index]
    position = offset
    while True:
        if position >= len(line) or line[position] in "\r\n":
            break
        char = line[position]
        if char == '"':
            quoted = not quoted
            position += 1
            trimmed, end = len(out), position
            continue
        if char == "#" and not quoted:
            break
        if char == "\\":
            following = line[position + 1 : position + 2]
            if following == "\n":  # a continued line: the next one's blanks are kept
                if index + 1 >= len(lines):
                    return "the file ends after a '\\'"
                index, line, position, end = index + 1, lines[index + 1], 0, 0
                continue
            if following == "\r":
                position += 2
                continue
            if following not in _ESCAPES:
                return f"'\\{following}' is not an escape WSL knows (\\\\ \\\" \\b \\n \\t)"
            out.append(_ESCAPES[following])
            position += 2
            trimmed, end = len(out), position
            continue
        out.append(char)
        position += 1
        if quoted or char not in " \t":
            trimmed, end = len(out), position
    if quoted:
        return "a quote is not closed"
    value = "".join(out[:trimmed])
    return value.split("\0", 1)[0], index, end


def reading(text: str | None, stop: bool = True) -> dict[tuple[str, str], str]:
    """``(section, key) -> value`` as WSL gets them: the first occurrence of each."""
    seen: dict[tuple[str, str], str] = {}
    for setting in parse(text or "", stop).settings:
        if setting.section is not None:
            seen.setdefault((setting.section, setting.key), setting.value)
    return seen


def get_key(text: str | None, section: str, key: str, stop: bool = True) -> str | None:
    """The value WSL gets for ``[section] key`` (None: not set where it reads)."""
    return reading(text, stop).get((section.lower(), key.lower()))


def same_value(seen: str | None, wanted: str) -> bool:
    """Whether WSL understands ``seen`` as ``wanted``: booleans by meaning, else exactly."""
    if seen is None:
        return False
    if seen.lower() in BOOLEANS and wanted.lower() in BOOLEANS:
        return BOOLEANS[seen.lower()] == BOOLEANS[wanted.lower()]
    return seen == wanted


def validate(section: str, key: str, value: str) -> None:
    """Refuse names WSL would not read and values that would not read back as written."""
    for what, name in (("section", section), ("key", key)):
        if not NAME_RE.fullmatch(name):
            raise ValueError(
                f"invalid wsl.conf {what} name {name!r}: a letter, then letters and digits"
            )
    bad = [c for c in '#"\\\r\n\0' if c in value]
    if bad or value != value.strip(" \t"):
        raise ValueError(
            f'the value for {section}.{key} may not contain # " \\ or line breaks, '
            "nor start or end with blanks"
        )


def set_key(text: str | None, section: str, key: str, value: str) -> str:
    """``text`` changed so that WSL reads ``[section] key`` as ``value``."""
    validate(section, key, value)
    sec, name = section.lower(), key.lower()
    if text is not None and all(
        same_value(get_key(text, sec, name, stop), value) for stop in (True, False)
    ):
        return text
    source = text or ""
    lines = physical_lines(source)
    parsed = parse(source)
    candidates: list[list[str]] = []
    first = next((s for s in parsed.settings if (s.section, s.key) == (sec, name)), None)
    if first is not None:  # the occurrence WSL reads: its value in place
        head = lines[first.lines[0]][: first.value_start]
        tail = lines[first.lines[-1]][first.value_end :]  # blanks, a comment, the ending
        changed = head + value + tail
        candidates.append(lines[: first.lines[0]] + [changed] + lines[first.lines[-1] + 1 :])
    blocks = [i for i, owner in parsed.headers if owner == sec]
    if blocks:  # after the last setting of the first such block
        after = blocks[0] + 1
        for setting in parsed.settings:
            if setting.lines[0] > blocks[0] and _block_of(parsed, setting.lines[0]) == blocks[0]:
                after = setting.lines[-1] + 1
        candidates.append(_insert(lines, after, [f"{key}={value}\n"]))
    block = [f"[{section}]\n", f"{key}={value}\n"]
    if parsed.stopped_at is None:
        spacer = ["\n"] if lines and lines[-1].strip() else []
        candidates.append(_insert(lines, len(lines), spacer + block))
    if parsed.stopped_at is not None:  # right before the first line WSL rejects
        candidates.append(_insert(lines, parsed.stopped_at, block))
    if parsed.headers:  # before the first header
        candidates.append(_insert(lines, parsed.headers[0][0], block))
    return _first_faithful(source, candidates, sec, name, value, parsed)


def _block_of(parsed: Parsed, line: int) -> int | None:
    """The header line of the block ``line`` is in."""
    owner = None
    for index, _ in parsed.headers:
        if index < line:
            owner = index
    return owner


def _insert(lines: list[str], at: int, new: list[str]) -> list[str]:
    head = list(lines[:at])
    if head and not head[-1].endswith(("\n", "\r")):
        head[-1] += "\n"
    return head + new + lines[at:]


def unset_key(text: str | None, section: str, key: str) -> str | None:
    """``text`` without the lines that set ``[section] key``; a missing file stays missing."""
    if text is None:
        return None
    sec, name = section.lower(), key.lower()
    if get_key(text, sec, name) is None and get_key(text, sec, name, stop=False) is None:
        return text
    lines = physical_lines(text)
    drop = {
        i
        for stop in (True, False)
        for s in parse(text, stop).settings
        if (s.section, s.key) == (sec, name)
        for i in s.lines
    }
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return _first_faithful(text, [kept], sec, name, None, parse(text))


def _first_faithful(
    source: str,
    candidates: list[list[str]],
    sec: str,
    name: str,
    value: str | None,
    parsed: Parsed,
) -> str:
    """The first candidate WSL reads with ``[sec] name`` as ``value`` (None: unset), in
    both readings, and every other setting as it read them before."""
    before = {k: v for k, v in reading(source).items() if k != (sec, name)}
    for lines in candidates:
        text = "".join(lines)
        ok = True
        for stop in (True, False):
            seen = get_key(text, sec, name, stop)
            ok = ok and (seen is None if value is None else same_value(seen, value))
        after = {k: v for k, v in reading(text).items() if k != (sec, name)}
        if ok and after == before:
            return text
    where = ""
    if parsed.stopped_at is not None:
        where = f"; WSL stops reading at line {parsed.stopped_at + 1} ({parsed.why})"
    raise EditRefused(f"no change to the file makes WSL read [{sec}] {name} as wanted{where}")

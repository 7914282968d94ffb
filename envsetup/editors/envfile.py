"""/etc/environment as pam_env reads it, and an editor that changes only what it must.

The model follows pam_env of Linux-PAM 1.5.2 (Debian 12), ``modules/pam_env/pam_env.c``
at tag v1.5.2: ``_assemble_line`` (lines 288-374) joins physical lines and
``_parse_env_file`` (lines 186-281) reads each joined line. Checked against Debian 12's
pam_env.so by a real login in tests/integration/test_env_file_corpus.py. Linux-PAM 1.6+
(``libpam_internal/pam_line.c``) differs only in line assembly: no length limit, blanks
at the start of a continued line dropped, a blank or comment line ends a continuation.

* Lines split at LF only; a CR is data (a CRLF file gives values ending in CR).
* A line whose first non-blank character is ``#``, or a blank line, is skipped, even
  inside a continuation. Elsewhere ``#`` ends the line, even inside quotes.
* A line ending in ``\\`` (blanks after it allowed) continues on the next one.
* A line longer than the buffer (8190 bytes and its LF; ``BUF_SIZE``), or one holding
  a NUL byte, ends the parse: nothing after it is read. A file ending inside a
  continuation loses that last line.
* Leading blanks are skipped; ``export`` followed by exactly one space is dropped.
* The key runs up to ``=`` and must be ``[A-Za-z0-9_]+``, else the line is ignored
  (so ``KEY = v``, ``export\\tKEY=v`` and ``export  KEY=v`` are ignored).
* A line with no ``=`` (``NAME``, ``export NAME``) unsets NAME.
* Only a value that starts with a quote is unquoted: the first character is dropped,
  and the last one if it is a quote; every other character is kept, quotes included.
  Trailing blanks are part of the value. Nothing is expanded.
* The last definition of a key wins.

The editor decides with this model whether a change is needed (a file whose reader
already sees the value is left alone), writes one ``KEY="value"`` line ended by LF where
the reader will see it, and checks its result through the model: the key reads as
wanted and every other key reads as before. Every other byte is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from envsetup.editors import EditRefused

KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BUF_SIZE = 8192  # pam_env.c (1.5.2) line 44: #define BUF_SIZE 8192
_READER_KEY = re.compile(r"[A-Za-z0-9_]*")
_BLANKS = " \n\t"  # strspn(p, " \n\t") in both functions
MAX_PLACES = 64  # places tried for a new line before the edit is refused


@dataclass(frozen=True)
class Entry:
    """One line as pam_env assembles and reads it.

    ``lines`` are the indices of the physical lines it is made of (skipped comment and
    blank lines inside a continuation are not among them).
    """

    lines: tuple[int, ...]
    kind: Literal["set", "unset", "ignored"]
    key: str = ""
    value: str = ""


@dataclass(frozen=True)
class Parsed:
    """The entries of a file and, where the parse ended early, the line that ended it."""

    entries: tuple[Entry, ...]
    stopped_at: int | None = None  # physical line index
    why: str = ""


def physical_lines(text: str) -> list[str]:
    """Lines split at LF only, each keeping its LF (the last may have none)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def parse(text: str) -> Parsed:
    """The entries pam_env reads from ``text``, in order."""
    lines = physical_lines(text)
    entries: list[Entry] = []
    buffer, used, members = "", 0, []
    for index, raw in enumerate(lines):
        at_eof = index == len(lines) - 1 and not raw.endswith("\n")
        if used >= BUF_SIZE or len(raw) > BUF_SIZE - used - 1:
            return Parsed(tuple(entries), index, f"longer than pam_env's {BUF_SIZE}-byte buffer")
        line = raw
        if "\0" in line:
            line = line[: line.index("\0")]
            if not line or not at_eof:
                return Parsed(tuple(entries), index, "it holds a NUL byte")
        blanks = len(line) - len(line.lstrip(_BLANKS))
        rest = line[blanks:]
        if not rest or rest[0] == "#":
            continue  # nothing on this line; a continuation goes on past it
        members.append(index)
        used += blanks
        hash_at = rest.find("#")
        if hash_at >= 0:
            rest = rest[:hash_at]
            buffer += line[:blanks] + rest
            used += len(rest)
        else:
            trimmed = rest.rstrip(" \t\n")
            if trimmed.endswith("\\"):
                piece = trimmed[:-1]
                buffer += line[:blanks] + piece
                used += len(piece)
                continue
            buffer += line[:blanks] + rest
            used += len(rest)
        entries.append(_read(buffer, tuple(members)))
        buffer, used, members = "", 0, []
    if members:  # l.305-307: a continuation cut off by the end of the file is dropped
        return Parsed(tuple(entries), members[0], "the file ends inside a continued line")
    return Parsed(tuple(entries))


def _read(line: str, members: tuple[int, ...]) -> Entry:
    """``_parse_env_file`` on one assembled line."""
    key = line.lstrip(_BLANKS)
    if key.startswith("#"):
        return Entry(members, "ignored")
    if key.startswith("export "):
        key = key[7:]
    end = len(key)
    for stop in ("\n", "#", "\0"):
        found = key.find(stop)
        if found >= 0:
            end = min(end, found)
    key = key[:end]
    if key.startswith("="):
        return Entry(members, "ignored")
    name, equals, value = key.partition("=")
    if not _READER_KEY.fullmatch(name):
        return Entry(members, "ignored")
    if not equals:
        return Entry(members, "unset", name) if name else Entry(members, "ignored")
    if value[:1] in ("'", '"'):
        body = value[1:]
        value = body[:-1] if body[-1:] in ("'", '"') else body
    return Entry(members, "set", name, value)


def environment(text: str | None) -> dict[str, str]:
    """What a login session gets from the file: the last definition of each key wins."""
    env: dict[str, str] = {}
    for entry in parse(text or "").entries:
        if entry.kind == "set":
            env[entry.key] = entry.value
        elif entry.kind == "unset":
            env.pop(entry.key, None)
    return env


def get_value(text: str | None, key: str) -> str | None:
    """The value a login session sees for ``key`` (None: unset)."""
    return environment(text).get(key)


def definitions(text: str | None, key: str) -> list[str]:
    """Every value ``text`` gives ``key``, in order (the last is the one a session sees,
    unless a later line unsets it)."""
    return [e.value for e in parse(text or "").entries if e.kind == "set" and e.key == key]


def format_line(key: str, value: str) -> str:
    """The line envsetup writes, without its LF; refuses what pam_env cannot read back."""
    if not KEY_RE.fullmatch(key):
        raise ValueError(f"'{key}' is not a valid environment variable name")
    for char, name in (("\n", "a newline"), ("\r", "a carriage return"), ("\0", "a NUL byte")):
        if char in value:
            raise ValueError(f"the value for {key} may not contain {name}")
    if "#" in value:
        raise ValueError(f"the value for {key} may not contain '#': pam_env ends the line there")
    line = f'{key}="{value}"'
    if len(line) + 1 > BUF_SIZE - 1:
        raise ValueError(f"the line for {key} is longer than pam_env reads ({BUF_SIZE} bytes)")
    return line


def set_var(text: str | None, key: str, value: str) -> str:
    """``text`` changed so that pam_env reads ``key`` as ``value``; unchanged if it does."""
    line = format_line(key, value) + "\n"
    if text is not None and get_value(text, key) == value:
        return text
    source = text or ""
    lines = physical_lines(source)
    parsed = parse(source)
    mine = [entry for entry in parsed.entries if entry.key == key and entry.kind != "ignored"]
    candidates: list[list[str]] = []
    if mine and len(mine[-1].lines) == 1:  # the definition the reader sees now: in place
        at = mine[-1].lines[0]
        candidates.append(lines[:at] + [line] + lines[at + 1 :])
    end = parsed.stopped_at if parsed.stopped_at is not None else len(lines)
    after = mine[-1].lines[-1] + 1 if mine else 0
    # at the end of what is read, else right after an earlier line (never before ``key``'s)
    boundaries = [e.lines[-1] + 1 for e in reversed(parsed.entries) if e.lines[-1] >= after]
    for position in list(dict.fromkeys([end, *boundaries, after]))[:MAX_PLACES]:
        head = lines[:position]
        if head and not head[-1].endswith("\n"):
            head = head[:-1] + [head[-1] + "\n"]
        candidates.append(head + [line] + lines[position:])
    return _first_faithful(source, candidates, key, value, parsed)


def unset_var(text: str | None, key: str) -> str | None:
    """``text`` changed so that pam_env does not set ``key``; a missing file stays missing."""
    if text is None:
        return None
    before = environment(text)
    if key not in before:
        return text
    lines = physical_lines(text)
    parsed = parse(text)
    drop = {i for e in parsed.entries if e.key == key and e.kind == "set" for i in e.lines}
    kept = [line for index, line in enumerate(lines) if index not in drop]
    return _first_faithful(text, [kept], key, None, parsed)


def _first_faithful(
    source: str, candidates: list[list[str]], key: str, value: str | None, parsed: Parsed
) -> str:
    """The first candidate the reader sees as wanted: ``key`` as ``value`` (None: unset)
    and every other key as before."""
    others = {k: v for k, v in environment(source).items() if k != key}
    for lines in candidates:
        text = "".join(lines)
        env = environment(text)
        if env.get(key) == value and {k: v for k, v in env.items() if k != key} == others:
            return text
    raise EditRefused(_why_not(key, parsed))


def _why_not(key: str, parsed: Parsed) -> str:
    if parsed.stopped_at is not None:
        return (
            f"pam_env stops reading at line {parsed.stopped_at + 1} ({parsed.why}), "
            f"before any line envsetup could write {key} on; fix that line first"
        )
    for entry in parsed.entries:
        if entry.key == key and len(entry.lines) > 1:
            first, last = entry.lines[0] + 1, entry.lines[-1] + 1
            return (
                f"{key} is set by lines {first}-{last}, joined by backslashes; "
                "write it on one line, then run again"
            )
    return f"no place in the file makes pam_env read {key} as wanted"

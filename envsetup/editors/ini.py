"""Keys in INI files, following the rules WSL applies to /etc/wsl.conf.

* only ``#`` at the start of a line starts a comment (``;`` is an ordinary character);
* section and key names compare case-insensitively;
* a key that appears twice in a section: the first one wins, so that is the one edited,
  and later duplicates are removed;
* lines are otherwise kept byte for byte, in order.
"""

from __future__ import annotations

import re

SECTION_RE = re.compile(r"^[ \t]*\[([^\]]*)\][ \t]*$")
KEY_RE = re.compile(r"^([ \t]*)([A-Za-z0-9_.-]+)([ \t]*=[ \t]*)(.*?)([ \t]*)$")
NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")


def _strip(line: str) -> tuple[str, str]:
    body = line.rstrip("\r\n")
    return body, line[len(body) :]


def _sections(lines: list[str]) -> list[str | None]:
    """For each line, the lower-cased section it belongs to (None before any header)."""
    current: str | None = None
    owners: list[str | None] = []
    for line in lines:
        body, _ = _strip(line)
        match = SECTION_RE.match(body)
        if match:
            current = match.group(1).strip().lower()
        owners.append(current)
    return owners


def _key_of(line: str) -> str | None:
    body, _ = _strip(line)
    if body.lstrip().startswith("#") or SECTION_RE.match(body):
        return None
    match = KEY_RE.match(body)
    return match.group(2).lower() if match else None


def _validate(section: str, key: str, value: str) -> None:
    for what, name in (("section", section), ("key", key)):
        if not NAME_RE.fullmatch(name):
            raise ValueError(f"invalid INI {what} name {name!r}")
    if any(ch in value for ch in "\n\r\x00"):
        raise ValueError(f"the value for {section}.{key} may not contain newlines")


def set_key(text: str | None, section: str, key: str, value: str) -> str:
    """Set ``key=value`` in ``[section]``: in place if present, else added to the section."""
    _validate(section, key, value)
    lines = (text or "").splitlines(keepends=True)
    owners = _sections(lines)
    sec, name = section.lower(), key.lower()
    out: list[str] = []
    done = False
    for line, owner in zip(lines, owners):
        if owner == sec and _key_of(line) == name:
            if done:
                continue  # a later duplicate: WSL ignores it, and so it goes
            body, ending = _strip(line)
            match = KEY_RE.match(body)
            assert match is not None
            indent, spelled, equals = match.group(1), match.group(2), match.group(3)
            out.append(f"{indent}{spelled}{equals}{value}{ending or chr(10)}")
            done = True
        else:
            out.append(line)
    if done:
        return "".join(out)
    headers = [i for i, owner in enumerate(owners) if owner == sec and _is_header(lines[i])]
    if headers:
        position = _end_of_block(lines, headers[0])
        ending = "\n"
        if position and not out[position - 1].endswith(("\n", "\r")):
            out[position - 1] += "\n"
        out.insert(position, f"{key}={value}{ending}")
        return "".join(out)
    if out and not out[-1].endswith(("\n", "\r")):
        out[-1] += "\n"
    if out and out[-1].strip():
        out.append("\n")
    out.extend([f"[{section}]\n", f"{key}={value}\n"])
    return "".join(out)


def _is_header(line: str) -> bool:
    return SECTION_RE.match(_strip(line)[0]) is not None


def _end_of_block(lines: list[str], header: int) -> int:
    """Index just after the last key line of the block that starts at ``header``."""
    last = header
    for index in range(header + 1, len(lines)):
        if _is_header(lines[index]):
            break
        if _key_of(lines[index]) is not None:
            last = index
    return last + 1


def unset_key(text: str | None, section: str, key: str) -> str | None:
    """Remove every ``key`` line of ``[section]``."""
    if text is None:
        return None
    lines = text.splitlines(keepends=True)
    sec, name = section.lower(), key.lower()
    return "".join(
        line
        for line, owner in zip(lines, _sections(lines))
        if not (owner == sec and _key_of(line) == name)
    )


def get_key(text: str, section: str, key: str) -> str | None:
    """The value WSL would read: the first occurrence of the key in the section."""
    lines = text.splitlines(keepends=True)
    sec, name = section.lower(), key.lower()
    for line, owner in zip(lines, _sections(lines)):
        if owner == sec and _key_of(line) == name:
            match = KEY_RE.match(_strip(line)[0])
            assert match is not None
            return match.group(4)
    return None

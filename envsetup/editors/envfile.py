"""``KEY="value"`` lines in an environment file such as /etc/environment (pam_env format)."""

from __future__ import annotations

import re

KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _line_re(key: str) -> re.Pattern[str]:
    return re.compile(rf"^[ \t]*(export[ \t]+)?{re.escape(key)}[ \t]*=")


def format_line(key: str, value: str) -> str:
    """The canonical line; pam_env has no escapes, so quotes and newlines are refused."""
    if not KEY_RE.fullmatch(key):
        raise ValueError(f"'{key}' is not a valid environment variable name")
    if any(ch in value for ch in '"\n\r\x00'):
        raise ValueError(f"the value for {key} may not contain double quotes or newlines")
    return f'{key}="{value}"'


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def set_var(text: str | None, key: str, value: str) -> str:
    """Set ``KEY="value"``: replace the first KEY line in place, drop later ones, else append."""
    wanted = format_line(key, value)
    lines = (text or "").splitlines(keepends=True)
    pattern = _line_re(key)
    out: list[str] = []
    found = False
    for line in lines:
        match = pattern.match(line)
        if not match:
            out.append(line)
        elif not found:
            found = True
            prefix = match.group(1) or ""
            out.append(f"{prefix}{wanted}{_ending(line) or chr(10)}")
        # later duplicates are dropped
    if not found:
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += "\n"
        out.append(wanted + "\n")
    return "".join(out)


def unset_var(text: str | None, key: str) -> str | None:
    """Remove every KEY line; everything else stays. A missing file stays missing."""
    if text is None:
        return None
    pattern = _line_re(key)
    return "".join(line for line in text.splitlines(keepends=True) if not pattern.match(line))


def get_values(text: str, key: str) -> list[str]:
    """The values of every KEY line, unquoted (for checks and doctor)."""
    pattern = _line_re(key)
    values = []
    for line in text.splitlines():
        if pattern.match(line):
            value = line.split("=", 1)[1].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values.append(value)
    return values

from __future__ import annotations

import shlex
from typing import Any, ClassVar

from envsetup.checks.file import MAX_BYTES
from envsetup.editors import ini
from envsetup.kinds import Field, ProbeResult
from envsetup.probes import unreadable

ABSENT = "@@envsetup-absent@@"


class IniCheck:
    """What WSL gets for a key of /etc/wsl.conf, read as WSL's own parser reads it (the first
    occurrence wins, nothing after an invalid line is read, booleans by meaning: ``1`` is
    ``true``; see ``envsetup.editors.ini``). Not a regex over the file."""

    name: ClassVar[str] = "ini"
    fields: ClassVar[dict[str, Field]] = {
        "path": Field("str", required=True, doc="the INI file"),
        "section": Field("str", required=True, doc="section name"),
        "key": Field("str", required=True, doc="key name"),
        "value": Field(
            "str", required=True, doc="expected value (booleans by meaning, others exactly)"
        ),
    }

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        path = shlex.quote(args["path"])
        return f"if [ -f {path} ]; then head -c {MAX_BYTES} {path}; else echo {ABSENT}; fi"

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        where = f"[{args['section']}] {args['key']} in {args['path']}"
        if output.strip() == ABSENT:
            return ProbeResult("failed", f"{args['path']} does not exist")
        value = ini.get_key(output, args["section"], args["key"])
        if not ini.same_value(value, args["value"]):
            parsed = ini.parse(output)
            seen = "is not set" if value is None else f"reads as {value!r}"
            why = ""
            if parsed.stopped_at is not None:
                why = f"; WSL stops reading at line {parsed.stopped_at + 1} ({parsed.why})"
            return ProbeResult("failed", f"{where} {seen}, expected {args['value']!r}{why}")
        return ProbeResult("ok", f"{where} reads as {value}")

    @staticmethod
    def needs_root(args: dict[str, Any]) -> tuple[str, str] | None:
        """When the login cannot answer without root: a shell condition, and why."""
        return unreadable(args["path"], True), f"{args['path']} cannot be read without root"

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"[{args['section']}] {args['key']}={args['value']} in {args['path']}"

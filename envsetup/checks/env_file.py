from __future__ import annotations

import base64
import shlex
from typing import Any, ClassVar

from envsetup.checks.file import MAX_BYTES
from envsetup.editors import envfile
from envsetup.kinds import Field, ProbeResult

ABSENT = "@@envsetup-absent@@"


class EnvFileCheck:
    """What a login session gets for ``key`` from an environment file, read as pam_env
    reads /etc/environment (the last definition wins, ``export NAME`` unsets, ``#`` ends
    a line, CR is data; see ``envsetup.editors.envfile``). Not a regex over the file."""

    name: ClassVar[str] = "env_file"
    fields: ClassVar[dict[str, Field]] = {
        "key": Field("str", required=True, doc="variable name"),
        "value": Field("str", default="", doc="the value a login session must get"),
        "path": Field("str", default="/etc/environment", doc="the environment file"),
        "present": Field(
            "bool", default=True, doc="false: a login session must not get the variable at all"
        ),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        if not envfile.KEY_RE.fullmatch(args["key"]):
            raise ValueError(f"'{args['key']}' is not a valid environment variable name")

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        path = shlex.quote(args["path"])  # base64: every byte as pam_env gets it
        read = f"head -c {MAX_BYTES} {path} | base64 -w0"
        return f"if [ -f {path} ]; then {read}; else echo {ABSENT}; fi"

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        key, path = args["key"], args["path"]
        if status != 0:
            return ProbeResult("failed", f"could not read {path}: {output.strip()[-200:]}")
        text = None
        if output.strip() != ABSENT:
            text = base64.b64decode(output.strip()).decode("utf-8", errors="surrogateescape")
        seen = envfile.get_value(text, key)
        where = f"{key} in {path}"
        if not args["present"]:
            if seen is None:
                return ProbeResult("ok", f"{where} is unset")
            return ProbeResult("failed", f"{where} reads as {seen!r}, expected it unset")
        if seen is None:
            return ProbeResult("failed", f"{where} is not set (expected {args['value']!r})")
        if seen != args["value"]:
            return ProbeResult("failed", f"{where} reads as {seen!r}, expected {args['value']!r}")
        return ProbeResult("ok", f"{where} reads as {seen}")

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        if not args["present"]:
            return f"{args['key']} unset in {args['path']}"
        return f"{args['key']}={args['value']} as a login reads {args['path']}"

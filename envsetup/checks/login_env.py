from __future__ import annotations

import shlex
from typing import Any, ClassVar

from envsetup.editors.envfile import KEY_RE
from envsetup.kinds import Field, ProbeResult

MARK = "ENVSETUP-LOGIN-ENV:"


class LoginEnvCheck:
    """A fresh login session of ``user`` (``su - USER``) sees ``KEY=value``.

    The shell that ran envsetup does not: it sees the change at the next login,
    or at once after ``set -a; . /etc/environment; set +a``.
    """

    name: ClassVar[str] = "login_env"
    fields: ClassVar[dict[str, Field]] = {
        "user": Field("str", required=True, doc="whose login session"),
        "key": Field("str", required=True, doc="variable name"),
        "value": Field("str", required=True, doc="expected value"),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        if not KEY_RE.fullmatch(args["key"]):
            raise ValueError(f"'{args['key']}' is not a valid environment variable name")

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        key = args["key"]
        if not KEY_RE.fullmatch(key):
            raise ValueError(f"'{key}' is not a valid environment variable name")
        inner = f"printf '{MARK}%s\\n' \"${{{key}-<unset>}}\""
        return f"su - {shlex.quote(args['user'])} -c {shlex.quote(inner)} </dev/null"

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        seen = [line[len(MARK) :] for line in output.splitlines() if line.startswith(MARK)]
        who = f"a login session of {args['user']}"
        if status != 0 or not seen:
            return ProbeResult("failed", f"could not start {who}: {output.strip()[-200:]}")
        value = seen[-1]
        if value != args["value"]:
            return ProbeResult(
                "failed", f"{who} sees {args['key']}={value}, expected {args['value']}"
            )
        return ProbeResult("ok", f"{who} sees {args['key']}={value}")

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"login session of {args['user']} sees {args['key']}={args['value']}"

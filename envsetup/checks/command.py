from __future__ import annotations

import re
from typing import Any, ClassVar

from envsetup.kinds import Field, ProbeResult
from envsetup.owner import as_owner_of


def last_lines(output: str, count: int = 3) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) if lines else "(no output)"


def owned(args: dict[str, Any]) -> str:
    """The check's ``run``, as the owner of ``as_owner_of`` where it names a path."""
    if args.get("as_owner_of"):
        return as_owner_of(args["as_owner_of"], ["sh", "-c", str(args["run"])])
    return str(args["run"])


class CommandCheck:
    """A command exits with the expected status and, optionally, its output matches a regex.

    ``as_owner_of``: a path (a venv, a cache): the command runs as whoever owns it,
    so root never runs what a user may have changed (see ``envsetup.owner``).
    """

    name: ClassVar[str] = "command"
    fields: ClassVar[dict[str, Field]] = {
        "run": Field("shell", required=True, doc="the command (stdout and stderr are read)"),
        "status": Field("int", default=0, doc="expected exit status"),
        "output": Field("str", doc="regex searched for in the output (multi-line)"),
        "as_owner_of": Field(
            "str", doc="run as whoever owns this path (see envsetup.owner), never root there"
        ),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        if args.get("output"):
            re.compile(args["output"])

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        return owned(args)

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        if status != args["status"]:
            return ProbeResult(
                "failed",
                f"expected exit status {args['status']}, found {status}: {last_lines(output)}",
            )
        pattern = args.get("output")
        if pattern and not re.search(pattern, output, re.MULTILINE):
            return ProbeResult(
                "failed", f"expected output matching {pattern!r}, found: {last_lines(output)}"
            )
        return ProbeResult("ok", f"exit status {status}")

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        if args.get("output"):
            return f"`{args['run']}` prints /{args['output']}/"
        return f"`{args['run']}` exits {args['status']}"

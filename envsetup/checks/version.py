from __future__ import annotations

import re
from typing import Any, ClassVar

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from envsetup.checks.command import last_lines, owned
from envsetup.kinds import Field, ProbeResult

_STREAMS = {
    "both": "{ %s; } 2>&1",
    "stdout": "{ %s; } 2>/dev/null",
    "stderr": "{ %s; } 2>&1 >/dev/null",
}


class VersionCheck:
    """A version printed by a command satisfies a specifier.

    ``regex`` is searched in the chosen stream (``java -version`` prints to
    stderr); its first group, or the whole match, is the version, compared with
    ``spec`` (a packaging specifier such as ``>=17,<18``). ``as_owner_of``: a path;
    the command runs as whoever owns it (see the command check).
    """

    name: ClassVar[str] = "version"
    fields: ClassVar[dict[str, Field]] = {
        "run": Field("shell", required=True, doc="the command printing a version"),
        "regex": Field("str", required=True, doc="regex; group 1 (or the match) is the version"),
        "spec": Field("str", required=True, doc="version specifier, e.g. '>=17,<18'"),
        "stream": Field(
            "str",
            default="both",
            choices=("both", "stdout", "stderr"),
            doc="where the version is printed (java -version: stderr)",
        ),
        "as_owner_of": Field(
            "str", doc="run as whoever owns this path (see envsetup.owner), never root there"
        ),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        re.compile(args["regex"])
        SpecifierSet(args["spec"])

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        return _STREAMS[args["stream"]] % owned(args)

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        match = re.search(args["regex"], output, re.MULTILINE)
        if not match:
            return ProbeResult(
                "failed",
                f"expected a version {args['spec']} from `{args['run']}`, found none in its "
                f"output: {last_lines(output)}",
            )
        text = match.group(1) if match.groups() else match.group(0)
        try:
            version = Version(text)
        except InvalidVersion:
            return ProbeResult("failed", f"'{text}' is not a version")
        if version not in SpecifierSet(args["spec"]):
            return ProbeResult("failed", f"version {text} does not satisfy {args['spec']}")
        return ProbeResult("ok", f"version {text} satisfies {args['spec']}")

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"`{args['run']}` reports a version {args['spec']}"

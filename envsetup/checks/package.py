from __future__ import annotations

import re
import shlex
from typing import Any, ClassVar

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envsetup.kinds import Field, ProbeResult

_UPSTREAM = re.compile(r"^(?:\d+:)?(\d+(?:\.\d+)*)")


def upstream_version(debian_version: str) -> Version | None:
    """The leading numeric part of a Debian version: '1:17.0.15+6-1~deb12u1' -> 17.0.15."""
    match = _UPSTREAM.match(debian_version)
    return Version(match.group(1)) if match else None


class PackageCheck:
    """A Debian package is installed (or not), optionally within a version specifier.

    The specifier is compared with the upstream part of the Debian version
    (``17.0.15`` of ``17.0.15+6-1~deb12u1``).
    """

    name: ClassVar[str] = "package"
    short: ClassVar[str] = "name"
    fields: ClassVar[dict[str, Field]] = {
        "name": Field("str", required=True, doc="package name"),
        "installed": Field("bool", default=True, doc="whether it should be installed"),
        "version": Field("str", doc="version specifier, e.g. '>=17,<18'"),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        if args.get("version"):
            SpecifierSet(args["version"])

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        fmt = shlex.quote("${db:Status-Status} ${Version}\\n")
        return f"dpkg-query -W -f={fmt} {shlex.quote(args['name'])} 2>/dev/null || true"

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        name = args["name"]
        state, _, version = output.strip().partition(" ")
        installed = state == "installed"
        if not args["installed"]:
            if installed:
                return ProbeResult("failed", f"{name} {version} is installed")
            return ProbeResult("ok", f"{name} is not installed")
        if not installed:
            return ProbeResult("failed", f"{name} is not installed")
        if args.get("version"):
            upstream = upstream_version(version)
            if upstream is None or upstream not in SpecifierSet(args["version"]):
                return ProbeResult("failed", f"{name} {version} does not satisfy {args['version']}")
        return ProbeResult("ok", f"{name} {version} is installed")

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        spec = f" {args['version']}" if args.get("version") else ""
        return f"package {args['name']}{spec} {'installed' if args['installed'] else 'absent'}"

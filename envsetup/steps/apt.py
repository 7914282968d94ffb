from __future__ import annotations

import re
from typing import Any, ClassVar

from envsetup.kinds import Action, Field, Implied, Op, StepContext

# Debian policy 5.6.1/5.6.12: names are [a-z0-9][a-z0-9+.-]+; a version may be pinned
PACKAGE_RE = re.compile(r"[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+:~-]+)?")


class Apt:
    """Install or remove Debian packages with apt.

    ``apt-get update`` runs only when a package has to be installed and the
    package lists are older than ``cache_time`` seconds, so a converged host
    never touches the network.
    """

    name: ClassVar[str] = "apt"
    short: ClassVar[str] = "packages"
    fields: ClassVar[dict[str, Field]] = {
        "packages": Field(
            "str_list",
            required=True,
            doc="package names; NAME=VERSION pins a version",
            example=["openjdk-17-jdk", "curl"],
        ),
        "present": Field("bool", default=True, doc="install (true) or remove (false)"),
        "update": Field(
            "bool",
            default=True,
            doc="run apt-get update first when the lists are older than cache_time",
        ),
        "cache_time": Field(
            "int", default=3600, doc="seconds for which package lists count as fresh", example=86400
        ),
        "no_recommends": Field(
            "bool", default=False, doc="skip recommended packages (--no-install-recommends)"
        ),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        for package in args["packages"]:
            if not PACKAGE_RE.fullmatch(package):
                raise ValueError(f"{package!r} is not a Debian package name (NAME or NAME=VERSION)")
        return Op("envsetup.ops.apt_packages", dict(args))

    @staticmethod
    def implies(args: dict[str, Any]) -> list[Implied]:
        """Each package installed (or not), as dpkg reports it."""
        return [
            ("package", {"name": package.partition("=")[0], "installed": args["present"]})
            for package in args["packages"]
        ]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        verb = "install" if args["present"] else "remove"
        return f"apt {verb} {' '.join(args['packages'])}"

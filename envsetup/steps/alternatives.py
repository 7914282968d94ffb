from __future__ import annotations

import re
import shlex
from typing import Any, ClassVar

from envsetup.kinds import Action, Field, Implied, Op, StepContext


def _literal(text: str) -> str:
    """``text`` as a regex matching itself (only the characters regexes treat specially)."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


class Alternatives:
    """Point update-alternatives links at the given paths (``update-alternatives --set``).

    ``jinfo`` names a JDK's ``.jinfo`` file (e.g.
    ``/usr/lib/jvm/.java-1.17.0-openjdk-amd64.jinfo``): every tool it lists moves
    to that JDK, as ``update-java-alternatives --set`` does, not only java and javac
    (jar, jshell, javadoc, keytool, jlink, ...). Tools the JDK lists but did not
    register (the GUI ones of a headless JDK) are left alone. Nothing runs when
    every link already points where it should.
    """

    name: ClassVar[str] = "alternatives"
    fields: ClassVar[dict[str, Field]] = {
        "links": Field(
            "str_map",
            default={},
            doc="alternative name -> the path it must point at",
            example={"java": "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"},
        ),
        "jinfo": Field(
            "str",
            doc="a JDK's .jinfo file: every tool it lists moves to that JDK",
            example="/usr/lib/jvm/.java-1.17.0-openjdk-amd64.jinfo",
        ),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        links = dict(args.get("links") or {})
        jinfo = args.get("jinfo")
        if not links and not jinfo:
            raise ValueError("give links, jinfo, or both")
        if jinfo is not None and not (jinfo.startswith("/") and jinfo.endswith(".jinfo")):
            raise ValueError(f"jinfo: expected the full path of a .jinfo file, got {jinfo!r}")
        for name, path in links.items():
            if not name or "/" in name or not path.startswith("/"):
                raise ValueError(f"alternative {name!r} -> {path!r}: need a name and a full path")
        return Op("envsetup.ops.alternatives", {"links": links, "jinfo": jinfo})

    @staticmethod
    def implies(args: dict[str, Any]) -> list[Implied]:
        """update-alternatives reports each link pointing at its path."""
        return [
            (
                "command",
                {
                    "run": f"update-alternatives --query {shlex.quote(name)}",
                    "output": f"^Value: {_literal(path)}$",
                },
            )
            for name, path in (args.get("links") or {}).items()
        ]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        parts = [f"{name} -> {path}" for name, path in (args.get("links") or {}).items()]
        if args.get("jinfo"):
            parts.insert(0, f"every tool listed in {args['jinfo']}")
        return ", ".join(parts)

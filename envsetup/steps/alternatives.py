from __future__ import annotations

from typing import Any, ClassVar

from envsetup.kinds import Action, Field, Op, StepContext


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
        "links": Field("str_map", default={}, doc="alternative name -> target path"),
        "jinfo": Field("str", doc="a JDK's .jinfo file: every tool it lists"),
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
    def describe(args: dict[str, Any]) -> str:
        parts = [f"{name} -> {path}" for name, path in (args.get("links") or {}).items()]
        if args.get("jinfo"):
            parts.insert(0, f"every tool listed in {args['jinfo']}")
        return ", ".join(parts)

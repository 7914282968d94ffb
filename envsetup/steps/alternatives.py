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

    Nothing runs when a link already points there.
    """

    name: ClassVar[str] = "alternatives"
    fields: ClassVar[dict[str, Field]] = {
        "links": Field(
            "str_map",
            required=True,
            doc="alternative name -> the path it must point at",
            example={"java": "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"},
        ),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        for name, path in args["links"].items():
            if not name or "/" in name or not path.startswith("/"):
                raise ValueError(f"alternative {name!r} -> {path!r}: need a name and a full path")
        return Op("envsetup.ops.alternatives", {"links": dict(args["links"])})

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
            for name, path in args["links"].items()
        ]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return ", ".join(f"{name} -> {path}" for name, path in args["links"].items())

from __future__ import annotations

from typing import Any, ClassVar

from envsetup.kinds import Action, Field, Op, StepContext


class Alternatives:
    """Point update-alternatives links at the given paths (``update-alternatives --set``).

    Nothing runs when a link already points there.
    """

    name: ClassVar[str] = "alternatives"
    fields: ClassVar[dict[str, Field]] = {
        "links": Field("str_map", required=True, doc="alternative name -> target path"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        for name, path in args["links"].items():
            if not name or "/" in name or not path.startswith("/"):
                raise ValueError(f"alternative {name!r} -> {path!r}: need a name and a full path")
        return Op("envsetup.ops.alternatives", {"links": dict(args["links"])})

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return ", ".join(f"{name} -> {path}" for name, path in args["links"].items())

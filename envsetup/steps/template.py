from __future__ import annotations

from typing import Any, ClassVar

from envsetup.kinds import Action, Field, FileEdit, Implied, StepContext
from envsetup.templates import render_file


class Template:
    """A file rendered from a jinja2 template in the recipe's directory.

    Rendering is sandboxed with strict undefined names; the template path may not
    leave the recipe's directory. The mode is explicit.
    """

    name: ClassVar[str] = "template"
    fields: ClassVar[dict[str, Field]] = {
        "src": Field(
            "str", required=True, doc="template file, relative to the recipe", example="app.conf.j2"
        ),
        "dest": Field("str", required=True, doc="absolute path on the target"),
        "mode": Field("mode", required=True, doc="file mode, e.g. '0644'"),
        "owner": Field("str", default="root", doc="file owner"),
        "group": Field("str", default="root", doc="file group"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        if not args["dest"].startswith("/"):
            raise ValueError(f"dest must be an absolute path, got {args['dest']!r}")
        content = render_file(ctx.recipe_dir, args["src"], ctx.variables)
        return FileEdit(
            args["dest"], lambda _old: content, args["mode"], args["owner"], args["group"]
        )

    @staticmethod
    def implies(args: dict[str, Any]) -> list[Implied]:
        """The file exists with its mode and owner."""
        return [("file", {"path": args["dest"], "mode": args["mode"], "owner": args["owner"]})]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"{args['dest']} from {args['src']} (mode {args['mode']})"

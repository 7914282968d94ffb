from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from envsetup.editors import envfile
from envsetup.kinds import Action, Field, FileEdit, Implied, StepContext


class EnvFile:
    """``KEY`` as a login session reads it from an environment file such as /etc/environment.

    The file is read as pam_env reads it (see ``envsetup.editors.envfile``). When a login
    already gets the value, nothing changes. Otherwise the definition pam_env uses now
    is replaced by ``KEY="value"`` in place, or the line is added where pam_env reads it
    last; ``present: false`` removes the lines that set KEY. Every other byte is kept.
    """

    name: ClassVar[str] = "env_file"
    fields: ClassVar[dict[str, Field]] = {
        "key": Field("str", required=True, doc="variable name", example="JAVA_HOME"),
        "value": Field(
            "str", default="", doc="value, written in double quotes; no '#', CR or LF"
        ),
        "path": Field("str", default="/etc/environment", doc="the environment file"),
        "present": Field("bool", default=True, doc="set (true) or remove (false) the line"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        envfile.format_line(args["key"], args["value"])  # validates before anything runs
        edit: Callable[[str | None], str | None]
        if args["present"]:
            edit = partial(envfile.set_var, key=args["key"], value=args["value"])
        else:
            edit = partial(envfile.unset_var, key=args["key"])
        return FileEdit(args["path"], edit)

    @staticmethod
    def implies(args: dict[str, Any]) -> list[Implied]:
        """A login session reads KEY as set (or not at all)."""
        keys = ("key", "value", "path", "present")
        return [("env_file", {key: args[key] for key in keys})]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        if args["present"]:
            return f'{args["key"]}="{args["value"]}" in {args["path"]}'
        return f"no {args['key']} line in {args['path']}"

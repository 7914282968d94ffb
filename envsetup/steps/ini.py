from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from envsetup.editors import ini
from envsetup.kinds import Action, Field, FileEdit, StepContext


class Ini:
    """One key in an INI file (WSL's rules: ``#`` comments, case-insensitive names).

    The key is set in place where it exists, later duplicates in the section are
    removed, a missing section is appended; everything else is kept byte for byte.
    """

    name: ClassVar[str] = "ini"
    fields: ClassVar[dict[str, Field]] = {
        "path": Field("str", required=True, doc="the INI file"),
        "section": Field("str", required=True, doc="section name, without brackets"),
        "key": Field("str", required=True, doc="key name"),
        "value": Field("str", default="", doc="value"),
        "present": Field("bool", default=True, doc="set (true) or remove (false) the key"),
        "mode": Field("mode", default="0644", doc="mode when the file is created"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        section, key, value = args["section"], args["key"], args["value"]
        ini.set_key("", section, key, value)  # validates names and value
        edit: Callable[[str | None], str | None]
        if args["present"]:
            edit = partial(ini.set_key, section=section, key=key, value=value)
        else:
            edit = partial(ini.unset_key, section=section, key=key)
        return FileEdit(args["path"], edit, mode=args["mode"])

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        where = f"[{args['section']}] in {args['path']}"
        if args["present"]:
            return f"{args['key']}={args['value']} {where}"
        return f"no {args['key']} {where}"

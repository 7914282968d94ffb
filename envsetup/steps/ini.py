from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from envsetup.editors import ini
from envsetup.kinds import Action, Field, FileEdit, Implied, StepContext


class Ini:
    """One key of /etc/wsl.conf as WSL's own parser reads it (see ``envsetup.editors.ini``).

    When WSL already reads the value (``systemd=1`` is ``true``), nothing changes.
    Otherwise the occurrence WSL reads is changed in place, keeping its comment; or the
    key is added to the section's first block; or the section is added where WSL reads
    it, before any line that would stop its parser. Every other byte is kept.
    """

    name: ClassVar[str] = "ini"
    fields: ClassVar[dict[str, Field]] = {
        "path": Field("str", required=True, doc="the INI file", example="/etc/wsl.conf"),
        "section": Field(
            "str", required=True, doc="section name, without brackets", example="boot"
        ),
        "key": Field("str", required=True, doc="key name: a letter, then letters and digits"),
        "value": Field("str", default="", doc="value; no '#', quotes, backslashes or breaks"),
        "present": Field("bool", default=True, doc="set (true) or remove (false) the key"),
        "mode": Field("mode", default="0644", doc="mode when the file is created"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        section, key, value = args["section"], args["key"], args["value"]
        ini.validate(section, key, value)
        edit: Callable[[str | None], str | None]
        if args["present"]:
            edit = partial(ini.set_key, section=section, key=key, value=value)
        else:
            edit = partial(ini.unset_key, section=section, key=key)
        return FileEdit(args["path"], edit, create_mode=args["mode"])

    @staticmethod
    def implies(args: dict[str, Any]) -> list[Implied]:
        """The reader sees the value (a removed key has no check of its own)."""
        if not args["present"]:
            return []
        keys = ("path", "section", "key", "value")
        return [("ini", {key: args[key] for key in keys})]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        where = f"[{args['section']}] in {args['path']}"
        if args["present"]:
            return f"{args['key']}={args['value']} {where}"
        return f"no {args['key']} {where}"

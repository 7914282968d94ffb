from __future__ import annotations

from typing import Any, ClassVar

from envsetup.kinds import Action, Field, Op, StepContext


class Shell:
    """A shell command for what no other kind covers, guarded so it runs only when needed.

    ``creates``: skip when this path exists. ``unless``: skip when this command
    succeeds. Values interpolated into ``run`` and ``unless`` are shell-quoted.
    ``as_owner_of``: a path; ``run`` runs as whoever owns it (see ``envsetup.owner``),
    e.g. removing a user's venv as that user, never as root in the user's directory.
    """

    name: ClassVar[str] = "shell"
    fields: ClassVar[dict[str, Field]] = {
        "run": Field("shell", required=True, doc="the command"),
        "creates": Field("str", doc="skip when this path exists"),
        "unless": Field("shell", doc="skip when this command exits 0"),
        "as_owner_of": Field("str", doc="run as whoever owns this path, never root there"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        if not args.get("creates") and not args.get("unless"):
            raise ValueError("a shell step needs a guard: 'creates' or 'unless'")
        if args.get("as_owner_of") and not args["as_owner_of"].startswith("/"):
            raise ValueError(f"as_owner_of must be an absolute path, got {args['as_owner_of']!r}")
        return Op("envsetup.ops.guarded_shell", dict(args))

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return str(args["run"])

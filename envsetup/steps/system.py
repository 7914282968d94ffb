"""System accounts and systemd services, through pyinfra's own operations."""

from __future__ import annotations

import re
import shlex
from typing import Any, ClassVar

from envsetup.kinds import Action, Field, Implied, Op, StepContext

# useradd's default NAME_REGEX on Debian and Ubuntu
ACCOUNT_RE = re.compile(r"[a-z_][a-z0-9_-]*[$]?")
UNIT_RE = re.compile(r"[A-Za-z0-9:_.@-]+")


def _getent(database: str, name: str, present: bool) -> Implied:
    return (
        "command",
        {"run": f"getent {database} {shlex.quote(name)}", "status": 0 if present else 2},
    )


def _literal(text: str) -> str:
    """``text`` as a regex matching itself."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def _account(name: str) -> str:
    if not ACCOUNT_RE.fullmatch(name) or len(name) > 32:
        raise ValueError(f"{name!r} is not a user or group name")
    return name


class Group:
    """A group exists (or not); ``system`` makes a system group."""

    name: ClassVar[str] = "group"
    fields: ClassVar[dict[str, Field]] = {
        "name": Field("str", required=True, doc="the group"),
        "system": Field("bool", default=False, doc="a system group (groupadd -r)"),
        "present": Field("bool", default=True, doc="create (true) or delete (false)"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        kwargs = {"group": _account(args["name"]), "present": args["present"]}
        return Op("server.group", {**kwargs, "system": args["system"]})

    @staticmethod
    def implies(args: dict[str, Any]) -> list[Implied]:
        """The group database has the group (or not)."""
        return [_getent("group", args["name"], args["present"])]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        kind = "system group" if args["system"] else "group"
        return f"{kind} {args['name']} {'present' if args['present'] else 'absent'}"


class User:
    """A user exists with a home, shell, primary group and (added) groups; or it does not.

    Only the settings given are managed, and ``groups`` are added to the user's
    groups, never taking any away. An existing user just gains the groups.
    """

    name: ClassVar[str] = "user"
    fields: ClassVar[dict[str, Field]] = {
        "name": Field("str", required=True, doc="the user"),
        "present": Field("bool", default=True, doc="create (true) or delete (false)"),
        "system": Field("bool", default=False, doc="a system user (useradd -r)"),
        "home": Field("str", doc="home directory, created when missing"),
        "shell": Field("str", doc="login shell"),
        "group": Field("str", doc="primary group"),
        "groups": Field("str_list", default=[], doc="groups the user joins"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        kwargs: dict[str, Any] = {"user": _account(args["name"]), "present": args["present"]}
        if args["present"]:
            kwargs.update(system=args["system"], append=True)
            kwargs["groups"] = [_account(group) for group in args["groups"]] or None
            if args.get("group"):
                kwargs["group"] = _account(args["group"])
            for key in ("home", "shell"):
                if args.get(key):
                    if not args[key].startswith("/"):
                        raise ValueError(f"{key} must be an absolute path, got {args[key]!r}")
                    kwargs[key] = args[key]
            kwargs["create_home"] = bool(args.get("home"))
            kwargs["ensure_home"] = bool(args.get("home"))
        return Op("server.user", kwargs)

    @staticmethod
    def implies(args: dict[str, Any]) -> list[Implied]:
        """The user database has the user (or not), with its home and shell when given."""
        check = _getent("passwd", args["name"], args["present"])
        home, shell = args.get("home"), args.get("shell")
        if args["present"] and (home or shell):
            ending = f":{_literal(home or '')}:" if home else ":[^:]*:"
            check[1]["output"] = ending[:-1] + (f":{_literal(shell)}$" if shell else ":[^:]*$")
        return [check]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        if not args["present"]:
            return f"user {args['name']} absent"
        details = [f"home {args['home']}"] if args.get("home") else []
        if args["groups"]:
            details.append(f"in {', '.join(args['groups'])}")
        kind = "system user" if args["system"] else "user"
        return f"{kind} {args['name']}" + (f" ({'; '.join(details)})" if details else "")


class Service:
    """A systemd unit is running (or stopped) and enabled (or disabled) at boot."""

    name: ClassVar[str] = "service"
    fields: ClassVar[dict[str, Field]] = {
        "name": Field("str", required=True, doc="the unit, e.g. ollama.service"),
        "running": Field("bool", default=True, doc="started (true) or stopped (false)"),
        "enabled": Field("bool", default=True, doc="enabled at boot (true) or disabled"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        if not UNIT_RE.fullmatch(args["name"]):
            raise ValueError(f"{args['name']!r} is not a systemd unit name")
        kwargs = {"service": args["name"], "running": args["running"], "enabled": args["enabled"]}
        return Op("systemd.service", kwargs)

    @staticmethod
    def implies(args: dict[str, Any]) -> list[Implied]:
        """systemd reports the unit active (or inactive) and enabled (or not)."""
        unit = shlex.quote(args["name"])
        active: dict[str, Any] = {"run": f"systemctl is-active {unit}"}
        active.update({"output": "^active$"} if args["running"] else {"status": 3})
        enabled: dict[str, Any] = {"run": f"systemctl is-enabled {unit}", "output": "^enabled$"}
        if not args["enabled"]:
            enabled = {
                "run": f"systemctl is-enabled {unit} || true",
                "output": "^(disabled|masked|not-found)$|No such file",
            }
        return [("command", enabled), ("command", active)]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        running = "running" if args["running"] else "stopped"
        enabled = "enabled" if args["enabled"] else "disabled"
        return f"systemd unit {args['name']} {running} and {enabled}"

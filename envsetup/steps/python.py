from __future__ import annotations

import re
import shlex
from typing import Any, ClassVar

from envsetup.kinds import Action, Field, Op, StepContext

USER_RE = re.compile(r"[a-z_][a-z0-9_-]*[$]?")


def _check_user(user: str | None) -> None:
    if user and not USER_RE.fullmatch(user):
        raise ValueError(f"{user!r} is not a user name")


def _check_path(path: str, what: str) -> None:
    if not path.startswith("/"):
        raise ValueError(f"{what} must be an absolute path, got {path!r}")


class Venv:
    """A Python virtual environment, created as its user (no root-owned files in a home).

    An existing venv is never recreated.
    """

    name: ClassVar[str] = "venv"
    fields: ClassVar[dict[str, Field]] = {
        "path": Field("str", required=True, doc="where the venv lives"),
        "user": Field("str", default="root", doc="who owns it"),
        "python": Field("str", default="python3", doc="the interpreter that creates it"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        _check_path(args["path"], "path")
        _check_user(args["user"])
        return Op("envsetup.ops.venv", dict(args))

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"venv {args['path']} owned by {args['user']}"


class Pip:
    """Requirements installed in a venv with pip, only those it does not satisfy yet.

    ``options`` are passed to pip (e.g. ``--find-links DIR``, ``--index-url URL``).
    After an install, ``pip freeze`` is recorded in ``<venv>/envsetup-installed.txt``.
    """

    name: ClassVar[str] = "pip"
    fields: ClassVar[dict[str, Field]] = {
        "venv": Field("str", required=True, doc="the virtual environment"),
        "requirements": Field("str_list", required=True, doc="e.g. 'transformers>=4.40'"),
        "user": Field("str", default="root", doc="who runs pip (the venv's owner)"),
        "options": Field("str_list", default=[], doc="extra pip options"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        # rendering needs it, validating a recipe (``envsetup list``) does not
        from packaging.requirements import InvalidRequirement, Requirement

        _check_path(args["venv"], "venv")
        _check_user(args["user"])
        for text in args["requirements"]:
            try:
                requirement = Requirement(text)
            except InvalidRequirement as exc:
                raise ValueError(f"{text!r} is not a requirement: {exc}") from None
            if requirement.url:
                raise ValueError(f"{text!r}: URL requirements are not allowed")
        for option in args["options"]:
            if not option.lstrip().startswith("-"):
                raise ValueError(f"pip option {option!r} must start with '-'")
        options = [token for option in args["options"] for token in shlex.split(option)]
        return Op(
            "envsetup.ops.pip_packages",
            {
                "venv": args["venv"],
                "requirements": list(args["requirements"]),
                "user": args["user"],
                "options": options,
            },
        )

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"pip install {' '.join(args['requirements'])} in {args['venv']}"

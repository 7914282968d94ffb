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


_INSTALLER_FIELDS = {
    "installer": Field("str", default="pip", doc="pip (the venv's own) or uv"),
    "uv": Field("str", default="", doc="uv's path, for installer uv (see the uv step kind)"),
}


def _installer(args: dict[str, Any]) -> dict[str, Any]:
    installer = args.get("installer", "pip")
    if installer not in ("pip", "uv"):
        raise ValueError(f"installer {installer!r} is not pip or uv")
    if installer == "uv":
        _check_path(args.get("uv", ""), "uv")
        return {"installer": "uv", "uv": args["uv"]}
    return {"installer": "pip", "uv": None}


def _options(options: list[str], tool: str) -> list[str]:
    for option in options:
        if not option.lstrip().startswith("-"):
            raise ValueError(f"{tool} option {option!r} must start with '-'")
    return [token for option in options for token in shlex.split(option)]


class Venv:
    """A Python virtual environment, created as its owner (no root-owned files in a home).

    Everything runs as whoever owns the ground (the outermost non-root owner of the
    path or a directory above it), as ``user`` only where root owns it all. With
    ``installer: uv``, ``uv venv`` makes it and uv puts pip in it (``options`` are
    uv's). An existing venv is never recreated.
    """

    name: ClassVar[str] = "venv"
    fields: ClassVar[dict[str, Field]] = {
        "path": Field("str", required=True, doc="where the venv lives"),
        "user": Field("str", default="root", doc="who owns it"),
        "python": Field("str", default="python3", doc="the interpreter that creates it"),
        **_INSTALLER_FIELDS,
        "options": Field("str_list", default=[], doc="uv options, for installer uv"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        _check_path(args["path"], "path")
        _check_user(args["user"])
        uv = args.get("installer") == "uv"
        options = _options(args.get("options", []), "uv") if uv else []
        return Op(
            "envsetup.ops.venv",
            {
                "path": args["path"],
                "user": args["user"],
                "python": args.get("python", "python3"),
                **_installer(args),
                "options": options,
            },
        )

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        how = " with uv" if args.get("installer") == "uv" else ""
        return f"venv {args['path']} owned by {args['user']}{how}"


class Uv:
    """uv, pinned, from PyPI into a venv of its own that only root can change.

    Root installs it with pip (``options`` are pip's, e.g. ``--find-links DIR``);
    it then runs only as the owner of the venv it works on. A path that another user
    owns or may write to, itself or a directory above it, is refused.
    """

    name: ClassVar[str] = "uv"
    fields: ClassVar[dict[str, Field]] = {
        "path": Field("str", required=True, doc="uv's own venv, e.g. /opt/envsetup/uv"),
        "version": Field("str", required=True, doc="the uv release, e.g. 0.13.9"),
        "options": Field("str_list", default=[], doc="pip options for installing it"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        _check_path(args["path"], "path")
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", args["version"]):
            raise ValueError(f"uv version {args['version']!r} is not a release like 0.13.9")
        return Op(
            "envsetup.ops.uv_tool",
            {
                "path": args["path"].rstrip("/") or "/",
                "version": args["version"],
                "options": _options(args["options"], "pip"),
            },
        )

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"uv {args['version']} in {args['path']}"


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
        "options": Field("str_list", default=[], doc="extra pip (or uv pip) options"),
        **_INSTALLER_FIELDS,
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
        return Op(
            "envsetup.ops.pip_packages",
            {
                "venv": args["venv"],
                "requirements": list(args["requirements"]),
                "user": args["user"],
                "options": _options(args["options"], "pip"),
                **_installer(args),
            },
        )

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        tool = "uv pip" if args.get("installer") == "uv" else "pip"
        return f"{tool} install {' '.join(args['requirements'])} in {args['venv']}"


class Torch:
    """PyTorch in a venv, the build the machine can run: CPU, or the CUDA build its driver runs.

    ``backend``: ``cpu``; ``cuda`` or ``auto`` choose the CUDA build from the NVIDIA
    driver's version (``driver``, e.g. ``{{ target.nvidia_driver }}``), as uv's
    ``--torch-backend=auto`` does; ``auto`` means CPU without a driver; ``cu128`` and
    the like name one build. The chosen build's index is the only index (an extra
    index would let pip fall back to another build); an exact ``version`` (``==2.13.0``)
    names the build too (``torch==2.13.0+cpu``). An installed torch of another build is
    replaced, so switching between CPU and CUDA really switches.
    """

    name: ClassVar[str] = "torch"
    fields: ClassVar[dict[str, Field]] = {
        "venv": Field("str", required=True, doc="the virtual environment"),
        "user": Field("str", default="root", doc="who installs it (the venv's owner)"),
        "backend": Field("str", default="auto", doc="cpu, cuda, auto, or a build like cu128"),
        "driver": Field("str", default="", doc="the NVIDIA driver's version ('' for none)"),
        "version": Field("str", default="", doc="a version specifier, e.g. ==2.13.0"),
        "cpu_index": Field("str", default="", doc="the CPU builds' index ('' - the installer's)"),
        "cuda_index": Field(
            "str", default="", doc="where CUDA builds are: the build is appended ('' - own index)"
        ),
        "options": Field("str_list", default=[], doc="extra pip (or uv pip) options"),
        **_INSTALLER_FIELDS,
    }

    @staticmethod
    def plan(args: dict[str, Any]) -> tuple[str, str, str]:
        """The build, the requirement and the index ('' for the installer's own)."""
        from envsetup.pytorch import choose_backend, requirement

        build = choose_backend(args["backend"], args["driver"])
        if build == "cpu":
            index = args["cpu_index"]
        else:
            index = f"{args['cuda_index'].rstrip('/')}/{build}" if args["cuda_index"] else ""
        return build, requirement(args["version"], build), index

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        from packaging.requirements import InvalidRequirement, Requirement

        _check_path(args["venv"], "venv")
        _check_user(args["user"])
        for url in (args["cpu_index"], args["cuda_index"]):
            if url and not re.fullmatch(r"https://[A-Za-z0-9./_-]+", url):
                raise ValueError(f"{url!r} is not an https:// index URL")
        build, text, index = Torch.plan(args)
        try:
            Requirement(text)
        except InvalidRequirement as exc:
            raise ValueError(f"{text!r} is not a requirement: {exc}") from None
        return Op(
            "envsetup.ops.pip_packages",
            {
                "venv": args["venv"],
                "requirements": [text],
                "user": args["user"],
                "options": (["--index-url", index] if index else [])
                + _options(args["options"], "pip"),
                **_installer(args),
                "builds": {"torch": build},
            },
        )

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        build, text, index = Torch.plan(args)
        driver = f"NVIDIA driver {args['driver']}" if args["driver"] else "no NVIDIA driver"
        source = f" from {index}" if index else ""
        return f"{text} ({build} build, {driver}){source} in {args['venv']}"

from __future__ import annotations

import re
import shlex
from typing import Any, ClassVar

from envsetup.kinds import Field, ProbeResult
from envsetup.probes import unreadable

MAX_BYTES = 1 << 20


class FileCheck:
    """A path exists (or not), and optionally its content matches, its mode and owner are right.

    ``contains`` is a regex searched line by line (multi-line mode) in the
    first MiB of the file.
    """

    name: ClassVar[str] = "file"
    short: ClassVar[str] = "path"
    fields: ClassVar[dict[str, Field]] = {
        "path": Field("str", required=True, doc="path on the target"),
        "exists": Field("bool", default=True, doc="whether the path should exist"),
        "contains": Field("str", doc="regex the content must match"),
        "absent": Field("str", doc="regex the content must not match"),
        "mode": Field("mode", doc="expected mode, e.g. '0644'"),
        "owner": Field("str", doc="expected owner"),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        for key in ("contains", "absent"):
            if args.get(key):
                re.compile(args[key])

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        path = shlex.quote(args["path"])
        read = ""
        if args.get("contains") or args.get("absent"):
            read = f"; if [ -f {path} ]; then head -c {MAX_BYTES} {path}; fi"
        return f"if [ -e {path} ]; then stat -c 'exists %a %U' {path}; else echo missing; fi{read}"

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        head, _, content = output.partition("\n")
        path = args["path"]
        exists = head.startswith("exists ")
        if not args["exists"]:
            return (
                ProbeResult("failed", f"{path} exists")
                if exists
                else ProbeResult("ok", f"{path} is absent")
            )
        if not exists:
            return ProbeResult("failed", f"{path} does not exist")
        _, mode, owner = (head.split() + ["", "", ""])[:3]
        if args.get("mode") and int(mode, 8) != int(args["mode"], 8):
            return ProbeResult(
                "failed", f"{path} has mode {int(mode, 8):04o}, expected {args['mode']}"
            )
        if args.get("owner") and owner != args["owner"]:
            return ProbeResult("failed", f"{path} is owned by {owner}, expected {args['owner']}")
        if args.get("contains") and not re.search(args["contains"], content, re.MULTILINE):
            return ProbeResult("failed", f"{path} does not match /{args['contains']}/")
        if args.get("absent") and re.search(args["absent"], content, re.MULTILINE):
            return ProbeResult("failed", f"{path} matches /{args['absent']}/")
        return ProbeResult("ok", f"{path} exists")

    @staticmethod
    def needs_root(args: dict[str, Any]) -> tuple[str, str] | None:
        """When the login cannot answer without root: a shell condition, and why."""
        content = bool(args.get("contains") or args.get("absent"))
        path = args["path"]
        return unreadable(path, content), f"{path} cannot be read without root"

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        if not args["exists"]:
            return f"{args['path']} is absent"
        extra = f" matching /{args['contains']}/" if args.get("contains") else ""
        return f"{args['path']} exists{extra}"

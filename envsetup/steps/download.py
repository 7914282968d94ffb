from __future__ import annotations

from typing import Any, ClassVar

from envsetup.fetch import check_source
from envsetup.kinds import Action, Fetch, Field, Implied, StepContext


class Download:
    """A file downloaded over HTTPS and checked against its SHA-256 before it is used.

    The download happens on the machine running envsetup; the file is uploaded,
    checked again on the target and renamed into place. Nothing runs when the
    target already has a file with that checksum.
    """

    name: ClassVar[str] = "download"
    fields: ClassVar[dict[str, Field]] = {
        "url": Field("str", required=True, doc="https:// URL"),
        "sha256": Field("str", required=True, doc="expected SHA-256, 64 hex digits"),
        "dest": Field("str", required=True, doc="absolute path on the target"),
        "mode": Field("mode", default="0644", doc="file mode"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        check_source(args["url"], args["sha256"])
        if not args["dest"].startswith("/"):
            raise ValueError(f"dest must be an absolute path, got {args['dest']!r}")
        return Fetch(args["url"], args["sha256"], args["dest"], args["mode"])

    @staticmethod
    def implies(args: dict[str, Any]) -> list[Implied]:
        """The file exists with its mode."""
        return [("file", {"path": args["dest"], "mode": args["mode"]})]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"{args['dest']} from {args['url']} (sha256 {args['sha256'][:12]}…, checked)"

from __future__ import annotations

import posixpath
from typing import Any, ClassVar

from envsetup.fetch import SHA256_RE, check_location
from envsetup.kinds import Action, Field, StepContext, Unpack

SUFFIXES = (".tgz", ".tar.gz", ".tar.zst", ".tar.xz", ".tar")


class Archive:
    """A release archive, checked against its SHA-256 and then unpacked into a directory.

    ``url`` is an https:// URL or an absolute path on the machine running envsetup
    (air-gapped installs). The checksum comes from ``sha256`` or from the
    ``checksums`` list (a sha256sum.txt next to the release) before anything is
    unpacked; a mismatch leaves the target as it was. Unpacking again happens
    only when the source changes or a ``creates`` path is missing.
    """

    name: ClassVar[str] = "archive"
    fields: ClassVar[dict[str, Field]] = {
        "url": Field("str", required=True, doc="https:// URL or local path of the archive"),
        "checksums": Field("str", doc="https:// URL or local path of a sha256sum.txt"),
        "sha256": Field("str", doc="the archive's SHA-256 (instead of checksums)"),
        "dest": Field("str", required=True, doc="directory on the target to unpack into"),
        "replace": Field("str_list", default=[], doc="paths under dest removed first"),
        "creates": Field("str_list", default=[], doc="paths under dest the archive provides"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        check_location(args["url"])
        if (args.get("sha256") is None) == (args.get("checksums") is None):
            raise ValueError("give exactly one of sha256 and checksums")
        if args.get("sha256") is not None and not SHA256_RE.fullmatch(args["sha256"]):
            raise ValueError(f"{args['sha256']!r} is not a SHA-256 checksum (64 hex digits)")
        if args.get("checksums") is not None:
            check_location(args["checksums"])
        if not args["url"].endswith(SUFFIXES):
            raise ValueError(f"{args['url']!r}: expected an archive ({', '.join(SUFFIXES)})")
        dest = args["dest"]
        if not dest.startswith("/"):
            raise ValueError(f"dest must be an absolute path, got {dest!r}")
        for relative in (*args["replace"], *args["creates"]):
            if relative.startswith("/") or ".." in relative.split("/") or not relative.strip("/."):
                raise ValueError(f"{relative!r} must be a path inside {dest}")
        name = posixpath.basename(args["url"])
        return Unpack(
            source=args["url"],
            dest=dest,
            stamp=f"/var/lib/envsetup/archives/{name}.unpacked",
            sha256=args.get("sha256"),
            checksums=args.get("checksums"),
            replace=tuple(args["replace"]),
            creates=tuple(args["creates"]),
        )

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        proof = args.get("checksums") or f"sha256 {str(args.get('sha256'))[:12]}…"
        return f"{args['url']} unpacked into {args['dest']} (checked against {proof} first)"

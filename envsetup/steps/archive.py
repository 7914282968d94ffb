from __future__ import annotations

import posixpath
from typing import Any, ClassVar

from envsetup.fetch import SHA256_RE, check_location
from envsetup.kinds import Action, Field, Implied, StepContext, Unpack

SUFFIXES = (".tgz", ".tar.gz", ".tar.zst", ".tar.xz", ".tar")


class Archive:
    """A release archive, checked against its SHA-256 and then unpacked into a directory.

    ``url`` is an https:// URL or an absolute path on the machine running envsetup
    (air-gapped installs). The checksum comes from ``sha256`` or from the
    ``checksums`` list (a sha256sum.txt next to the release) before anything is
    unpacked; a mismatch leaves the target as it was. Unpacking again happens
    only when the source changes or a ``creates`` path is missing.

    A matching checksum proves origin, not safety, so on the target the archive is
    listed and refused (``dest`` left as it was) when a member is a device, FIFO,
    socket, setuid or setgid file, an absolute or ``..`` path, or a link out of
    ``dest``, or lies outside the ``creates`` and ``replace`` paths (a directory
    above one is fine); it is unpacked into a private directory inside ``dest`` with owners
    and permission bits beyond umask 022 ignored, checked again, and moved in:
    ``replace`` paths removed, top-level entries renamed into ``dest``, existing
    directories merged into. A symbolic link already in ``dest`` is never
    followed (see "Trust model" in the README).
    """

    name: ClassVar[str] = "archive"
    fields: ClassVar[dict[str, Field]] = {
        "url": Field("str", required=True, doc="https:// URL or local path of the archive"),
        "checksums": Field("str", doc="https:// URL or local path of a sha256sum.txt"),
        "sha256": Field("str", doc="the archive's SHA-256 (instead of checksums)"),
        "dest": Field("str", required=True, doc="directory on the target to unpack into"),
        "replace": Field(
            "str_list", default=[], doc="paths under dest removed first (never through a link)"
        ),
        "creates": Field(
            "str_list",
            required=True,
            doc="paths under dest the archive provides; it may provide nothing else",
        ),
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
        if not args["creates"]:
            raise ValueError("creates must name at least one path the archive provides")
        for relative in (*args["replace"], *args["creates"]):
            if (
                relative.startswith("/")
                or ".." in relative.split("/")
                or not relative.strip("/.")
                or any(ord(char) < 32 or char == "\\" for char in relative)
            ):
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
    def implies(args: dict[str, Any]) -> list[Implied]:
        """Every ``creates`` path exists under ``dest``."""
        dest = args["dest"].rstrip("/")
        return [("file", {"path": f"{dest}/{path.strip('/')}"}) for path in args["creates"]]

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        proof = args.get("checksums") or f"sha256 {str(args.get('sha256'))[:12]}…"
        return f"{args['url']} unpacked into {args['dest']} (checked against {proof} first)"

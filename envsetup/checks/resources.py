"""Room on the target: free disk space under a path, and memory."""

from __future__ import annotations

import re
import shlex
from typing import Any, ClassVar

from envsetup.checks.command import last_lines
from envsetup.kinds import Field, ProbeResult

_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
SIZE_RE = re.compile(r"([0-9]+(?:[.][0-9]+)?)\s*([KMGT]?)B?", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes in a size such as ``8G``, ``4.7GB`` or ``500M`` (decimal units, as disks are sold)."""
    match = SIZE_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a size (e.g. 8G, 500M)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def show_size(count: float) -> str:
    return f"{count / 10**9:.1f} GB"


def also_paths(args: dict[str, Any]) -> list[str]:
    return [item.rpartition("=")[0] for item in args.get("also") or []]


class DiskCheck:
    """At least ``free`` bytes are available on the filesystem that holds ``path``.

    A path that does not exist yet is measured at its nearest existing parent.
    ``also`` names other paths that will be created, as ``PATH=SIZE``: each one not
    there yet adds its size to the need of the filesystem it lands on, so two
    downloads are counted together when they land on one disk and apart otherwise.
    """

    name: ClassVar[str] = "disk"
    fields: ClassVar[dict[str, Field]] = {
        "path": Field("str", required=True, doc="a path on the target (need not exist yet)"),
        "free": Field("str", required=True, doc="space needed, e.g. 8G"),
        "also": Field(
            "str_list",
            default=[],
            doc="other paths to be created, PATH=SIZE; each counted while it is absent",
        ),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        parse_size(args["free"])
        for item in args.get("also") or []:
            path, equals, size = item.rpartition("=")
            if not equals or not path.startswith("/"):
                raise ValueError(f"also: expected PATH=SIZE with an absolute path, got {item!r}")
            parse_size(size)

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        measure = (
            'while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done; '
            'df -Pk "$p" | tail -n 1'
        )
        if not args.get("also"):
            return f"p={shlex.quote(args['path'])}; {measure}"
        # one line per path: "absent|present" then df's line for its filesystem
        parts = []
        for path in (args["path"], *also_paths(args)):
            quoted = shlex.quote(path)
            parts.append(
                f"p={quoted}; if [ -e \"$p\" ]; then printf 'present '; "
                f"else printf 'absent '; fi; {measure}"
            )
        return "; ".join(parts)

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        also = dict(item.rpartition("=")[::2] for item in args.get("also") or [])
        rows = [line.split() for line in output.splitlines() if line.strip()]
        present = [False] * len(rows)
        if also:  # each row starts with "present" or "absent"
            present = [row[:1] == ["present"] for row in rows]
            rows = [row[1:] for row in rows]
        if (
            status != 0
            or len(rows) != 1 + len(also)
            or any(len(row) < 6 or not row[3].isdigit() for row in rows)
        ):
            return ProbeResult("failed", f"cannot read free space: {last_lines(output)}")
        needs = [(args["path"], parse_size(args["free"]), rows[0])]
        for index, (path, size) in enumerate(also.items(), 1):
            if not present[index]:
                needs.append((path, parse_size(size), rows[index]))
        by_mount: dict[str, tuple[int, int, list[str]]] = {}
        for path, needed, fields in needs:
            available, total, names = by_mount.get(fields[5], (int(fields[3]) * 1024, 0, []))
            by_mount[fields[5]] = (available, total + needed, [*names, path])
        details = []
        ok = True
        for mount, (available, needed, names) in by_mount.items():
            ok = ok and available >= needed
            details.append(
                f"{show_size(available)} free on {mount} (for {' and '.join(names)}), "
                f"{show_size(needed)} needed"
            )
        return ProbeResult("ok" if ok else "failed", "; ".join(details))

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        extra = "".join(
            f", {size} for {path}"
            for path, _, size in (item.rpartition("=") for item in args.get("also") or [])
        )
        return f"{args['free']} free for {args['path']}{extra}"


class MemoryCheck:
    """The target has at least ``total`` bytes of RAM (MemTotal)."""

    name: ClassVar[str] = "memory"
    fields: ClassVar[dict[str, Field]] = {
        "total": Field("str", required=True, doc="RAM needed, e.g. 8G"),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        parse_size(args["total"])

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        return "grep '^MemTotal:' /proc/meminfo"

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        match = re.search(r"MemTotal:\s+([0-9]+) kB", output)
        if status != 0 or not match:
            return ProbeResult("failed", f"cannot read /proc/meminfo: {last_lines(output)}")
        total, needed = int(match.group(1)) * 1024, parse_size(args["total"])
        detail = f"{show_size(total)} RAM, {show_size(needed)} needed"
        return ProbeResult("ok" if total >= needed else "failed", detail)

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"{args['total']} of RAM"

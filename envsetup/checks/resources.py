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


class DiskCheck:
    """At least ``free`` bytes are available on the filesystem that holds ``path``.

    A path that does not exist yet is measured at its nearest existing parent.
    """

    name: ClassVar[str] = "disk"
    fields: ClassVar[dict[str, Field]] = {
        "path": Field("str", required=True, doc="a path on the target (need not exist yet)"),
        "free": Field("str", required=True, doc="space needed, e.g. 8G"),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        parse_size(args["free"])

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        return (
            f"p={shlex.quote(args['path'])}; "
            'while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done; '
            'df -Pk "$p" | tail -n 1'
        )

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        fields = output.split()
        if status != 0 or len(fields) < 6 or not fields[3].isdigit():
            return ProbeResult("failed", f"cannot read free space: {last_lines(output)}")
        available, needed = int(fields[3]) * 1024, parse_size(args["free"])
        detail = (
            f"{show_size(available)} free on {fields[5]} (for {args['path']}), "
            f"{show_size(needed)} needed"
        )
        return ProbeResult("ok" if available >= needed else "failed", detail)

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"{args['free']} free for {args['path']}"


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

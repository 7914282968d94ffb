"""Target strings: ``@local``, ``@chroot/PATH``, ``@docker/NAME``, ``@vagrant/NAME``, SSH hosts.

An SSH target is ``[ssh://][USER@]HOST[:PORT]``; HOST may be an alias from
~/.ssh/config, whose user, port, key and host-key settings pyinfra honours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from envsetup.errors import UsageError

CONNECTORS = ("local", "chroot", "docker", "vagrant")
_HOST_RE = re.compile(r"[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]")


@dataclass(frozen=True)
class TargetSpec:
    """A target as pyinfra names it, plus connection data (SSH user and port)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


def parse_target(text: str) -> TargetSpec:
    """Parse one ``-t`` value; raise UsageError with the accepted forms."""
    forms = "@local, @chroot/PATH, @docker/NAME, @vagrant/NAME or [ssh://][USER@]HOST[:PORT]"
    value = text.strip()
    if not value:
        raise UsageError("empty target", fix=f"use {forms}")
    if value.startswith("@"):
        connector, _, arg = value[1:].partition("/")
        if connector not in CONNECTORS:
            raise UsageError(
                f"unknown connector '@{connector}' in target {text!r}", fix=f"use {forms}"
            )
        if connector == "local":
            if arg:
                raise UsageError(f"@local takes no argument, got {text!r}")
            return TargetSpec("@local")
        if not arg:
            raise UsageError(
                f"target {text!r} needs a name after '@{connector}/'", fix=f"use {forms}"
            )
        if connector == "chroot":
            return TargetSpec(f"@chroot/{arg.lstrip('/')}")
        return TargetSpec(value)
    value = value.removeprefix("ssh://")
    user, _, hostport = value.rpartition("@")
    host, port = hostport, None
    match = re.fullmatch(r"(\[[^\]]+\]|[^:]+):([0-9]+)", hostport)
    if match:
        host, port = match.group(1), int(match.group(2))
    if not _HOST_RE.fullmatch(host) or (user and not re.fullmatch(r"[A-Za-z0-9_.-]+", user)):
        raise UsageError(f"cannot parse target {text!r}", fix=f"use {forms}")
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"port {port} in target {text!r} is out of range")
    data: dict[str, Any] = {}
    if user:
        data["ssh_user"] = user
    if port:
        data["ssh_port"] = port
    return TargetSpec(host.strip("[]"), data)

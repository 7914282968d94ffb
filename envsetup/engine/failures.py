"""What a failed command or connection most likely means, and the fix to name."""

from __future__ import annotations

import logging
import re
from typing import Any

_FAILURE_HINTS = (
    (
        "read-only file system",
        "the target's filesystem is mounted read-only: remount it "
        "read-write (mount -o remount,rw MOUNTPOINT) and apply again",
    ),
    ("no space left on device", "the target's disk is full: free space (df -h) and apply again"),
    ("enough free space", "the target's disk is full: free space (df -h) and apply again"),
    (
        "temporary failure resolving",
        "the target cannot reach the package archive: check its "
        "network, DNS and apt proxy settings",
    ),
    (
        "could not resolve",
        "the target cannot reach the package archive: check its network, "
        "DNS and apt proxy settings",
    ),
    (
        "unable to connect to",
        "the target cannot reach the package archive: check its network and apt proxy settings",
    ),
    (
        "could not get lock",
        "another apt or dpkg process held the lock for 5 minutes: wait for "
        "it to finish and apply again",
    ),
)


def explain_failure(output: str) -> str:
    """A failed command's output, plus the likely cause and fix when it is a known one."""
    lowered = output.lower()
    hint = next((h for key, h in _FAILURE_HINTS if key in lowered), None)
    text = output or "the command failed with no output"
    return f"{text}\nFix: {hint}" if hint else text


def typed_name(name: str, data: Any = None) -> str:
    """A target as a person types it: ``[USER@]HOST[:PORT]`` (IPv6 in brackets with a port)."""
    get = getattr(data, "get", None)
    user = get("ssh_user") if get else None
    port = get("ssh_port") if get else None
    host = f"[{name}]" if port and ":" in name else name
    return f"{user + '@' if user else ''}{host}{f':{port}' if port else ''}"


def known_hosts_entry(name: str, data: Any = None, message: str = "") -> str:
    """How known_hosts (and ``ssh-keygen -R``) names this host: ``[HOST]:PORT`` off port 22.

    An alias is looked up in ~/.ssh/config (only on this error path) for its host name
    and port; paramiko's message names the host name it connected to.
    """
    get = getattr(data, "get", None)
    port = get("ssh_port") if get else None
    named = re.search(r"Host key for (\S+) does not match", message)
    hostname = named.group(1) if named else name
    try:
        from pathlib import Path

        from paramiko import SSHConfig

        config = Path("~/.ssh/config").expanduser()
        if config.is_file():
            found = SSHConfig.from_path(str(config)).lookup(name)
            hostname = named.group(1) if named else found.get("hostname", name)
            port = port or found.get("port")
    except Exception:  # an unreadable config: the name as given
        pass
    return f"[{hostname}]:{port}" if port and int(port) != 22 else hostname


_CONNECT_HINTS = (
    ("authentication", "check the user and the SSH key (ssh -v {ssh} tells more)"),
    ("permission denied", "check the user and the SSH key (ssh -v {ssh} tells more)"),
    (
        "does not match",
        "the host key changed: if that is expected, as after a reinstall, remove the old "
        'key with ssh-keygen -R "{entry}" and connect again; if not, someone may be '
        "intercepting the connection",
    ),
    (
        "no host key",
        "the host key is unknown: check it, then accept it once with ssh {ssh}",
    ),
    ("could not resolve", "check the host name, or its alias in ~/.ssh/config"),
    ("protocol banner", "something answers on that port, but it is not an SSH server"),
    ("could not connect", "check that the host is up and that sshd listens on that port"),
    ("unable to connect", "check that the host is up and that sshd listens on that port"),
    ("timed out", "check that the host is up and that sshd listens on that port"),
    ("chroot", "check the path, and that you are root (chroot needs root)"),
)

# pieces of paramiko's and pyinfra's messages that say nothing to a person
_NOISE = (
    (re.compile(r"\s*\[Errno [^\]]*\]\s*"), ": "),  # "banner[Errno 104] Conn..."
    (re.compile(r"^SSH error \((.*)\)$"), r"\1"),
    (re.compile(r"^Could not connect \((.*)\)$"), r"\1"),
    (re.compile(r"^SSH host key error \((.*)\)$"), r"\1"),
)


def explain_connect_error(name: str, message: str, data: Any = None) -> str:
    """One line: which target (as typed), what went wrong, and the exact fix."""
    text = message.strip() or "unknown error"
    for pattern, replacement in _NOISE:
        text = pattern.sub(replacement, text).removeprefix(": ")
    text = text.replace("(: ", "(")
    lowered = text.lower()
    hint = next((h for key, h in _CONNECT_HINTS if key in lowered), "check the target")
    get = getattr(data, "get", None)
    port = get("ssh_port") if get else None
    user = get("ssh_user") if get else None
    ssh = f"{'-p ' + str(port) + ' ' if port else ''}{user + '@' if user else ''}{name}"
    if "{entry}" in hint:
        hint = hint.replace("{entry}", known_hosts_entry(name, data, text))
    hint = hint.replace("{ssh}", ssh)
    return f"cannot connect to {typed_name(name, data)}: {text} ({hint})"


class HostKeysAccepted(logging.Handler):
    """Remembers the hosts whose new key pyinfra accepted (``StrictHostKeyChecking
    accept-new``): pyinfra only logs it, and envsetup says so in its report."""

    _ADDED = "Added host key for "

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.hosts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self._ADDED):
            self.hosts.append(message[len(self._ADDED) :].removesuffix(" to known_hosts"))


HOST_KEYS = HostKeysAccepted()


def quiet_libraries(verbose: bool) -> None:
    """paramiko logs a whole traceback for a port that is not SSH; envsetup reports the
    failure in one line, so its log reaches the terminal only with -v."""
    paramiko_logger = logging.getLogger("paramiko")
    paramiko_logger.propagate = verbose
    if not verbose and not paramiko_logger.handlers:
        paramiko_logger.addHandler(logging.NullHandler())

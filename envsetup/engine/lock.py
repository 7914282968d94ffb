"""One ``apply`` or ``remove`` at a time per target: a lock held on the target for the run.

The lock is ``flock(1)`` on /var/lib/envsetup/apply.lock, held by a process on the target
whose life is bound to its standard input: ``flock ... cat``. envsetup keeps that input
open for the whole run and closes it at the end; if envsetup dies, the SSH channel or
the pipe closes, ``cat`` ends and the lock is released. So no stale lock is ever left
behind, and nothing has to be cleaned up by hand.

The holder runs outside pyinfra's command path, which waits for a command to end: over
SSH on a channel of pyinfra's own connection, for ``@local`` and ``@chroot`` as a local
process (chrooted, so that no path of the root is resolved on this machine).
Where sudo needs a password, it comes from the run's private askpass helper
(``envsetup.engine.sudo``), never from a command line. Other connectors are run without
the lock.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any, Protocol

from envsetup.engine import sudo
from envsetup.errors import TargetError

DIRECTORY = "/var/lib/envsetup"
LOCK = f"{DIRECTORY}/apply.lock"
OWNER = f"{DIRECTORY}/apply.owner"
WAIT = 120  # seconds to wait for another run to finish (ENVSETUP_LOCK_WAIT overrides)
LOCKED = "@@envsetup-locked@@"
BUSY = 75  # flock's exit status when the wait ran out (-E)


def hold_command(wait: int, note: str) -> str:
    """The holder: take the lock (waiting at most ``wait`` s), record who holds it, say so,
    then keep it until standard input closes. Where the wait runs out, say who holds it."""
    inner = f"printf '%s\\n' {shlex.quote(note)} > {OWNER}; echo {LOCKED}; exec cat > /dev/null"
    return (
        f"umask 022; mkdir -p {DIRECTORY} || exit; flock -w {wait} -E {BUSY} {LOCK} "
        f"sh -c {shlex.quote(inner)}; status=$?; [ $status = {BUSY} ] && cat {OWNER}; "
        "exit $status"
    )


class Holder(Protocol):
    def readline(self, timeout: float) -> str | None: ...  # None: ended

    def status(self) -> int | None: ...

    def release(self) -> None: ...


class _Process:
    """The holder as a local process (``@local``, ``@chroot``)."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches envsetup, which releases it
        )

    def readline(self, timeout: float) -> str | None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the holder says something, or ends, in time
        return line.decode(errors="replace") if line else None

    def status(self) -> int | None:
        return self.proc.wait(timeout=10)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


class _Channel:
    """The holder on an SSH channel of pyinfra's connection."""

    def __init__(self, client: Any, command: str) -> None:
        self.channel = client.get_transport().open_session()
        self.channel.exec_command(command)
        self.buffer = b""

    def readline(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            self.channel.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = self.channel.recv(4096)
            except TimeoutError:
                return None
            if not data:
                if self.buffer:
                    break
                return None
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode(errors="replace") + "\n"

    def status(self) -> int | None:
        self.channel.settimeout(10)
        return int(self.channel.recv_exit_status())

    def release(self) -> None:
        with contextlib.suppress(Exception):
            self.channel.shutdown_write()
            self.channel.close()


def _elevated(command: str, host: Any, privileges: dict[str, Any]) -> str:
    """The holder command with sudo where the run uses it: the askpass helper of the
    private password file where sudo needs a password (``engine.sudo``), else ``-n``."""
    if not privileges.get("_sudo"):
        return command
    askpass = getattr(host.connector, "askpass", None)
    sudo = f"env SUDO_ASKPASS={shlex.quote(askpass)} sudo -H -A -k" if askpass else "sudo -n"
    return f"{sudo} sh -c {shlex.quote(command)}"


def _start(host: Any, command: str, privileges: dict[str, Any]) -> Holder | None:
    command = _elevated(command, host, privileges)
    connector = sudo.underlying(host.connector)
    kind = type(connector).__name__
    if kind == "SSHConnector":
        return _Channel(connector.client, command)
    if kind == "LocalConnector":
        return _Process(["sh", "-c", command])
    if kind == "ChrootConnector":
        root = host.connector_data["chroot_directory"]
        return _Process(["chroot", root, "sh", "-c", command])
    return None


@contextlib.contextmanager
def apply_lock(host: Any, name: str, privileges: dict[str, Any]) -> Iterator[None]:
    """Hold the target's apply lock for the ``with`` block; TargetError where another run
    holds it longer than the wait (``ENVSETUP_LOCK_WAIT`` seconds, default 120), or where
    it cannot be taken."""
    wait = int(os.environ.get("ENVSETUP_LOCK_WAIT") or WAIT)
    since = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    note = f"envsetup on {socket.gethostname()} (pid {os.getpid()}), since {since}"
    holder = _start(host, hold_command(wait, note), privileges)
    if holder is None:
        yield
        return
    try:
        said: list[str] = []
        while True:
            line = holder.readline(timeout=wait + 30)
            if line is None or line.strip() == LOCKED:
                break
            said.append(line.strip())
        if line is None:
            status = holder.status()
            if status == BUSY:
                raise TargetError(
                    f"{name}: another run holds the apply lock ({LOCK}) and did not finish "
                    f"within {wait} s: {' '.join(said)[-200:] or 'see ' + OWNER}",
                    fix="wait for it to finish, then run again",
                )
            raise TargetError(
                f"{name}: could not take the apply lock {LOCK}: "
                f"{' '.join(said)[-300:] or f'exit status {status}'}",
                fix="check that util-linux's flock is installed on the target and that "
                "the login can use sudo",
            )
        yield
    finally:
        holder.release()

"""``Match exec`` lines of an SSH config, run as OpenSSH runs them.

paramiko runs a ``Match exec`` command through ``invoke``; pyinfra's SSH client
replaces that with a runner of its own, which hands the command to the shell as a
script file name (``$SHELL true`` instead of ``$SHELL -c true``): every such block
then fails to match, and prints "cannot execute binary file". envsetup installs this
runner in its place: the user's shell with ``-c``, stdout discarded, stderr shown,
a zero exit status matching, as in OpenSSH.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from typing import Any

import paramiko.config
import pyinfra.connectors.sshuserclient.config  # noqa: F401 - puts pyinfra's runner in place


@dataclass(frozen=True)
class Result:
    ok: bool


class MatchExec:
    """What paramiko's config asks of ``invoke``: ``run(command, ...).ok``."""

    @staticmethod
    def run(command: str, *_args: Any, **_kwargs: Any) -> Result:
        shell = os.environ.get("SHELL") or "/bin/sh"
        done = subprocess.run(
            [shell, "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        return Result(done.returncode == 0)


def install() -> None:
    paramiko.config.invoke = MatchExec  # type: ignore[attr-defined]  # set by paramiko at import

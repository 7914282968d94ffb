"""The one package that talks to pyinfra: inventory, state, connecting, operations, commands.

Everything above it works with plain data: target strings, actions from the step
kinds, shell probes from the check kinds. ``envsetup.ops`` holds the facts and
operations envsetup adds to pyinfra. For hosts to run at the same time, the
standard library must be patched for gevent before this package is imported
(see ``envsetup.concurrency``).
"""

from envsetup.engine import (
    _deferred,  # noqa: F401 - first: before pyinfra imports paramiko
    _types_once,  # noqa: F401 - before envsetup.ops defines facts
    match_exec,
)
from envsetup.engine.core import ActionOutcome, Connection, Engine
from envsetup.engine.failures import explain_failure

match_exec.install()  # after pyinfra's SSH client put its own (broken) runner in place

__all__ = ["ActionOutcome", "Connection", "Engine", "explain_failure"]

"""Letting hosts run at the same time: gevent's patches of the standard library.

pyinfra runs each host in a gevent greenlet. Its SSH library (paramiko) waits on
sockets and threads, which only hand over to other greenlets once the standard
library is patched for gevent, as pyinfra's own CLI does when it starts. The
patching has to come before pyinfra is imported and costs about a tenth of a
second, so it is done only when something must run concurrently: several hosts
(or an inventory), or the live progress line of a terminal, which keeps redrawing
while a step runs.
"""

from __future__ import annotations

import sys


def needed(targets: int, inventory: bool, live_progress: bool) -> bool:
    return targets > 1 or inventory or live_progress


def patch_standard_library() -> bool:
    """Patch for gevent; False when pyinfra is imported already (too late to patch safely)."""
    if "pyinfra" in sys.modules or "paramiko" in sys.modules:
        return False
    from gevent import monkey

    monkey.patch_all()
    return True

"""paramiko's ``invoke`` import is deferred; ``Match exec`` in an SSH config still works."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import envsetup.engine  # puts the stand-in in place, then imports pyinfra and paramiko
import paramiko
assert type(sys.modules["invoke"]).__name__ == "DeferredModule", sys.modules["invoke"]
config = paramiko.SSHConfig.from_text(
    "Match exec true\\n  HostName matched.example\\n"
    "Match exec false\\n  User never\\n"
)
found = config.lookup("alias")
assert found["hostname"] == "matched.example" and "user" not in found, found
assert type(sys.modules["invoke"]).__name__ == "module"  # the real one, imported on use
print("ok")
"""


def test_match_exec_imports_the_real_invoke_on_first_use() -> None:
    # a new interpreter: in this one, pyinfra and paramiko are imported already
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr

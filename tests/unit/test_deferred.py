"""Imports deferred or avoided; ``Match exec`` in an SSH config still works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
import envsetup.engine  # the invoke stand-in, then pyinfra and its SSH client, paramiko
import paramiko
config = paramiko.SSHConfig.from_text(
    "Match exec true\\n  HostName matched.example\\n"
    "Match exec false\\n  User never\\n"
    "Match exec \\"test -n \\\"$HOME\\\"\\"\\n  Port 2222\\n"
)
found = config.lookup("alias")
assert found["hostname"] == "matched.example" and "user" not in found, found
assert found["port"] == "2222", found  # run by a shell: quoting and variables as in OpenSSH
assert type(sys.modules["invoke"]).__name__ == "DeferredModule"  # never needed
print("ok")
"""


def test_match_exec_runs_through_the_shell_without_importing_invoke() -> None:
    # a new interpreter: in this one, pyinfra and paramiko are imported already.
    # pyinfra's SSH client puts a runner of its own in paramiko's place, which passes
    # the command as a script file name, so that no Match exec block ever matched
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr
    assert "cannot execute" not in done.stderr


TYPEGUARD_SCRIPT = """
import os, sys
import envsetup.engine  # imports pyinfra, and typeguard with unittest.mock's stand-in
import typeguard
from typeguard import TypeCheckError, check_type
from typeguard import _checkers, _importhook
assert "unittest.mock" not in sys.modules and "asyncio" not in sys.modules
assert not isinstance(1, _checkers.Mock)  # no Mock can exist yet
try:
    check_type("x", int)
except TypeCheckError:
    pass
else:
    raise AssertionError("typeguard let a str pass as an int")
from unittest.mock import MagicMock, Mock
assert type(sys.modules["unittest.mock"]).__name__ == "module"  # the real one
assert isinstance(Mock(), _checkers.Mock) and isinstance(MagicMock(), _checkers.Mock)
assert issubclass(MagicMock, _checkers.Mock) and not issubclass(int, _checkers.Mock)
check_type(Mock(), int)  # typeguard lets mocks through, as with the real import
with _importhook.patch("os.sep", "@"):  # a name called: the real patch
    assert os.sep == "@"
assert os.sep == "/"
print("ok")
"""

FALLBACK_SCRIPT = """
import sys
from envsetup.engine._deferred import import_without
assert "colorsys" not in sys.modules
import_without("uses_a_value", "colorsys")
import uses_a_value
assert uses_a_value.THIRD == 1 / 3, uses_a_value.THIRD
assert type(sys.modules["colorsys"]).__name__ == "module"  # the real one
print("ok")
"""


def test_typeguard_works_without_importing_unittest_mock() -> None:
    done = subprocess.run([sys.executable, "-c", TYPEGUARD_SCRIPT], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_an_import_that_needs_the_real_module_gets_it(tmp_path: Path) -> None:
    # a module using a value of the stand-in at import time fails with it: imported again
    (tmp_path / "uses_a_value.py").write_text(
        "from colorsys import ONE_THIRD\nTHIRD = ONE_THIRD * 1\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    done = subprocess.run(
        [sys.executable, "-c", FALLBACK_SCRIPT], capture_output=True, text=True, env=env
    )
    assert done.stdout.strip() == "ok", done.stderr


VALIDATE_SCRIPT = """
import sys
from envsetup.commands.recipes import list_recipes  # as `envsetup list` without its cache
entries = list_recipes()
assert entries and all(entry["error"] is None for entry in entries), entries
# only rendering or running needs these
loaded = [name for name in ("pyinfra", "packaging.requirements", "urllib.request")
          if name in sys.modules]
assert not loaded, loaded
print("ok")
"""

HELP_SCRIPT = """
import sys
from envsetup.cli import main
try:
    main(["--help"])
except SystemExit as done:
    assert done.code in (0, None), done.code
assert "traceback" not in sys.modules  # only an unexpected error needs it
"""


def test_validating_recipes_imports_nothing_only_running_them_needs(tmp_path: Path) -> None:
    env = os.environ | {"XDG_CACHE_HOME": str(tmp_path)}  # a cold cache: every recipe validated
    done = subprocess.run(
        [sys.executable, "-c", VALIDATE_SCRIPT], capture_output=True, text=True, env=env
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_help_does_not_import_traceback() -> None:
    done = subprocess.run([sys.executable, "-c", HELP_SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

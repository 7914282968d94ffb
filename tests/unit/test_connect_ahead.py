"""A remembered target's connection is made while the recipes load, and never waited for
when the run ends before using it.

The targets here are loopback sockets standing in for SSH servers (test fixtures): one
that accepts and then says nothing (a handshake that hangs), and a closed port.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from envsetup.engine import Engine
from envsetup.known_targets import KnownTargets
from envsetup.targets import parse_target
from tests.helpers import write_ssh_alias

ROOT_INFO = {
    "distro": "debian",
    "version": "12",
    "codename": "bookworm",
    "pretty": "Debian GNU/Linux 12 (bookworm)",
    "arch": "amd64",
    "user": "root",
    "uid": "0",
    "kernel": "6.1.0",
    "osrelease": "6.1.0",
    "wsl_distro": "",
    "pid1": "systemd",
    "systemd_booted": "yes",
    "home": "/root",
    "nvidia": "",
}


def remember_target(home: Path, alias: str, port: int) -> None:
    """An SSH alias for a loopback port, and that target remembered as reached as root."""
    write_ssh_alias(home, alias, port, "root")
    known = KnownTargets()
    known.remember(alias, ROOT_INFO)
    known.save()


class SilentServer:
    """Accepts one connection and never answers, until closed."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            self.conn, _ = self.listener.accept()
            self.accepted.set()

    def close(self) -> None:
        if self.accepted.is_set():
            self.conn.close()
        self.listener.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def envsetup_cli(*args: str) -> tuple[int, dict[str, Any]]:
    """A new ``envsetup`` process, as a user runs it (this one may have gevent's patches,
    which turn connecting ahead off). It gets 30 s: a run waiting for a handshake that
    never ends would instead hit pyinfra's connect timeout."""
    done = subprocess.run(
        [sys.executable, "-m", "envsetup", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
def broken_recipe(tmp_path: Path) -> str:
    path = tmp_path / "broken" / "recipe.yaml"
    path.parent.mkdir()
    path.write_text("name: broken\nsummary: a typo below\nsteps:\n  - name: x\n    aptt: {}\n")
    return str(path)


def test_a_bad_recipe_ends_the_run_without_waiting_for_the_target(
    isolated_home: Path, silent_server: SilentServer, broken_recipe: str
) -> None:
    remember_target(isolated_home, "slow-box", silent_server.port)

    code, doc = envsetup_cli("apply", broken_recipe, "-t", "slow-box")

    assert code == 2, doc
    assert "recipe.yaml" in doc["error"], doc
    # the handshake had begun while the recipe was read, and the run did not wait for
    # it: the target never answered, and a waiting run would have hit the timeout
    assert silent_server.accepted.wait(timeout=5)


def test_an_unreachable_remembered_target_is_reported_as_before(isolated_home: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]  # nothing listens there once closed
    remember_target(isolated_home, "gone-box", port)

    code, doc = envsetup_cli("apply", "ubuntu-java17", "-t", "gone-box")

    assert code == 3, doc
    target = doc["targets"][0]
    assert target["target"] == "gone-box"
    assert target["error"].startswith("cannot connect to gone-box: "), target
    assert "sshd listens on that port" in target["error"], target  # the fix, as without it


def test_targets_not_remembered_as_root_are_not_contacted_before_the_recipes_load(
    isolated_home: Path, silent_server: SilentServer, broken_recipe: str
) -> None:
    remember_target(isolated_home, "slow-box", silent_server.port)
    remember_target(isolated_home, "slow-too", silent_server.port)
    # several targets: connected together once the recipes are loaded, as before
    code, _ = envsetup_cli("apply", broken_recipe, "-t", "slow-box", "-t", "slow-too")
    assert code == 2 and not silent_server.accepted.wait(timeout=0.5)

    known = json.loads((isolated_home / ".cache/envsetup/targets.json").read_text())
    known["slow-box"]["uid"] = "1000"  # a login that may need sudo: nothing before the recipes
    (isolated_home / ".cache/envsetup/targets.json").write_text(json.dumps(known))
    code, _ = envsetup_cli("apply", broken_recipe, "-t", "slow-box")
    assert code == 2 and not silent_server.accepted.wait(timeout=0.5)


GIVE_UP_SCRIPT = """
import sys, threading
from envsetup.engine import Engine
from envsetup.known_targets import KnownTargets
from envsetup.targets import parse_target
engine = Engine([parse_target("slow-box")], known_info=KnownTargets().get)
assert engine.connect_ahead()
engine.close()  # returns at once, the handshake still waiting on the target
ahead = next(t for t in threading.enumerate() if t.name == "envsetup-connect-ahead")
assert ahead.is_alive()
print("closed while connecting", flush=True)
sys.stdin.readline()  # the target hangs up: the handshake fails, the thread ends
ahead.join(timeout=20)
assert not ahead.is_alive() and not engine.state.activated_hosts
print("ok", flush=True)
"""


def test_a_handshake_given_up_ends_on_its_own(
    isolated_home: Path, silent_server: SilentServer
) -> None:
    # a new interpreter: threads must be real ones (see envsetup_cli)
    remember_target(isolated_home, "slow-box", silent_server.port)
    child = subprocess.Popen(
        [sys.executable, "-c", GIVE_UP_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    try:
        assert child.stdout.readline().strip() == "closed while connecting"
        assert silent_server.accepted.wait(timeout=10)
        silent_server.close()
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ok"
    finally:
        child.kill()
        child.wait()
        assert child.stderr is not None
        child.stderr.close()


@pytest.mark.parametrize("target", ["@local", "@chroot/nonexistent"])
def test_only_ssh_targets_are_connected_ahead(target: str) -> None:
    # @local has no handshake to wait for; @chroot starts processes through gevent,
    # which only the main thread may do
    engine = Engine([parse_target(target)], known_info=lambda _name: ROOT_INFO)
    try:
        assert engine.connect_ahead() is False
    finally:
        engine.close()

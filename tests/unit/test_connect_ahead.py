"""A remembered target's connection is made while the recipes load, and never waited for
when the run ends before using it.

The targets here are loopback sockets standing in for SSH servers (test fixtures): one
that accepts and then says nothing (a handshake that hangs), and a closed port.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from envsetup.engine import Engine
from envsetup.known_targets import KnownTargets
from envsetup.targets import parse_target
from tests.helpers import run_json

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
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    with open(ssh / "config", "a") as config:
        config.write(
            f"Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n"
            f"  StrictHostKeyChecking no\n  UserKnownHostsFile {ssh / 'known_hosts'}\n\n"
        )
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
        with __import__("contextlib").suppress(OSError):
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
    for thread in threading.enumerate():  # the handshake left behind ends on the EOF
        if thread.name == "envsetup-connect-ahead":
            thread.join(timeout=15)
            assert not thread.is_alive()


@pytest.fixture
def connects_ahead(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each ``Engine.connect_ahead`` answered (True: a connection was started)."""
    answers: list[bool] = []
    original = Engine.connect_ahead

    def recorded(engine: Engine) -> bool:
        answers.append(original(engine))
        return answers[-1]

    monkeypatch.setattr(Engine, "connect_ahead", recorded)
    return answers


def test_a_bad_recipe_ends_the_run_without_waiting_for_the_target(
    tmp_path: Path,
    isolated_home: Path,
    silent_server: SilentServer,
    connects_ahead: list[bool],
) -> None:
    remember_target(isolated_home, "slow-box", silent_server.port)
    broken = tmp_path / "broken" / "recipe.yaml"
    broken.parent.mkdir()
    broken.write_text("name: broken\nsummary: a typo below\nsteps:\n  - name: x\n    aptt: {}\n")

    code, doc, _ = run_json("apply", str(broken), "-t", "slow-box")

    assert connects_ahead == [True]
    assert silent_server.accepted.wait(timeout=10)  # the connection was under way
    assert code == 2, doc
    assert "recipe.yaml" in doc["error"], doc
    # the run ended while the target still had not answered: nothing waited for it
    assert any(t.name == "envsetup-connect-ahead" for t in threading.enumerate())


def test_an_unreachable_remembered_target_is_reported_as_before(
    isolated_home: Path, connects_ahead: list[bool]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]  # nothing listens there once closed
    remember_target(isolated_home, "gone-box", port)

    code, doc, _ = run_json("apply", "ubuntu-java17", "-t", "gone-box")

    assert connects_ahead == [True]
    assert code == 3, doc
    target = doc["targets"][0]
    assert target["target"] == "gone-box"
    assert target["error"].startswith("cannot connect to gone-box: "), target
    assert "sshd listens on that port" in target["error"], target  # the fix, as without it


def test_targets_not_remembered_as_root_are_not_connected_ahead(
    isolated_home: Path, connects_ahead: list[bool]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    remember_target(isolated_home, "gone-box", port)
    known = json.loads((isolated_home / ".cache/envsetup/targets.json").read_text())
    known["gone-box"]["uid"] = "1000"  # a login that may need sudo: nothing before the recipes
    (isolated_home / ".cache/envsetup/targets.json").write_text(json.dumps(known))

    code, _, _ = run_json("apply", "ubuntu-java17", "-t", "gone-box")
    assert (code, connects_ahead) == (3, [False])
    remember_target(isolated_home, "gone-too", port)
    code, _, _ = run_json("apply", "ubuntu-java17", "-t", "gone-box", "-t", "gone-too")
    assert (code, connects_ahead) == (3, [False])  # several targets: together, as before


@pytest.mark.parametrize("target", ["@local", "@chroot/nonexistent"])
def test_only_ssh_targets_are_connected_ahead(target: str) -> None:
    # @local has no handshake to wait for; @chroot starts processes through gevent,
    # which only the main thread may do
    engine = Engine([parse_target(target)], known_info=lambda _name: ROOT_INFO)
    try:
        assert engine.connect_ahead() is False
    finally:
        engine.close()

"""Several SSH hosts in one run: their steps run concurrently, each in its own context."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import run_json, write_ssh_alias
from tests.integration.roots import DebianRoot, debian_root

REPO = Path(__file__).resolve().parents[2]


def test_hosts_run_concurrently_without_sharing_state(
    bookworm: DebianRoot, tmp_path: Path, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    # Regression: pyinfra's state context is a global; when one host's operation ended it
    # reset the context under another host's running operation ("get_meta_for_host()
    # missing 1 required positional argument"), failing every host but the first.
    key, public = keypair
    with debian_root("bookworm", tmp_path / "second") as second:
        targets = []
        for index, root in enumerate((bookworm, second)):
            alias = f"host-{index}"
            write_ssh_alias(isolated_home, alias, root.start_sshd(public), "root", key)
            targets += ["-t", alias]
        code, doc, _ = run_json("apply", "wsl-systemd", "--assume-wsl", *targets)
        assert code == 0, [t["error"] for t in doc["targets"]] + [
            s["error"] for s in doc["targets"][0]["recipes"][0]["steps"]
        ]
        assert [t["target"] for t in doc["targets"]] == ["host-0", "host-1"]
        for target in doc["targets"]:
            steps = target["recipes"][0]["steps"]
            assert all(step["status"] != "failed" for step in steps), target
        for root in (bookworm, second):
            assert "systemd=true" in root.file("/etc/wsl.conf").read_text()


@contextlib.contextmanager
def rendezvous(backends: list[int]) -> Iterator[list[int]]:
    """Loopback ports in front of sshd instances (a test fixture): a connection is let
    through only once a connection waits on every port, so hosts that connect one after
    the other never get through (the first one's SSH handshake times out)."""
    listeners = [socket.create_server(("127.0.0.1", 0)) for _ in backends]
    everyone = threading.Barrier(len(backends), timeout=30)
    open_sockets: list[socket.socket] = []

    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def serve(listener: socket.socket, backend: int) -> None:
        with contextlib.suppress(OSError, threading.BrokenBarrierError):
            client, _ = listener.accept()
            open_sockets.append(client)
            everyone.wait()
            server = socket.create_connection(("127.0.0.1", backend))
            open_sockets.append(server)
            threading.Thread(target=pump, args=(server, client), daemon=True).start()
            pump(client, server)

    threads = [
        threading.Thread(target=serve, args=(listener, backend), daemon=True)
        for listener, backend in zip(listeners, backends)
    ]
    for thread in threads:
        thread.start()
    try:
        yield [listener.getsockname()[1] for listener in listeners]
    finally:
        everyone.abort()
        for sock in [*listeners, *open_sockets]:
            sock.close()


def test_hosts_connect_at_the_same_time(
    bookworm: DebianRoot, tmp_path: Path, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    # A new process, as users run it: the standard library is patched for gevent before
    # pyinfra is imported (an in-process run cannot: pyinfra is loaded already). Without
    # the patch paramiko's blocking connect runs hosts' connections one after the other.
    key, public = keypair
    with debian_root("bookworm", tmp_path / "second") as second:
        sshd = [root.start_sshd(public) for root in (bookworm, second)]
        with rendezvous(sshd) as ports:
            targets = []
            for index, port in enumerate(ports):
                write_ssh_alias(isolated_home, f"host-{index}", port, "root", key)
                targets += ["-t", f"host-{index}"]
            done = subprocess.run(
                [sys.executable, "-m", "envsetup", "verify", "wsl-systemd", "--assume-wsl"]
                + [*targets, "--json"],
                capture_output=True,
                text=True,
                cwd=REPO,
                env=os.environ | {"HOME": str(isolated_home)},
                timeout=120,
            )
    doc = json.loads(done.stdout)
    assert [(t["target"], t["error"]) for t in doc["targets"]] == [
        ("host-0", None),
        ("host-1", None),
    ], done.stderr

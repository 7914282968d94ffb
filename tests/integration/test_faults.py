"""Fault injection on real Debian 12 roots: an apply killed with SIGKILL (envsetup and
every process it started) during the package download, during dpkg's unpack/configure,
and between steps; then the same apply again. Every run must end converged with verify
ok and /etc/environment's earlier lines intact. Also: another process holding the dpkg
lock makes apt wait instead of failing."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.roots import DebianRoot, debian_root, pids_in_root

ENV_BEFORE = '# keep me\nPATH="/usr/local/bin:/usr/bin:/bin"\nLANG=C.UTF-8\n'
REPO = Path(__file__).resolve().parents[2]


def apply_argv(root: DebianRoot) -> list[str]:
    target = f"@chroot{root.path}"
    return [
        sys.executable,
        "-m",
        "envsetup",
        "apply",
        "ubuntu-java17",
        "-t",
        target,
        "--set",
        "headless=true",
    ]


def start_apply(root: DebianRoot) -> subprocess.Popen[str]:
    return subprocess.Popen(
        apply_argv(root),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def root_cmdlines(root: DebianRoot) -> list[str]:
    lines = []
    for pid in pids_in_root(root.path):
        with contextlib.suppress(OSError):
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
    return lines


def kill_when(proc: subprocess.Popen[str], ready: Callable[[], bool], timeout: float = 300) -> bool:
    """SIGKILL the whole process group once ``ready()``; False if the run ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.05)
    return False


def converge_and_check(root: DebianRoot) -> None:
    result = subprocess.run(
        [*apply_argv(root), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    doc = json.loads(result.stdout)
    assert result.returncode == 0, (doc, result.stderr[-2000:])
    steps = [s for r in doc["targets"][0]["recipes"] for s in r["steps"]]
    assert {s["verify"] for s in steps} == {"ok"}
    env = root.file("/etc/environment").read_text()
    assert env.startswith(ENV_BEFORE)
    assert env.count("JAVA_HOME=") == 1
    assert root.run("dpkg --audit").stdout == ""


def test_killed_during_download(tmp_path: Path) -> None:
    with debian_root("bookworm", tmp_path / "root", shared_apt_cache=False) as root:
        root.file("/etc/environment").write_text(ENV_BEFORE)
        proc = start_apply(root)
        killed = kill_when(
            proc,
            lambda: (
                any("/usr/lib/apt/methods/http" in line for line in root_cmdlines(root))
                and any(root.file("/var/cache/apt/archives/partial").iterdir())
            ),
        )
        assert killed, "the apply finished before its download could be interrupted"
        converge_and_check(root)


def test_killed_during_dpkg(bookworm: DebianRoot) -> None:
    bookworm.file("/etc/environment").write_text(ENV_BEFORE)
    proc = start_apply(bookworm)
    killed = kill_when(
        proc,
        lambda: (
            any(
                "dpkg" in line
                and ("--configure" in line or "--unpack" in line)
                and "openjdk" in line
                for line in root_cmdlines(bookworm)
            )
            or any(
                "openjdk-17" in line and "/var/lib/dpkg/info" in line
                for line in root_cmdlines(bookworm)
            )
        ),
    )
    assert killed, "the apply finished before dpkg could be interrupted"
    # the kill really left dpkg half done ("dpkg was interrupted" for apt)
    assert bookworm.run("dpkg --audit", check=False).stdout.strip()
    converge_and_check(bookworm)


def test_killed_between_steps(bookworm: DebianRoot) -> None:
    bookworm.file("/etc/environment").write_text(ENV_BEFORE)
    proc = start_apply(bookworm)
    first_step_done = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "Install OpenJDK 17: changed" in line:
                first_step_done.set()
                return

    threading.Thread(target=watch, daemon=True).start()
    assert kill_when(proc, first_step_done.is_set)
    assert "JAVA_HOME" not in bookworm.file("/etc/environment").read_text()
    converge_and_check(bookworm)


def test_apt_waits_for_a_held_dpkg_lock(bookworm: DebianRoot) -> None:
    bookworm.file("/etc/environment").write_text(ENV_BEFORE)
    lock_file = bookworm.file("/var/lib/dpkg/lock-frontend")
    lock_file.touch()
    with open(lock_file, "w") as held:
        fcntl.lockf(held, fcntl.LOCK_EX)  # apt inside the root sees this fcntl lock

        def release() -> None:
            time.sleep(8)
            fcntl.lockf(held, fcntl.LOCK_UN)

        releaser = threading.Thread(target=release)
        started = time.monotonic()
        releaser.start()
        converge_and_check(bookworm)
        releaser.join()
    assert time.monotonic() - started >= 8


def test_ctrl_c_finishes_the_running_step_then_stops(bookworm: DebianRoot) -> None:
    bookworm.file("/etc/environment").write_text(ENV_BEFORE)
    proc = start_apply(bookworm)
    deadline = time.monotonic() + 120
    while not any("apt-get" in line for line in root_cmdlines(bookworm)):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)  # to envsetup only: the running apt-get goes on
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 130, stdout + stderr
    assert "stopping after the running step" in stderr
    assert "Install OpenJDK 17" + " " * 22 + "changed" in stdout
    assert "Make 17 the default for every JDK tool  not run" in stdout
    assert "Interrupted: the running step finished" in stdout
    assert bookworm.run("dpkg --audit").stdout == ""  # apt was not cut off
    converge_and_check(bookworm)

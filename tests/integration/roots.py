"""Real Debian roots for integration tests, built with debootstrap from the Debian archive.

One base per suite is built once and cached (``$ENVSETUP_TEST_CACHE``, default
/var/tmp/envsetup-tests); each test copies it (about 2 s), mounts /proc, /dev
and /sys (OpenJDK's post-install needs /proc, pyinfra's facts need /dev/null),
and always unmounts. Downloaded .deb files are shared between roots through a
bind-mounted apt cache, so only the first install of a package downloads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

MIRROR = os.environ.get("ENVSETUP_TEST_MIRROR", "http://deb.debian.org/debian")
CACHE = Path(os.environ.get("ENVSETUP_TEST_CACHE", "/var/tmp/envsetup-tests"))
BASE_PACKAGES = {
    "bookworm": "openssh-server,sudo,systemd-sysv,dbus",
    "trixie": "",
}


def skip_reason() -> str | None:
    """Why integration tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "integration tests need root (debootstrap, chroot and mounts)"
    if not shutil.which("debootstrap"):
        return "debootstrap is not installed (apt-get install debootstrap)"
    return None


def base(suite: str) -> Path:
    """The cached base root for a suite, built on first use (under a lock)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / f"base-{suite}"
    stamp = target / ".envsetup-base-complete"
    with open(CACHE / f"base-{suite}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return target
        building = CACHE / f"base-{suite}.building"
        shutil.rmtree(building, ignore_errors=True)
        command = ["debootstrap", "--variant=minbase"]
        if BASE_PACKAGES[suite]:
            command.append(f"--include={BASE_PACKAGES[suite]}")
        subprocess.run(
            [*command, suite, str(building), MIRROR],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
        stamp.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
        return target


class DebianRoot:
    """A copy of a base root with /proc, /dev, /sys and the apt cache mounted."""

    def __init__(self, suite: str, path: Path, shared_apt_cache: bool = True) -> None:
        self.suite = suite
        self.path = path
        self.shared_apt_cache = shared_apt_cache
        self.mounts: list[Path] = []
        self.sshd: subprocess.Popen[bytes] | None = None

    def start(self) -> DebianRoot:
        subprocess.run(["cp", "-a", str(base(self.suite)), str(self.path)], check=True)
        shutil.copy("/etc/resolv.conf", self.path / "etc/resolv.conf")
        archives = CACHE / "apt-archives"
        (archives / "partial").mkdir(parents=True, exist_ok=True)
        self._mount(["-t", "proc", "proc"], "proc")
        self._mount(["--bind", "/dev"], "dev")
        self._mount(["--bind", "/sys"], "sys")
        if self.shared_apt_cache:
            self._mount(["--bind", str(archives)], "var/cache/apt/archives")
        return self

    def _mount(self, args: list[str], where: str) -> None:
        point = self.path / where
        point.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", *args, str(point)], check=True)
        self.mounts.append(point)

    def stop(self) -> None:
        self.stop_sshd()
        for point in reversed(self.mounts):
            if subprocess.run(["umount", str(point)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(point)], capture_output=True)
        self.mounts.clear()
        shutil.rmtree(self.path, ignore_errors=True)

    # -- inside the root --------------------------------------------------

    def run(self, command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["chroot", str(self.path), "sh", "-c", command],
            check=check,
            capture_output=True,
            text=True,
        )

    def file(self, path: str) -> Path:
        return self.path / path.lstrip("/")

    def digest(self, *paths: str) -> dict[str, str | None]:
        """SHA-256 of files inside the root (None when absent), to prove nothing changed."""
        out: dict[str, str | None] = {}
        for path in paths:
            file = self.file(path)
            out[path] = hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else None
        return out

    # -- sshd on a loopback port ------------------------------------------

    def start_sshd(self, public_key: str, port: int | None = None) -> int:
        port = port or free_port()
        ssh_dir = self.file("/root/.ssh")
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        (ssh_dir / "authorized_keys").write_text(public_key)
        (ssh_dir / "authorized_keys").chmod(0o600)
        self.sshd = self.spawn_sshd(port)
        return port

    def spawn_sshd(self, port: int) -> subprocess.Popen[bytes]:
        """One more sshd of this root on a loopback port, listening when this returns."""
        self.file("/run/sshd").mkdir(parents=True, exist_ok=True)
        sshd = subprocess.Popen(
            [
                "chroot",
                str(self.path),
                "/usr/sbin/sshd",
                "-D",
                "-e",
                "-o",
                f"ListenAddress=127.0.0.1:{port}",
                "-o",
                "PermitRootLogin=prohibit-password",
                "-o",
                "UsePAM=yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(port)
        return sshd

    def stop_sshd(self) -> None:
        if self.sshd is None:
            return
        self.sshd.send_signal(signal.SIGTERM)
        try:
            self.sshd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.sshd.kill()
            self.sshd.wait()
        # sessions forked by sshd may outlive it; end every process still inside the root
        for pid in pids_in_root(self.path):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.sshd = None

    def add_user(self, name: str, password: str, public_key: str, sudo_nopasswd: bool) -> None:
        self.run(f"useradd -m -s /bin/bash {name} && echo {name}:{password} | chpasswd")
        self.run(f"adduser {name} sudo")
        if sudo_nopasswd:
            self.file(f"/etc/sudoers.d/{name}").write_text(f"{name} ALL=(ALL) NOPASSWD: ALL\n")
            self.file(f"/etc/sudoers.d/{name}").chmod(0o440)
        home = self.file(f"/home/{name}/.ssh")
        home.mkdir(mode=0o700)
        (home / "authorized_keys").write_text(public_key)
        self.run(f"chown -R {name}:{name} /home/{name}/.ssh && chmod 600 /home/{name}/.ssh/*")


def pids_in_root(root: Path) -> list[int]:
    pids = []
    real = str(root.resolve())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(entry / "root") == real:
                    pids.append(int(entry.name))
    return pids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@contextlib.contextmanager
def debian_root(suite: str, where: Path, shared_apt_cache: bool = True) -> Iterator[DebianRoot]:
    root = DebianRoot(suite, where, shared_apt_cache)
    try:
        yield root.start()
    finally:
        root.stop()


def make_keypair(directory: Path) -> tuple[Path, str]:
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key, (directory / "id_ed25519.pub").read_text()


class BootedRoot(DebianRoot):
    """A Debian root booted with systemd as PID 1 in its own PID namespace, reached over SSH.

    ``unshare --pid --fork --mount --uts --ipc chroot ROOT`` runs systemd; /proc and
    /run are mounted inside, /sys/fs/cgroup is bound in beforehand. The root shares
    the host's network, so its sshd listens on a loopback port of the host.
    """

    def __init__(self, suite: str, path: Path) -> None:
        super().__init__(suite, path)
        self.unshare: subprocess.Popen[bytes] | None = None
        self.port = 0

    def boot(self, public_key: str) -> BootedRoot:
        self.start()
        self._mount(["--rbind", "/sys/fs/cgroup"], "sys/fs/cgroup")
        for unit in ("serial-getty@.service", "getty.target", "e2scrub_reap.service"):
            link = self.file(f"/etc/systemd/system/{unit}")
            link.unlink(missing_ok=True)
            link.symlink_to("/dev/null")  # no consoles in a container: these would wait forever
        self.port = free_port()
        self.file("/etc/ssh/sshd_config.d/envsetup-test.conf").write_text(
            f"ListenAddress 127.0.0.1:{self.port}\nPermitRootLogin prohibit-password\n"
        )
        ssh_dir = self.file("/root/.ssh")
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        (ssh_dir / "authorized_keys").write_text(public_key)
        self.unshare = subprocess.Popen(
            [
                "unshare",
                "--pid",
                "--fork",
                "--mount",
                "--uts",
                "--ipc",
                "chroot",
                str(self.path),
                "/bin/sh",
                "-c",
                "mount -t proc proc /proc; mount -t tmpfs tmpfs /run; "
                "exec /lib/systemd/systemd --system",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=60)
        return self

    def stop(self) -> None:
        if self.unshare is not None:
            for child in _children(self.unshare.pid):  # the namespace's PID 1
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            try:
                self.unshare.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.unshare.kill()
                self.unshare.wait()
            self.unshare = None
        for point in reversed(self.mounts):
            if point.name == "cgroup":
                subprocess.run(["umount", "-R", str(point)], capture_output=True)
        self.mounts = [p for p in self.mounts if p.name != "cgroup"]
        super().stop()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


@contextlib.contextmanager
def booted_root(where: Path, public_key: str) -> Iterator[BootedRoot]:
    root = BootedRoot("bookworm", where)
    try:
        yield root.boot(public_key)
    finally:
        root.stop()

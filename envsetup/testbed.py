"""Throwaway roots for ``envsetup test``: a Debian or Ubuntu root built with debootstrap.

One base root per platform is built once and cached (``/var/cache/envsetup/test-roots``
when running as root, else ``$XDG_CACHE_HOME/envsetup/test-roots``; ``$ENVSETUP_TEST_ROOTS``
overrides); each test copies it, mounts /proc, /dev and /sys into the copy, and always
unmounts and deletes the copy, also when a phase fails or the run is interrupted.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from envsetup.errors import EnvsetupError, UsageError
from envsetup.paths import cache_dir


@dataclass(frozen=True)
class TestPlatform:
    name: str  # as given to --on
    distro: str
    suite: str
    mirror: str
    components: str = "main"


PLATFORMS = {
    "debian-12": TestPlatform("debian-12", "debian", "bookworm", "http://deb.debian.org/debian"),
    "debian-13": TestPlatform("debian-13", "debian", "trixie", "http://deb.debian.org/debian"),
    "ubuntu-22.04": TestPlatform(
        "ubuntu-22.04", "ubuntu", "jammy", "http://archive.ubuntu.com/ubuntu", "main,universe"
    ),
    "ubuntu-24.04": TestPlatform(
        "ubuntu-24.04", "ubuntu", "noble", "http://archive.ubuntu.com/ubuntu", "main,universe"
    ),
}
# what every base root gets beyond debootstrap's minbase: a login (su) for login_env checks
BASE_PACKAGES = "login,passwd,ca-certificates"
BUILD_TIMEOUT = 1800


class TestbedError(EnvsetupError):
    """A throwaway root could not be built or mounted."""


def platform(name: str, mirror: str | None = None) -> TestPlatform:
    if name not in PLATFORMS:
        raise UsageError(
            f"--on {name}: no such test platform", fix=f"use one of: {', '.join(PLATFORMS)}"
        )
    found = PLATFORMS[name]
    return TestPlatform(
        found.name, found.distro, found.suite, mirror or found.mirror, found.components
    )


def roots_dir() -> Path:
    override = os.environ.get("ENVSETUP_TEST_ROOTS")
    if override:
        return Path(override)
    if os.geteuid() == 0:
        return Path("/var/cache/envsetup/test-roots")
    return cache_dir() / "test-roots"


def missing_requirements() -> list[str]:
    """What this machine lacks to build and use a throwaway root, as instructions."""
    out = []
    if os.geteuid() != 0:
        out.append("run as root (sudo envsetup test ...): debootstrap, chroot and mount need it")
    if not shutil.which("debootstrap"):
        out.append("install debootstrap: apt-get install debootstrap")
    return out


def reachable(item: TestPlatform, timeout: float = 10) -> str | None:
    """None when the mirror serves the suite, else why not."""
    url = f"{item.mirror.rstrip('/')}/dists/{item.suite}/Release"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{url}: {getattr(exc, 'reason', exc)}"


def base(item: TestPlatform, progress: object = None) -> Path:
    """The cached base root for a platform, built on first use under a lock."""
    directory = roots_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / item.name
    stamp = target / ".envsetup-base-complete"
    with open(directory / f"{item.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return target
        why = reachable(item)
        if why is not None:
            raise TestbedError(
                f"cannot build a {item.name} root: its archive cannot be reached ({why})",
                fix="pass --mirror URL of a reachable mirror of that distribution "
                "(e.g. a local apt-cacher-ng or a copy on disk served over http)",
            )
        script = debootstrap_script(item)
        building = directory / f"{item.name}.building"
        shutil.rmtree(building, ignore_errors=True)
        command = [
            "debootstrap",
            "--variant=minbase",
            f"--include={BASE_PACKAGES}",
            f"--components={item.components}",
            item.suite,
            str(building),
            item.mirror,
            *([script] if script else []),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise TestbedError(f"debootstrap of {item.name} took over {BUILD_TIMEOUT} s") from None
        if done.returncode != 0:
            shutil.rmtree(building, ignore_errors=True)
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise TestbedError(f"debootstrap of {item.name} failed: {' | '.join(tail)}")
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
        stamp.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
        return target


SCRIPTS = Path("/usr/share/debootstrap/scripts")
UBUNTU_KEYRING = Path("/usr/share/keyrings/ubuntu-archive-keyring.gpg")


def debootstrap_script(item: TestPlatform) -> str | None:
    """The script debootstrap needs for a suite it does not know by name (None: it does).

    Every Ubuntu suite uses debootstrap's ``gutsy`` script, so an older debootstrap
    (Debian 12's knows Ubuntu up to kinetic) builds noble with it. Ubuntu's packages
    are checked against Ubuntu's archive key, which Debian ships separately.
    """
    if item.distro == "ubuntu" and not UBUNTU_KEYRING.exists():
        raise TestbedError(
            f"cannot check the packages of {item.name}: {UBUNTU_KEYRING} is missing",
            fix="apt-get install ubuntu-archive-keyring",
        )
    if (SCRIPTS / item.suite).exists():
        return None
    if item.distro == "ubuntu" and (SCRIPTS / "gutsy").exists():
        return str(SCRIPTS / "gutsy")
    raise TestbedError(
        f"this debootstrap does not know {item.suite} ({item.name})",
        fix="install a newer debootstrap (e.g. from backports)",
    )


class ThrowawayRoot:
    """A copy of a base root with /proc, /dev and /sys mounted; ``close`` undoes all of it."""

    def __init__(self, item: TestPlatform) -> None:
        self.item = item
        roots_dir().mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"envsetup-test-{item.name}-", dir=roots_dir()))
        self.mounts: list[Path] = []

    def open(self) -> ThrowawayRoot:
        source = base(self.item)
        copied = subprocess.run(  # into the private directory mkdtemp made: no name race
            ["cp", "-a", f"{source}/.", str(self.path)], capture_output=True, text=True
        )
        if copied.returncode != 0:
            raise TestbedError(f"cannot copy {source}: {copied.stderr.strip()[-300:]}")
        self.path.chmod(0o755)  # mkdtemp made it 0700; a root directory is 0755
        with contextlib.suppress(OSError):
            shutil.copy("/etc/resolv.conf", self.path / "etc/resolv.conf")
        self._mount(["-t", "proc", "proc"], "proc")
        self._mount(["--bind", "/dev"], "dev")
        self._mount(["--bind", "/sys"], "sys")
        return self

    def _mount(self, args: list[str], where: str) -> None:
        point = self.path / where
        point.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", *args, str(point)], capture_output=True, text=True)
        if done.returncode != 0:
            raise TestbedError(f"cannot mount {point}: {done.stderr.strip()}")
        self.mounts.append(point)

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["chroot", str(self.path), "sh", "-c", command], capture_output=True, text=True
        )

    def close(self) -> list[str]:
        """End processes left in the root, unmount everything, delete the copy; say what stuck."""
        problems = []
        for pid in pids_in_root(self.path):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for point in reversed(self.mounts):
            if (
                subprocess.run(["umount", str(point)], capture_output=True).returncode
                and subprocess.run(["umount", "-l", str(point)], capture_output=True).returncode
            ):
                problems.append(f"could not unmount {point}")
        self.mounts.clear()
        if not problems:
            shutil.rmtree(self.path, ignore_errors=True)
        return problems


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` (from /proc/self/mounts)."""
    real = str(path.resolve())
    with open("/proc/self/mounts") as file:
        points = [line.split()[1].replace("\\040", " ") for line in file]
    return [p for p in points if p == real or p.startswith(real + "/")]


def pids_in_root(root: Path) -> list[int]:
    pids = []
    real = str(root.resolve())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(entry / "root") == real:
                    pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def throwaway(item: TestPlatform) -> Iterator[ThrowawayRoot]:
    root = ThrowawayRoot(item)
    try:
        yield root.open()
    finally:
        root.close()

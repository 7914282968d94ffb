"""A converged Debian 12 root for the benchmarks: OpenJDK 17 and JAVA_HOME applied, sshd on
loopback ports, reached through ~/.ssh/config aliases in a private HOME.

Built from the integration tests' cached debootstrap base (tests/integration/roots.py),
so the first run downloads Debian packages and later runs reuse them. Needs root.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the fixture recipe doing exactly the raw pyinfra deploy's and the playbook's work
LEAN_RECIPE = REPO / "bench" / "contenders" / "java17-lean" / "recipe.yaml"
sys.path.insert(0, str(REPO))

from tests.helpers import write_ssh_alias  # noqa: E402
from tests.integration.roots import DebianRoot, free_port, make_keypair  # noqa: E402


@dataclass
class JavaRoot:
    root: DebianRoot
    home: Path  # HOME with .ssh/config holding the aliases
    key: Path
    ports: list[int] = field(default_factory=list)
    extra_sshd: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return bench_env(HOME=str(self.home))

    def alias(self, index: int) -> str:
        return f"bench-{index}"

    def add_sshd(self, count: int) -> list[str]:
        """Up to ``count`` sshd instances serving this root, each with an alias; the aliases."""
        while len(self.ports) < count:
            port = free_port()
            self.extra_sshd.append(self.root.spawn_sshd(port))
            self.ports.append(port)
            write_ssh_alias(self.home, self.alias(len(self.ports)), port, "root", self.key)
        return [self.alias(i + 1) for i in range(count)]


def envsetup_command() -> list[str]:
    return [sys.executable, "-m", "envsetup"]


def bench_env(**extra: str) -> dict[str, str]:
    """The environment every contender runs in: bytecode caching on, as on users' machines
    (a PYTHONDONTWRITEBYTECODE=1 left in the environment would compile every module of
    envsetup, an editable install, on every run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | extra


@contextlib.contextmanager
def java_root() -> Iterator[JavaRoot]:
    with tempfile.TemporaryDirectory(prefix="envsetup-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        key, public = make_keypair(work)
        root = DebianRoot("bookworm", work / "root")
        bench = JavaRoot(root, home, key)
        try:
            root.start()
            print("converging the root (apply ubuntu-java17 via @chroot)...", file=sys.stderr)
            subprocess.run(
                [
                    *envsetup_command(),
                    "apply",
                    "ubuntu-java17",
                    "-t",
                    f"@chroot{root.path}",
                    "--json",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                cwd=REPO,
            )
            # for Ansible's modules (apt needs python3-apt); envsetup and pyinfra need neither
            root.run("apt-get install -y -qq python3 python3-apt >/dev/null")
            port = root.start_sshd(public)
            bench.ports.append(port)
            write_ssh_alias(home, bench.alias(1), port, "root", key)
            yield bench
        finally:
            for process in bench.extra_sshd:
                process.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
            root.stop()

"""The seam through which doctor reads a machine.

``LocalMachine`` reads files below a root directory ("/" normally; tests point
it at a temporary tree holding captured /proc and /etc values) and runs local
commands; ``TargetMachine`` does the same on any envsetup target through the
engine. Everything is read-only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Protocol


class Machine(Protocol):
    def read(self, path: str) -> str | None: ...

    def exists(self, path: str) -> bool: ...

    def listdir(self, path: str) -> list[str]: ...

    def which(self, name: str) -> str | None: ...

    def realpath(self, path: str) -> str: ...

    def run(self, argv: list[str], timeout: float = 5) -> tuple[int, str, str]: ...

    def env(self, key: str) -> str | None: ...

    def free_bytes(self, path: str) -> int | None: ...

    def mem_total_bytes(self) -> int | None: ...

    def http_json(self, url: str, timeout: float = 1.0) -> Any: ...

    @property
    def is_root(self) -> bool: ...

    @property
    def user(self) -> str: ...

    @property
    def home(self) -> str: ...


class LocalMachine:
    """This machine, with file paths resolved below ``root``."""

    def __init__(
        self,
        root: str = "/",
        environ: dict[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        self.root = Path(root)
        self.environ = dict(os.environ if environ is None else environ)
        self.path = path if path is not None else self.environ.get("PATH", os.defpath)

    def _local(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def read(self, path: str) -> str | None:
        try:
            return self._local(path).read_text(errors="replace")
        except OSError:
            return None

    def exists(self, path: str) -> bool:
        return self._local(path).exists()

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(self._local(path)))
        except OSError:
            return []

    def which(self, name: str) -> str | None:
        if self.root == Path("/"):
            return shutil.which(name, path=self.path)
        for directory in self.path.split(os.pathsep):
            candidate = f"{directory.rstrip('/')}/{name}"
            if os.access(self._local(candidate), os.X_OK):
                return candidate
        return None

    def realpath(self, path: str) -> str:
        """Resolve symlinks as the machine would: absolute links stay below ``root``."""
        if self.root == Path("/"):
            return os.path.realpath(path)
        parts = [p for p in path.split("/") if p]
        resolved: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                resolved = resolved[:-1]
                continue
            if part == ".":
                continue
            local = self._local("/" + "/".join([*resolved, part]))
            if local.is_symlink() and hops < 40:
                hops += 1
                target = os.readlink(local)
                if target.startswith("/"):
                    resolved = []
                parts = [p for p in target.split("/") if p] + parts
                continue
            resolved.append(part)
        return "/" + "/".join(resolved)

    def run(self, argv: list[str], timeout: float = 5) -> tuple[int, str, str]:
        try:
            out = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                env={**self.environ, "LC_ALL": "C"},
            )
        except FileNotFoundError:
            return 127, "", f"{argv[0]}: not found"
        return out.returncode, out.stdout, out.stderr

    def env(self, key: str) -> str | None:
        return self.environ.get(key)

    def free_bytes(self, path: str) -> int | None:
        probe = self._local(path)
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            stat = os.statvfs(probe)
        except OSError:
            return None
        return stat.f_bavail * stat.f_frsize

    def mem_total_bytes(self) -> int | None:
        return mem_total(self.read("/proc/meminfo"))

    def http_json(self, url: str, timeout: float = 1.0) -> Any:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read().decode())

    @property
    def is_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def user(self) -> str:
        return self.environ.get("SUDO_USER") or self.environ.get("USER") or "root"

    @property
    def home(self) -> str:
        return self.environ.get("HOME", "/root")


def mem_total(meminfo: str | None) -> int | None:
    for line in (meminfo or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None

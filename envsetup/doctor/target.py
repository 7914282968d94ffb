"""Doctor on any envsetup target: the Machine seam over the engine, read-only."""

from __future__ import annotations

import json
import shlex
from typing import Any

from envsetup.engine import Connection, Engine

ABSENT = "@@envsetup-absent@@"


class TargetMachine:
    """Each read is one shell command on the target (through @chroot, SSH, ...)."""

    def __init__(self, engine: Engine, conn: Connection) -> None:
        self.engine = engine
        self.conn = conn

    def _sh(self, script: str) -> tuple[int, str]:
        return self.engine.run_probes(self.conn, [script])[0]

    def probes(self, commands: list[str]) -> list[tuple[int, str]]:
        """Read-only probes in one round trip; those that need root, again through sudo
        where it needs no password (see ``Engine.run_probes``)."""
        return self.engine.run_probes(self.conn, commands)

    def read(self, path: str) -> str | None:
        q = shlex.quote(path)
        code, out = self._sh(f"if [ -r {q} ] && [ -f {q} ]; then cat {q}; else echo {ABSENT}; fi")
        return None if out.strip() == ABSENT else out

    def exists(self, path: str) -> bool:
        return self._sh(f"test -e {shlex.quote(path)}")[0] == 0

    def listdir(self, path: str) -> list[str]:
        code, out = self._sh(f"ls -1A {shlex.quote(path)} 2>/dev/null")
        return sorted(out.split()) if code == 0 else []

    def which(self, name: str) -> str | None:
        code, out = self._sh(f"command -v {shlex.quote(name)}")
        return out.strip() or None if code == 0 else None

    def realpath(self, path: str) -> str:
        return self._sh(f"readlink -f {shlex.quote(path)}")[1].strip() or path

    def run(self, argv: list[str], timeout: float = 5) -> tuple[int, str, str]:
        code, out = self._sh(shlex.join(argv))
        return code, out, ""

    def env(self, key: str) -> str | None:
        code, out = self._sh(f"printenv {shlex.quote(key)}")
        return out.strip() if code == 0 else None

    def free_bytes(self, path: str) -> int | None:
        code, out = self._sh(f"df -P -B1 {shlex.quote(path)} 2>/dev/null | tail -n 1")
        fields = out.split()
        return int(fields[3]) if code == 0 and len(fields) > 3 and fields[3].isdigit() else None

    def mem_total_bytes(self) -> int | None:
        from envsetup.doctor.machine import mem_total

        return mem_total(self.read("/proc/meminfo"))

    def http_json(self, url: str, timeout: float = 1.0) -> Any:
        code = (
            "import json,sys,urllib.request;"
            f"print(urllib.request.urlopen(sys.argv[1], timeout={timeout}).read().decode())"
        )
        status, out = self._sh(shlex.join(["python3", "-c", code, url]))
        if status != 0:
            raise ConnectionError(out.strip().splitlines()[-1] if out.strip() else "no answer")
        return json.loads(out)

    @property
    def is_root(self) -> bool:
        return self.conn.info.get("uid") == "0" or bool(self.conn.privileges)

    @property
    def user(self) -> str:
        return self.conn.info.get("user", "root")

    @property
    def home(self) -> str:
        out = self._sh(f"getent passwd {shlex.quote(self.user)} | cut -d: -f6")[1].strip()
        return out or "/root"

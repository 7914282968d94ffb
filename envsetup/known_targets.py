"""What each target was the last time envsetup reached it, to read ahead with.

A run needs a target's platform (os-release, architecture, user, ...) to render its
recipes, and reading it costs a round trip of its own. The info of a target that
logged in as root is remembered here, by target name; the next run renders with it
and reads the info again in the same round trip as the first facts and checks (see
``Engine.read_ahead``). Where the target is not what it was, nothing read with the
old info is used and the run renders again with the new. Kept in
``$XDG_CACHE_HOME/envsetup/targets.json``; where it cannot be read or written, every
run reads the info first, as without it.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from envsetup.paths import cache_dir, replace_file

CACHE_NAME = "targets.json"
LIMIT = 256  # targets remembered; those remembered first are forgotten first


class KnownTargets:
    """Targets' info from earlier runs, by target name."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / CACHE_NAME
        self.infos: dict[str, dict[str, str]] = {}
        self.dirty = False
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                self.infos = {
                    name: info
                    for name, info in data.items()
                    if isinstance(info, dict) and all(isinstance(v, str) for v in info.values())
                }

    def get(self, name: str) -> dict[str, str] | None:
        return self.infos.get(name)

    def remember(self, name: str, info: dict[str, str]) -> None:
        if self.infos.get(name) == info:
            return
        self.infos.pop(name, None)
        self.infos[name] = dict(info)  # the newest last
        for old in list(self.infos)[:-LIMIT]:
            del self.infos[old]
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            with contextlib.suppress(OSError):
                replace_file(self.path, json.dumps(self.infos))
            self.dirty = False

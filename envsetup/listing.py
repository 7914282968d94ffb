"""What ``envsetup list`` shows per recipe, remembered until a file it depends on changes.

Validating a recipe needs the schema, and with it YAML, Jinja2 and packaging: a
tenth of a second of imports before the first recipe is read, on every ``list``.
An entry is reused while the recipe's directory (the name, size and modification
time of each file in it) and envsetup's own code are unchanged; anything else is
validated again. The cache is one JSON file under ``$XDG_CACHE_HOME/envsetup``
(``~/.cache/envsetup``); where it cannot be read or written, every recipe is
validated, as without it.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from envsetup import __version__
from envsetup.paths import cache_dir, replace_file

CACHE_NAME = "list.json"
PACKAGE = Path(__file__).parent


def cache_file() -> Path:
    return cache_dir() / CACHE_NAME


def stamp(directory: Path) -> list[list[Any]]:
    """Name, size and modification time of every file directly in ``directory``."""
    entries = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if entry.is_file():
                info = entry.stat()
                entries.append([entry.name, info.st_size, info.st_mtime_ns])
    return sorted(entries)


def code_stamp() -> list[Any]:
    """envsetup's version and the files of the code that validates recipes."""
    parts: list[Any] = [__version__]
    for directory in (PACKAGE, PACKAGE / "steps", PACKAGE / "checks", PACKAGE / "editors"):
        parts.append(stamp(directory))
    return parts


class ListingCache:
    """Remembered list entries, by recipe file."""

    def __init__(self) -> None:
        self.path = cache_file()
        self.code = code_stamp()
        self.entries: dict[str, Any] = {}
        self.dirty = False
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("code") == self.code:
                self.entries = data.get("entries") or {}

    def get(self, recipe_file: Path, files: list[list[Any]]) -> dict[str, Any] | None:
        """The remembered entry, if the recipe's directory still has these ``files``."""
        remembered = self.entries.get(str(recipe_file))
        if isinstance(remembered, dict) and remembered.get("stamp") == files:
            entry: dict[str, Any] = remembered["entry"]
            return entry
        return None

    def put(self, recipe_file: Path, files: list[list[Any]], entry: dict[str, Any]) -> None:
        self.entries[str(recipe_file)] = {"stamp": files, "entry": entry}
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        with contextlib.suppress(OSError):
            replace_file(self.path, json.dumps({"code": self.code, "entries": self.entries}))

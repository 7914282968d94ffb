"""Paths as envsetup shows them to people, and where it keeps what it remembers."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path) -> str:
    """The path relative to the working directory when it lies below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/envsetup``, by default ``~/.cache/envsetup``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "envsetup"


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole, readable by its owner only (it may name hosts,
    users and their home directories): readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(partial, path)

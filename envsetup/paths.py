"""Paths as envsetup shows them to people."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path) -> str:
    """The path relative to the working directory when it lies below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative

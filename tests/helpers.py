"""Helpers shared by the tests: build file trees in code, run the CLI in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from envsetup.cli import main


def build_file_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def envsetup(*args: str, input: str | None = None) -> Result:
    """Run the CLI in-process, stderr kept apart from stdout."""
    runner = CliRunner()
    return runner.invoke(main, list(args), input=input, catch_exceptions=False)


def run_json(*args: str, input: str | None = None) -> tuple[int, dict[str, Any], str]:
    result = envsetup(*args, "--json", input=input)
    return result.exit_code, json.loads(result.stdout), result.stderr


def steps_by_name(doc: dict[str, Any], target: int = 0) -> dict[str, dict[str, Any]]:
    return {
        step["name"]: step
        for recipe in doc["targets"][target]["recipes"]
        for step in recipe["steps"]
    }

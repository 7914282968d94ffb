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


def write_ssh_alias(home: Path, alias: str, port: int, user: str, key: Path | None = None) -> None:
    """A ~/.ssh/config alias for a loopback port, as a user would write one, for pyinfra
    to honour (``key``: its IdentityFile, where a login needs one)."""
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    identity = f"  IdentityFile {key}\n" if key else ""
    with open(ssh / "config", "a") as config:
        config.write(
            f"Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n"
            f"{identity}  StrictHostKeyChecking no\n"
            f"  UserKnownHostsFile {ssh / 'known_hosts'}\n\n"
        )

"""Keep every test off the real home directory and recipe path."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("ENVSETUP_RECIPES", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)  # envsetup's cache: under that HOME
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    _forget_pyinfra_ssh_config()
    return home


def _forget_pyinfra_ssh_config() -> None:
    """pyinfra memoizes ~/.ssh/config and known_hosts per process; each CLI run is a
    new process, but tests run the CLI in-process with a new HOME each time."""
    from pyinfra.connectors.sshuserclient import client

    for cached in (client.get_ssh_config, client.get_host_keys):
        cached.cache.clear()  # type: ignore[attr-defined]

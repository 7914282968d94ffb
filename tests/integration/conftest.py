from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.roots import DebianRoot, debian_root, make_keypair, skip_reason


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = skip_reason()
    for item in items:
        if "integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def bookworm(tmp_path: Path) -> Iterator[DebianRoot]:
    """A fresh Debian 12 root, copied from the cached base."""
    with debian_root("bookworm", tmp_path / "root") as root:
        yield root


@pytest.fixture
def trixie(tmp_path: Path) -> Iterator[DebianRoot]:
    """A fresh Debian 13 root (no openjdk-17 there)."""
    with debian_root("trixie", tmp_path / "root") as root:
        yield root


@pytest.fixture(scope="session")
def keypair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return make_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def bookworm_own_apt(tmp_path: Path) -> Iterator[DebianRoot]:
    """A fresh Debian 12 root with an apt cache of its own: tests that install packages
    while others run would otherwise wait on the shared cache's lock."""
    with debian_root("bookworm", tmp_path / "root", shared_apt_cache=False) as root:
        yield root

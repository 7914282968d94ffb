"""Targets' info remembered between runs (see envsetup.known_targets)."""

from __future__ import annotations

from pathlib import Path

from envsetup import known_targets
from envsetup.known_targets import KnownTargets

INFO = {"distro": "debian", "version": "12", "uid": "0", "pretty": "Debian GNU/Linux 12"}


def test_remembered_info_is_there_for_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "targets.json"
    known = KnownTargets(path)
    assert known.get("web-1") is None
    known.remember("web-1", INFO)
    known.save()
    assert KnownTargets(path).get("web-1") == INFO
    assert path.stat().st_mode & 0o777 == 0o600  # it names targets, users, home directories


def test_an_unreadable_or_foreign_file_is_as_if_empty(tmp_path: Path) -> None:
    path = tmp_path / "targets.json"
    for text in ("not json", "[1, 2]", '{"web-1": "a string", "web-2": {"uid": 0}}'):
        path.write_text(text)
        known = KnownTargets(path)
        assert known.get("web-1") is None and known.get("web-2") is None
    known.remember("web-1", INFO)
    known.save()
    assert KnownTargets(path).get("web-1") == INFO


def test_only_the_newest_targets_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "targets.json"
    known = KnownTargets(path)
    for index in range(known_targets.LIMIT + 3):
        known.remember(f"host-{index}", INFO)
    known.save()
    kept = KnownTargets(path)
    assert kept.get("host-0") is None and kept.get("host-2") is None
    assert kept.get("host-3") == INFO and kept.get(f"host-{known_targets.LIMIT + 2}") == INFO
    assert len(kept.infos) == known_targets.LIMIT


def test_a_directory_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    known = KnownTargets(blocker / "targets.json")  # its parent is a file
    known.remember("web-1", INFO)
    known.save()  # nothing written, nothing raised
    assert KnownTargets(blocker / "targets.json").get("web-1") is None

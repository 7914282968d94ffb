"""``envsetup list`` remembers validated recipes until a file they depend on changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import envsetup

RECIPE = """\
name: mine
summary: {summary}
platforms:
  - {{distro: debian, version: ">=12"}}
steps:
  - name: marker
    shell: {{run: "touch /tmp/x", creates: /tmp/x}}
    verify:
      - file: {{path: /tmp/x}}
"""


def listed(name: str) -> dict[str, object]:
    entries = json.loads(envsetup("list", "--json").stdout)
    return next(e for e in entries if e["name"] == name)


@pytest.fixture()
def recipes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "recipes"
    (directory / "mine").mkdir(parents=True)
    (directory / "mine" / "recipe.yaml").write_text(RECIPE.format(summary="first"))
    monkeypatch.setenv("ENVSETUP_RECIPES", str(directory))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return directory / "mine"


def test_entries_are_reused_until_the_recipe_directory_changes(
    recipes: Path, tmp_path: Path
) -> None:
    assert listed("mine")["summary"] == "first"
    cache = tmp_path / "cache" / "envsetup" / "list.json"
    data = json.loads(cache.read_text())
    entry = data["entries"][str(recipes / "recipe.yaml")]
    entry["entry"]["summary"] = "from the cache"
    cache.write_text(json.dumps(data))
    assert listed("mine")["summary"] == "from the cache"  # not validated again

    (recipes / "recipe.yaml").write_text(RECIPE.format(summary="second"))
    assert listed("mine")["summary"] == "second"  # the recipe changed: validated again

    def tamper() -> None:
        data = json.loads(cache.read_text())
        data["entries"][str(recipes / "recipe.yaml")]["entry"]["summary"] = "stale"
        cache.write_text(json.dumps(data))

    tamper()
    (recipes / "unit.j2").write_text("a file next to it, e.g. a template")
    assert listed("mine")["summary"] == "second"  # a file beside it changed: validated again
    tamper()
    data = json.loads(cache.read_text())
    data["code"][0] = "0.0.0"  # another envsetup version
    cache.write_text(json.dumps(data))
    assert listed("mine")["summary"] == "second"


def test_a_broken_recipe_is_never_remembered(recipes: Path) -> None:
    (recipes / "recipe.yaml").write_text("name: mine\nsummary: [unclosed\n")
    for _ in range(2):
        error = listed("mine")["error"]
        assert isinstance(error, str) and "invalid YAML" in error
    (recipes / "recipe.yaml").write_text(RECIPE.format(summary="fixed"))
    assert listed("mine") | {"path": None} == {
        "name": "mine",
        "path": None,
        "summary": "fixed",
        "platforms": ["Debian >=12"],
        "error": None,
    }


def test_an_unusable_cache_only_costs_time(recipes: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "envsetup" / "list.json"
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    assert listed("mine")["summary"] == "first"
    assert json.loads(cache.read_text())["entries"]  # rewritten
    cache.unlink()
    cache.parent.chmod(0o500)
    try:
        if os.geteuid() != 0:  # root may write anyway
            assert listed("mine")["summary"] == "first"
            assert not cache.exists()
    finally:
        cache.parent.chmod(0o700)

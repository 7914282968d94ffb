"""``envsetup new`` writes a skeleton that validates; ``envsetup show`` reads as sentences."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import yaml

from envsetup.catalog import load_recipe
from tests.helpers import envsetup


def test_new_writes_a_skeleton_that_validates(tmp_path: Path) -> None:
    result = envsetup("new", "my-tools", "-C", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "my-tools" / "recipe.yaml"
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=recipe.schema.json\n")
    recipe = load_recipe(str(path))
    assert recipe.name == "my-tools" and len(recipe.steps) == 2 and len(recipe.remove) == 1
    schema = json.loads((tmp_path / "my-tools" / "recipe.schema.json").read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(text))) == []
    assert result.stdout.startswith(f"wrote {path} (and recipe.schema.json beside it")


def test_new_never_replaces_a_recipe(tmp_path: Path) -> None:
    assert envsetup("new", "demo", "-C", str(tmp_path)).exit_code == 0
    (tmp_path / "demo" / "recipe.yaml").write_text("mine\n")
    again = envsetup("new", "demo", "-C", str(tmp_path))
    assert again.exit_code == 2
    assert "demo/recipe.yaml already exists" in again.stderr
    assert (tmp_path / "demo" / "recipe.yaml").read_text() == "mine\n"


def test_new_refuses_a_bad_name(tmp_path: Path) -> None:
    result = envsetup("new", "My Tools", "-C", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("envsetup: error: 'My Tools' is not a recipe name\n")
    assert os.listdir(tmp_path) == []


def test_show_renders_steps_and_checks_with_the_defaults() -> None:
    shown = envsetup("show", "ubuntu-java17")
    assert shown.exit_code == 0
    out = shown.stdout
    assert "(rendered with the default values for ubuntu 22.04 amd64, user root)" in out
    assert "     does: apt install openjdk-17-jdk\n" in out
    assert "     checks: package openjdk-17-jdk installed\n" in out
    assert '     does: JAVA_HOME="/usr/lib/jvm/java-17-openjdk-amd64" in /etc/environment\n' in out
    assert "{'path'" not in out and "None" not in out  # no raw Python data any more
    doc = json.loads(envsetup("show", "wsl-systemd", "--json").stdout)
    masked = doc["readable"]["steps"][2]
    assert masked["when"] == "mask_binfmt"
    assert masked["does"] == "(skipped with the default values: mask_binfmt is false)"

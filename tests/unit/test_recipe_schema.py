"""The JSON Schema accepts every built-in recipe and refuses what envsetup's loader refuses."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from envsetup.errors import RecipeError
from envsetup.recipe_schema import recipe_schema
from envsetup.schema import parse_recipe

ROOT = Path(__file__).resolve().parents[2]
BUILT_IN = sorted((ROOT / "recipes").glob("*/recipe.yaml"))
VALIDATOR = jsonschema.Draft202012Validator(recipe_schema())

GOOD = """\
name: demo
summary: A demo
platforms:
  - {distro: debian, version: ">=12"}
vars:
  headless: {type: bool, default: false}
let:
  jdk: "openjdk-17-jdk{{ '-headless' if headless else '' }}"
steps:
  - name: Install
    apt: ["{{ jdk }}", curl]
  - name: Key
    ini: {path: /etc/wsl.conf, section: boot, key: systemd, value: "true"}
    implied: false
    verify:
      - file: /etc/wsl.conf
      - package: {name: "{{ jdk }}", version: ">=17,<18"}
        hint: install it
"""


def errors(data: object) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(data)]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(recipe_schema())


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.parent.name)
def test_every_built_in_recipe_is_valid(path: Path) -> None:
    assert len(BUILT_IN) >= 4
    assert errors(yaml.safe_load(path.read_text())) == []


def test_short_forms_let_and_implied_are_valid_for_both() -> None:
    assert errors(yaml.safe_load(GOOD)) == []
    parse_recipe(GOOD, Path("/r/recipe.yaml"))


BROKEN = {
    "step-as-string": GOOD.replace(
        "  - name: Install\n    apt:", "  - Install curl\n  - name: x\n    apt:"
    ),
    "two-kinds": GOOD.replace("    apt: [", "    shell: {run: x, creates: /x}\n    apt: ["),
    "no-kind": GOOD.replace('    apt: ["{{ jdk }}", curl]\n', ""),
    "unknown-top-key": GOOD + "colour: blue\n",
    "unknown-step-key": GOOD.replace("    implied: false", "    implies: false"),
    "unknown-field": GOOD.replace("section: boot", "sektion: boot"),
    "missing-required-field": GOOD.replace("section: boot, ", ""),
    "bool-field-as-text": GOOD.replace("implied: false", "implied: nope"),
    "unknown-check-kind": GOOD.replace(
        "      - file: /etc/wsl.conf", "      - fiel: /etc/wsl.conf"
    ),
    "bad-var-type": GOOD.replace("type: bool", "type: boolean"),
    "missing-name": GOOD.replace("name: demo\n", ""),
    "bad-mode": GOOD.replace('value: "true"}', 'value: "true", mode: "rw-r--r--"}'),
}


@pytest.mark.parametrize("text", BROKEN.values(), ids=list(BROKEN))
def test_broken_recipes_are_refused_by_the_schema_and_the_loader(text: str) -> None:
    assert errors(yaml.safe_load(text)) != []
    with pytest.raises(RecipeError):
        parse_recipe(text, Path("/r/recipe.yaml"))

"""The reference comes from the kinds' own declarations, and the checked-in copies are current."""

from __future__ import annotations

import json
from pathlib import Path

from envsetup import reference, schema
from envsetup.checks import CHECK_KINDS
from envsetup.recipe_schema import recipe_schema, schema_text
from envsetup.steps import STEP_KINDS
from tests.helpers import envsetup

ROOT = Path(__file__).resolve().parents[2]


def test_docs_recipes_md_is_current() -> None:
    assert (ROOT / "docs/recipes.md").read_text() == reference.markdown(), (
        "docs/recipes.md is out of date: envsetup kinds --markdown > docs/recipes.md"
    )


def test_shipped_schema_is_current() -> None:
    assert (ROOT / "envsetup/recipe.schema.json").read_text() == schema_text(), (
        "envsetup/recipe.schema.json is out of date: envsetup schema > envsetup/recipe.schema.json"
    )


def test_every_key_of_every_kind_is_documented() -> None:
    undocumented = [
        f"{registry_name}:{name}.{key}"
        for registry_name, registry in (("step", STEP_KINDS), ("check", CHECK_KINDS))
        for name, kind in registry.items()
        for key, spec in kind.fields.items()
        if not spec.doc
    ]
    assert undocumented == []
    assert all(kind.__doc__ for kind in (*STEP_KINDS.values(), *CHECK_KINDS.values()))


def test_reference_names_every_key_the_loader_accepts() -> None:
    assert tuple(reference.TOP_LEVEL) == schema._TOP_KEYS
    assert set(reference.STEP_KEYS) == schema._STEP_COMMON
    properties = recipe_schema()["properties"]
    assert tuple(properties) == schema._TOP_KEYS


def test_kinds_lists_every_kind_and_shows_one() -> None:
    listing = envsetup("kinds")
    assert listing.exit_code == 0
    for name in (*STEP_KINDS, *CHECK_KINDS):
        assert f"  {name} " in listing.stdout
    apt = envsetup("kinds", "apt").stdout
    assert apt.startswith("apt (step kind): Install or remove Debian packages with apt.\n")
    assert "  cache_time (integer; default 3600)\n      seconds for which package lists" in apt
    assert "short form: `apt: VALUE` is `apt: {packages: VALUE}`" in apt
    assert "implied checks: Each package installed (or not), as dpkg reports it." in apt
    assert '  apt: {packages: ["openjdk-17-jdk", "curl"], cache_time: 86400}' in apt
    # env_file is both a step kind and a check kind: both are shown
    both = envsetup("kinds", "env_file").stdout
    assert "env_file (step kind)" in both and "env_file (check kind)" in both
    recipe = envsetup("kinds", "recipe").stdout
    assert "target.arch" in recipe and "Where state lives:" in recipe


def test_unknown_kind_exit_2_naming_the_kinds() -> None:
    result = envsetup("kinds", "apr")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "envsetup: error: no kind named 'apr'\nFix: one of: alternatives, apt,"
    )


def test_schema_command_prints_the_schema() -> None:
    result = envsetup("schema")
    assert json.loads(result.stdout) == recipe_schema()


def test_every_filter_envsetup_adds_is_documented() -> None:
    from envsetup.templates import FILTERS

    assert set(reference.FILTER_DOCS) == set(FILTERS)


def test_the_readme_walk_through_recipe_is_valid(tmp_path: Path) -> None:
    from envsetup.schema import parse_recipe

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Writing recipes") :]
    start = section.index("```yaml\n") + len("```yaml\n")
    text = section[start : section.index("```", start)]
    recipe = parse_recipe(text, tmp_path / "my-tool" / "recipe.yaml")
    assert [step.kind for step in recipe.steps] == ["apt", "env_file"]

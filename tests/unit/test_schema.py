"""Every schema error message, asserted exactly (file, line, key path, message)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from envsetup.catalog import load_recipe
from envsetup.errors import RecipeError
from envsetup.schema import parse_recipe

VALID = """\
name: demo
summary: A demo recipe
platforms:
  - {distro: debian, version: "==12"}
vars:
  user:
    type: str
    default: root
steps:
  - name: Put a line
    env_file: {key: DEMO, value: "{{ user }}"}
    verify:
      - file: {path: /etc/environment, contains: "^DEMO="}
"""


def error_of(text: str, file: str = "/r/recipe.yaml") -> str:
    with pytest.raises(RecipeError) as info:
        parse_recipe(textwrap.dedent(text), Path(file))
    return info.value.message


def test_valid_recipe_parses() -> None:
    recipe = parse_recipe(VALID, Path("/r/recipe.yaml"))
    assert recipe.name == "demo"
    assert [str(p) for p in recipe.platforms] == ["Debian ==12"]
    assert recipe.vars["user"].default == "root"
    assert recipe.steps[0].kind == "env_file"
    assert recipe.steps[0].args == {
        "key": "DEMO",
        "value": "{{ user }}",
        "path": "/etc/environment",
        "present": True,
    }
    assert recipe.steps[0].verify[0].kind == "file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            VALID.replace(
                '      - file: {path: /etc/environment, contains: "^DEMO="}',
                "      - file: {path: /etc/environment, contain: x}",
            ),
            "/r/recipe.yaml:13: steps[0].verify[0].file.contain: unknown key 'contain', "
            "did you mean 'contains'? "
            "(expected one of: absent, contains, exists, mode, owner, path)",
        ),
        (
            VALID.replace("summary: A demo recipe\n", ""),
            "/r/recipe.yaml:1: missing required key 'summary'",
        ),
        (
            VALID + "colour: blue\n",
            "/r/recipe.yaml:14: colour: unknown key 'colour' (expected one of: name, summary, "
            "description, min_envsetup_version, platforms, vars, let, requires, preflight, "
            "steps, remove, restart)",
        ),
        (
            VALID.replace("env_file:", "env_fil:"),
            "/r/recipe.yaml:11: steps[0].env_fil: unknown key 'env_fil', did you mean "
            "'env_file'? (step kinds: "
            "alternatives, apt, archive, download, env_file, group, ini, ollama_pull, pip, "
            "service, shell, template, torch, user, uv, venv; other keys: implied, name, notice, "
            "on_change, verify, when)",
        ),
        (
            VALID.replace("    verify:\n", "    implied: perhaps\n    verify:\n"),
            "/r/recipe.yaml:12: steps[0].implied: expected a boolean, got 'perhaps'",
        ),
        (
            VALID.replace("{{ user }}", "{{ usr }}"),
            "/r/recipe.yaml:11: steps[0].env_file.value: unknown variable 'usr' in template, "
            "did you mean 'user'? (declared: user; target facts: target.distro, "
            "target.version, target.arch, target.user)",
        ),
        (
            VALID.replace("type: str", "type: string"),
            "/r/recipe.yaml:7: vars.user.type: 'string' is not one of: str, bool, int, path, list",
        ),
        (
            VALID.replace('version: "==12"', 'version: "twelve"'),
            "/r/recipe.yaml:4: platforms[0].version: 'twelve' is not a version specifier "
            "(e.g. >=22.04)",
        ),
        (
            VALID.replace('contains: "^DEMO="', 'contains: "("'),
            "/r/recipe.yaml:13: steps[0].verify[0].file: missing ), unterminated subpattern "
            "at position 0",
        ),
        (
            VALID.replace(
                'env_file: {key: DEMO, value: "{{ user }}"}',
                'env_file: {key: DEMO, value: "{{ user }}"}\n    apt: {packages: [x]}',
            ),
            "/r/recipe.yaml:10: steps[0]: a step needs exactly one action kind, "
            "found env_file, apt",
        ),
        (
            VALID.replace("default: root", "default: [a, b]"),
            "/r/recipe.yaml:8: vars.user.default: user: expected a string, got ['a', 'b']",
        ),
        (
            VALID.replace("    type: str\n", ""),
            "/r/recipe.yaml:6: vars.user: missing required key 'type'",
        ),
        (
            "name: x\nname: y\n",
            "/r/recipe.yaml:2: name: duplicate key 'name'",
        ),
        (
            "name: [unclosed\n",
            "/r/recipe.yaml:2: invalid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "name: !!python/name:os.system x\n",
            "/r/recipe.yaml:1: invalid YAML: tag 'tag:yaml.org,2002:python/name:os.system' is not "
            "allowed (only plain YAML data)",
        ),
        (
            "- just a list\n",
            "/r/recipe.yaml:1: a recipe must be a mapping, got a list",
        ),
        (
            VALID.replace("name: demo", "name: Demo!"),
            "/r/recipe.yaml:1: name: 'Demo!' must be lower-case letters, digits, '-' or '_'",
        ),
        (
            VALID.replace("name: demo", "name: demo\nmin_envsetup_version: '99.0'"),
            "/r/recipe.yaml:2: min_envsetup_version: this recipe needs envsetup >= 99.0, but this "
            "is 0.1.0; upgrade envsetup (pip install -U envsetup)",
        ),
        (
            VALID.replace(
                '    env_file: {key: DEMO, value: "{{ user }}"}', "    apt: {packages: x}"
            ),
            "/r/recipe.yaml:11: steps[0].apt.packages: expected a list of strings, got 'x'",
        ),
    ],
    ids=[
        "unknown-check-key",
        "missing-summary",
        "unknown-top-key",
        "unknown-step-kind",
        "implied-not-bool",
        "unknown-template-variable",
        "bad-var-type",
        "bad-specifier",
        "bad-regex",
        "two-kinds",
        "bad-default",
        "missing-var-type",
        "duplicate-key",
        "malformed-yaml",
        "python-tag",
        "not-a-mapping",
        "bad-name",
        "too-new",
        "wrong-type",
    ],
)
def test_schema_errors(text: str, message: str) -> None:
    assert error_of(text) == message


def test_unknown_recipe_names_the_available_ones() -> None:
    with pytest.raises(RecipeError) as info:
        load_recipe("no-such-recipe")
    assert info.value.message == "unknown recipe 'no-such-recipe'"
    assert info.value.fix is not None and "ubuntu-java17" in info.value.fix


def test_recipe_from_a_path_and_from_envsetup_recipes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "recipe.yaml").write_text(VALID)
    assert load_recipe(str(tmp_path / "demo" / "recipe.yaml")).name == "demo"
    monkeypatch.setenv("ENVSETUP_RECIPES", str(tmp_path))
    assert load_recipe("demo").path == tmp_path / "demo" / "recipe.yaml"


def test_builtin_recipes_are_valid() -> None:
    recipe = load_recipe("ubuntu-java17")
    assert [str(p) for p in recipe.platforms] == [
        "Ubuntu >=22.04",
        "Debian ==12",
        "not Debian >=13",
    ]
    assert [s.kind for s in recipe.steps] == ["apt", "alternatives", "env_file"]
    assert all(step.verify for step in recipe.steps)


def test_requires_are_loaded_first_once_and_loops_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envsetup.catalog import load_with_requirements

    def recipe(name: str, requires: list[str]) -> str:
        return f"name: {name}\nsummary: s\nrequires: {requires}\nsteps: []\n"

    for name, requires in {"a": ["b", "c"], "b": ["c"], "c": [], "x": ["y"], "y": ["x"]}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "recipe.yaml").write_text(recipe(name, requires))
    monkeypatch.setenv("ENVSETUP_RECIPES", str(tmp_path))
    assert [r.name for r in load_with_requirements(["a", "c"])] == ["c", "b", "a"]
    with pytest.raises(RecipeError, match=r"recipe x: requires loop: x -> y"):
        load_with_requirements(["x"])


def test_template_step_renders_sandboxed_with_explicit_mode(tmp_path: Path) -> None:
    from envsetup.kinds import FileEdit, StepContext
    from envsetup.steps.template import Template

    (tmp_path / "unit.j2").write_text("[Service]\nEnvironment=HOME={{ home }}\n")
    args = {
        "src": "unit.j2",
        "dest": "/etc/demo.conf",
        "mode": "0640",
        "owner": "root",
        "group": "adm",
    }
    action = Template.action(args, StepContext(tmp_path, {"home": "/opt/x"}))
    assert isinstance(action, FileEdit)
    assert (action.path, action.mode, action.owner, action.group) == (
        "/etc/demo.conf",
        "0640",
        "root",
        "adm",
    )
    assert action.edit("old content") == "[Service]\nEnvironment=HOME=/opt/x\n"
    with pytest.raises(ValueError, match="dest must be an absolute path"):
        Template.action({**args, "dest": "etc/x"}, StepContext(tmp_path, {"home": "/x"}))

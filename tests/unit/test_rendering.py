"""Templates (sandboxed, strict, rooted), variables (typed), and shell quoting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from envsetup.errors import RecipeError, VariableError
from envsetup.kinds import Field
from envsetup.schema import Var, coerce, parse_recipe
from envsetup.templates import render_args, render_file, render_value
from envsetup.variables import parse_assignments, resolve_overrides, resolve_variables

TARGET = {"distro": "debian", "version": "12", "arch": "arm64", "user": "dev"}


def test_render_value_is_strict_and_sandboxed() -> None:
    assert render_value(["a-{{ x }}", {"k": "{{ x }}"}], {"x": 1}) == ["a-1", {"k": "1"}]
    with pytest.raises(UndefinedError):
        render_value("{{ missing }}", {})
    with pytest.raises(SecurityError):
        render_value("{{ ''.__class__.__mro__ }}", {})


def test_shell_fields_quote_every_interpolated_value() -> None:
    fields = {"run": Field("shell"), "path": Field("str"), "present": Field("bool")}
    hostile = "x'; rm -rf / #$(reboot)\n"
    out = render_args(
        {"run": "ls {{ v }}/bin", "path": "{{ v }}", "present": "{{ flag }}"},
        fields,
        {"v": hostile, "flag": False},
    )
    assert out["run"] == "ls 'x'\"'\"'; rm -rf / #$(reboot)\n'/bin"
    assert out["path"] == hostile
    assert out["present"] is False


def test_template_files_cannot_leave_the_recipe_directory(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    (recipe / "ok.j2").write_text("hello {{ name }}\n")
    (tmp_path / "secret").write_text("top secret")
    os.symlink(tmp_path / "secret", recipe / "link.j2")
    assert render_file(recipe, "ok.j2", {"name": "x"}) == "hello x\n"
    for bad in ("../secret", "link.j2", "/etc/passwd"):
        with pytest.raises(RecipeError, match="not found in"):
            render_file(recipe, bad, {})


def test_coerce_types_and_patterns() -> None:
    assert coerce(Var("h", "bool", None), "yes") is True
    assert coerce(Var("n", "int", None), "42") == 42
    assert coerce(Var("l", "list", None), "a, b") == ["a", "b"]
    with pytest.raises(VariableError, match=r"^h: expected a boolean \(true/false\), got 'maybe'$"):
        coerce(Var("h", "bool", None), "maybe")
    with pytest.raises(VariableError, match="newlines and NUL bytes are not allowed"):
        coerce(Var("s", "str", None), "a\nb")
    with pytest.raises(VariableError, match="expected an absolute path"):
        coerce(Var("p", "path", None), "relative/dir")
    with pytest.raises(VariableError, match="does not match the pattern"):
        coerce(Var("u", "str", None, pattern="[a-z]+"), "bob;id")
    with pytest.raises(VariableError, match="is not one of: cpu, cuda"):
        coerce(Var("t", "str", None, choices=("cpu", "cuda")), "rocm")


def test_overrides_are_checked_before_anything_runs() -> None:
    recipe = parse_recipe(
        "name: r\nsummary: s\nvars:\n  headless: {type: bool, default: false}\nsteps: []\n",
        Path("/r/recipe.yaml"),
    )
    assert resolve_overrides([recipe], parse_assignments(["headless=true"])) == {
        "r": {"headless": True}
    }
    with pytest.raises(VariableError) as info:
        resolve_overrides([recipe], {"headles": "true"})
    assert info.value.message == "unknown variable 'headles', did you mean 'headless'?"
    assert info.value.fix == "variables you can set: r.headless"
    with pytest.raises(VariableError, match="expected KEY=VALUE"):
        parse_assignments(["novalue"])


def test_defaults_render_from_target_facts_but_overrides_never_render() -> None:
    recipe = parse_recipe(
        "name: r\nsummary: s\nvars:\n"
        "  home: {type: path, default: '/usr/lib/jvm/java-17-openjdk-{{ target.arch }}'}\n"
        "  bin: {type: path, default: '{{ home }}/bin'}\n"
        "steps: []\n",
        Path("/r/recipe.yaml"),
    )
    assert resolve_variables(recipe, {}, TARGET) == {
        "home": "/usr/lib/jvm/java-17-openjdk-arm64",
        "bin": "/usr/lib/jvm/java-17-openjdk-arm64/bin",
    }
    literal = resolve_variables(recipe, {"home": "/opt/{{ target.user }}"}, TARGET)
    assert literal["home"] == "/opt/{{ target.user }}"


def test_pip_requirements_are_checked_when_rendered(tmp_path: Path) -> None:
    from envsetup.kinds import Op, StepContext
    from envsetup.steps.python import Pip

    def action(*requirements: str) -> Op:
        args = {"venv": "/opt/venv", "requirements": list(requirements), "user": "root"}
        op = Pip.action(args | {"options": []}, StepContext(tmp_path, {}))
        assert isinstance(op, Op)
        return op

    wanted = ["transformers>=4.40", "torch==2.13.0"]
    assert action(*wanted).kwargs["requirements"] == wanted
    with pytest.raises(ValueError, match="'torch>>2' is not a requirement"):
        action("torch>>2")
    with pytest.raises(ValueError, match="URL requirements are not allowed"):
        action("pkg @ https://example.invalid/pkg.whl")


def test_template_names_are_remembered_but_errors_raised_every_time() -> None:
    from envsetup.templates import template_names

    source = "{{ a }}-{{ target.arch }}"
    assert template_names(source) == {"a", "target"}
    assert template_names(source) is template_names(source)
    for _ in range(2):
        with pytest.raises(ValueError, match="expected token 'end of print statement'"):
            template_names("{{ a b }}")

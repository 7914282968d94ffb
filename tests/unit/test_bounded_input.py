"""Hostile recipe files: bounded size, alias expansion and nesting, each a recipe error
(exit 2) that comes quickly and in little memory; an unexpected crash exits 4."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from envsetup.errors import EXIT_CRASHED, RecipeError
from envsetup.schema import LIMITS_FIX, MAX_BYTES, SAFE_LOADER, _load_yaml, parse_recipe
from tests.helpers import envsetup

# "billion laughs": nine levels of nine aliases, 9**9 strings once expanded
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)
DEEP = "name: " + "[" * 20000 + "]" * 20000 + "\n"
FIX = f"Fix: {LIMITS_FIX}"


def run_bounded(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str, float, int]:
    """Run the CLI in a child process held to 1 GiB of address space and 60 s of CPU;
    return its exit status, stdout, stderr, seconds taken and peak memory in MiB."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        resource.setrlimit(resource.RLIMIT_CPU, (60, 60))

    start = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "envsetup", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=cap,
        env={**os.environ, **(env or {})},
    )
    assert child.stdout is not None and child.stderr is not None
    stdout, stderr = child.stdout.read(), child.stderr.read()  # both small
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not all children's
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    child.stderr.close()
    seconds = time.monotonic() - start
    return child.returncode, stdout.decode(), stderr.decode(), seconds, usage.ru_maxrss // 1024


def test_alias_bomb_is_a_recipe_error_quickly(tmp_path: Path) -> None:
    recipe = tmp_path / "bomb.yaml"
    recipe.write_text(BOMB)
    code, _, stderr, seconds, mib = run_bounded("show", str(recipe))
    assert stderr == (
        f"envsetup: error: {recipe}:5: e: more than 50,000 values once aliases are expanded\n"
        f"{FIX}\n"
    )
    assert code == 2
    assert seconds < 10 and mib < 200, (seconds, mib)


def test_alias_bomb_is_listed_as_broken(tmp_path: Path) -> None:
    recipe = tmp_path / "bomb" / "recipe.yaml"
    recipe.parent.mkdir()
    recipe.write_text(BOMB)
    code, stdout, stderr, seconds, mib = run_bounded(
        "list", "--json", env={"ENVSETUP_RECIPES": str(tmp_path)}
    )
    assert (code, stderr) == (0, "")
    entries = {entry["path"]: entry for entry in json.loads(stdout)}
    assert entries[str(recipe)]["error"] == (
        f"{recipe}:5: e: more than 50,000 values once aliases are expanded\n{FIX}"
    )
    assert seconds < 10 and mib < 200, (seconds, mib)


def test_twenty_thousand_nested_lists_exit_2(tmp_path: Path) -> None:
    recipe = tmp_path / "deep.yaml"
    recipe.write_text(DEEP)
    code, _, stderr, seconds, mib = run_bounded("show", str(recipe))
    assert stderr == f"envsetup: error: {recipe}:1: nested more than 50 levels deep\n{FIX}\n"
    assert code == 2
    assert seconds < 10 and mib < 200, (seconds, mib)


def error_of(text: str) -> str:
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, Path("/r/recipe.yaml"))
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: demo\nsteps:\n" + "".join(" " * i + "- \n" for i in range(2, 400)),
            f"/r/recipe.yaml:52: nested more than 50 levels deep\n{FIX}",
        ),
        (
            "name: demo\nsteps: &loop [*loop]\n",  # an alias inside what it names
            f"/r/recipe.yaml:2: steps: nested more than 50 levels deep\n{FIX}",
        ),
        (
            "name: demo\n? [a, b]\n: c\n",
            "/r/recipe.yaml:2: the document: a key must be a plain value, not a list or a mapping",
        ),
        (
            "name: " + "x" * MAX_BYTES + "\n",
            f"/r/recipe.yaml:1: the file has {MAX_BYTES + 7:,} characters, more than a recipe "
            f"may (256 KiB)\n{FIX}",
        ),
    ],
    ids=["deep-block", "recursive-alias", "list-as-key", "too-large"],
)
def test_bounds_are_recipe_errors(text: str, message: str) -> None:
    assert error_of(text) == message


def test_the_pure_python_loader_stops_at_the_same_depth() -> None:
    """The loader used where libyaml is missing or old recurses in Python: it stops at
    MAX_DEPTH itself, rather than in a RecursionError."""
    with pytest.raises(RecipeError) as info:
        _load_yaml(DEEP, "/r/deep.yaml", SAFE_LOADER)
    assert str(info.value) == f"/r/deep.yaml:1: nested more than 50 levels deep\n{FIX}"


def test_a_recipe_file_over_the_limit_is_not_read(tmp_path: Path) -> None:
    recipe = tmp_path / "big.yaml"
    recipe.write_bytes(b"# " + b"\xff" * (MAX_BYTES * 4))  # not even UTF-8: never decoded
    result = envsetup("show", str(recipe))
    assert result.exit_code == 2
    assert result.stderr == (
        f"envsetup: error: {recipe}:1: the file is larger than a recipe may be (256 KiB)\n{FIX}\n"
    )


def test_an_unexpected_error_exits_4_and_points_to_verbose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        textwrap.dedent(
            """\
            name: r
            summary: r
            steps: []
            """
        )
    )

    def crash(name: str) -> None:
        raise ZeroDivisionError("injected")

    monkeypatch.setattr("envsetup.commands.recipes.show_recipe", crash)
    result = envsetup("show", str(recipe))
    assert result.exit_code == EXIT_CRASHED == 4
    first, second = result.stderr.splitlines()
    assert first == "envsetup: unexpected error: ZeroDivisionError: injected"
    assert second.endswith(
        "rerun with -v for the traceback; this is a bug in envsetup: please report it)"
    )
    as_json = envsetup("show", str(recipe), "--json")
    assert as_json.exit_code == 4
    assert json.loads(as_json.stdout) == {
        "ok": False,
        "exit_code": 4,
        "error": "unexpected error: ZeroDivisionError: injected",
        "fix": None,
    }
    verbose = envsetup("-v", "show", str(recipe))
    assert verbose.exit_code == 4
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "ZeroDivisionError: injected" in verbose.stderr

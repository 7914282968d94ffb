"""'Did you mean' for recipe names, variable names and kind keys."""

from __future__ import annotations

import pytest

from envsetup.checks import CHECK_KINDS
from envsetup.steps import STEP_KINDS
from envsetup.suggest import closest, did_you_mean
from tests.helpers import envsetup

RECIPES = ["hf-transformers", "ollama-llama3", "ubuntu-java17", "wsl-systemd"]


@pytest.mark.parametrize(
    ("typed", "known", "expected"),
    [
        ("ubuntu-java71", RECIPES, "ubuntu-java17"),  # swapped digits
        ("ubuntu-jav17", RECIPES, "ubuntu-java17"),  # a letter missing
        ("Ubuntu-Java17", RECIPES, "ubuntu-java17"),  # only the case differs
        ("ollama-llama", RECIPES, "ollama-llama3"),
        ("wsl-sytemd", RECIPES, "wsl-systemd"),
        ("headles", ["headless", "java_home", "login_user"], "headless"),
        ("javahome", ["headless", "java_home", "login_user"], "java_home"),
        ("env_fil", list(STEP_KINDS), "env_file"),
        ("alternative", list(STEP_KINDS), "alternatives"),
        ("pakage", list(CHECK_KINDS), "package"),
        ("no-such-recipe", RECIPES, None),  # nothing close: no guess
        ("java", ["headless", "java_home", "login_user"], None),
        ("x", RECIPES, None),
    ],
)
def test_closest(typed: str, known: list[str], expected: str | None) -> None:
    assert closest(typed, known) == expected


def test_did_you_mean_text() -> None:
    assert did_you_mean("headles", ["headless"]) == ", did you mean 'headless'?"
    assert did_you_mean("zzz", ["headless"]) == ""


def test_misspelt_recipe_on_the_command_line() -> None:
    result = envsetup("plan", "ubuntu-java71")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "envsetup: error: unknown recipe 'ubuntu-java71', did you mean 'ubuntu-java17'?"
    )

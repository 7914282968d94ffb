"""Steps imply the checks of their own action; let: and short forms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envsetup.errors import RecipeError
from envsetup.preparation import prepare, target_context
from envsetup.schema import parse_recipe

DEBIAN = {"distro": "debian", "version": "12", "arch": "amd64", "user": "root", "pid1": "systemd"}

RECIPE = """\
name: demo
summary: A demo
vars:
  headless: {type: bool, default: true}
let:
  jdk: "openjdk-17-jdk{{ '-headless' if headless else '' }}"
  jre: "{{ jdk | replace('-jdk', '-jre') }}"
steps:
  - name: Install
    apt: ["{{ jdk }}", "curl=7.88.1-10"]
    verify:
      - package: "{{ jdk }}"
  - name: Service
    service: {name: ollama.service}
  - name: Group
    group: {name: ollama, system: true}
  - name: User
    user: {name: ollama, system: true, home: /usr/share/ollama, shell: /bin/false}
  - name: Key
    ini: {path: /etc/wsl.conf, section: boot, key: systemd, value: "true"}
  - name: No implied checks
    implied: false
    env_file: {key: JRE, value: "{{ jre }}"}
  - name: Environment
    env_file: {key: JRE, value: "{{ jre }}"}
  - name: Links
    alternatives: {links: {java: /usr/lib/jvm/x+y/bin/java}}
  - name: Shell
    shell: {run: "true", creates: /x}
remove:
  - name: Remove
    apt: {packages: ["{{ jdk }}"], present: false}
"""


def checks(mode: str = "apply", text: str = RECIPE) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    recipe = parse_recipe(text, Path("/r/recipe.yaml"))
    steps = prepare(recipe, mode, {}, target_context(DEBIAN))
    return {
        s.step.name: [
            (c.check.kind, {k: v for k, v in c.args.items() if k != "as_owner_of" or v})
            for c in s.checks
        ]
        for s in steps
    }


def test_each_kind_states_what_its_action_implies() -> None:
    found = checks()
    # the package check written out is one of the implied ones: it runs once, where it is
    # written; a pinned package is checked by name
    assert found["Install"] == [
        ("package", {"name": "curl", "installed": True, "version": None}),
        ("package", {"name": "openjdk-17-jdk-headless", "installed": True, "version": None}),
    ]
    assert found["Service"] == [
        (
            "command",
            {"run": "systemctl is-enabled ollama.service", "status": 0, "output": "^enabled$"},
        ),
        (
            "command",
            {"run": "systemctl is-active ollama.service", "status": 0, "output": "^active$"},
        ),
    ]
    assert found["Group"] == [
        ("command", {"run": "getent group ollama", "status": 0, "output": None})
    ]
    assert found["User"] == [
        (
            "command",
            {
                "run": "getent passwd ollama",
                "status": 0,
                "output": ":/usr/share/ollama:/bin/false$",
            },
        )
    ]
    assert found["Key"] == [
        ("ini", {"path": "/etc/wsl.conf", "section": "boot", "key": "systemd", "value": "true"})
    ]
    assert found["No implied checks"] == []
    assert found["Environment"] == [
        (
            "env_file",
            {
                "key": "JRE",
                "value": "openjdk-17-jre-headless",
                "path": "/etc/environment",
                "present": True,
            },
        )
    ]
    assert found["Links"] == [
        (
            "command",
            {
                "run": "update-alternatives --query java",
                "status": 0,
                "output": r"^Value: /usr/lib/jvm/x\+y/bin/java$",
            },
        )
    ]
    assert found["Shell"] == []
    assert checks("remove")["Remove"] == [
        ("package", {"name": "openjdk-17-jdk-headless", "installed": False, "version": None})
    ]


def test_implied_checks_judge_real_output() -> None:
    recipe = parse_recipe(RECIPE, Path("/r/recipe.yaml"))
    step = prepare(recipe, "apply", {}, target_context(DEBIAN))[1]
    enabled, active = step.checks
    assert active.judge([(0, "active\n")]).status == "ok"
    assert active.judge([(3, "inactive\n")]).status == "failed"
    assert enabled.judge([(0, "enabled\n")]).status == "ok"
    assert enabled.judge([(1, "disabled\n")]).status == "failed"


def test_a_let_may_not_shadow_a_variable_or_use_an_unknown_name() -> None:
    with pytest.raises(RecipeError, match=r"let.headless: 'headless' is already a variable"):
        parse_recipe(RECIPE.replace("  jdk: ", "  headless: x\n  jdk: "), Path("/r/recipe.yaml"))
    with pytest.raises(RecipeError, match=r"let.jre: unknown variable 'jdkk'"):
        parse_recipe(
            RECIPE.replace("{{ jdk | replace", "{{ jdkk | replace"), Path("/r/recipe.yaml")
        )


def test_a_let_cannot_be_set_from_the_command_line() -> None:
    from envsetup.errors import VariableError
    from envsetup.variables import resolve_overrides

    recipe = parse_recipe(RECIPE, Path("/r/recipe.yaml"))
    with pytest.raises(VariableError, match="unknown variable 'jdk'"):
        resolve_overrides([recipe], {"jdk": "x"})

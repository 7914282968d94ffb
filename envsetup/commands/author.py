"""``envsetup new`` and the readable ``envsetup show``: for people writing recipes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import TemplateError

from envsetup.checks import CHECK_KINDS
from envsetup.errors import EnvsetupError, RecipeError
from envsetup.paths import display_path
from envsetup.preparation import PreparedCheck, _prepare_step, target_context
from envsetup.schema import NAME_RE, Recipe, Step, parse_recipe
from envsetup.templates import evaluate

SKELETON = """\
# yaml-language-server: $schema={schema}
# {name}: what this recipe sets up. The reference: `envsetup kinds` (every step
# and check kind), `envsetup kinds recipe` (this file), or docs/recipes.md.
name: {name}
summary: One line saying what {name} sets up
description: |
  The operational note this recipe encodes: what to install, what to change,
  how you checked it by hand.
platforms:
  - {{distro: debian, version: ">=12"}}
  - {{distro: ubuntu, version: ">=22.04"}}

vars:
  # users may override these with --set NAME=VALUE
  greeting:
    type: str
    default: hello
    help: The value written to /etc/environment.

# let:             # computed values users cannot set
#   jdk: "openjdk-17-jdk{{{{ '-headless' if headless else '' }}}}"

steps:
  # each step has one kind; after it, envsetup runs the checks the kind implies
  # (here: the packages are installed) and then the step's own verify: checks
  - name: Install curl
    apt: [curl]
    verify:
      - version: {{run: curl --version, regex: 'curl ([0-9.]+)', spec: ">=7"}}

  - name: {upper} in /etc/environment
    env_file: {{key: {upper}, value: "{{{{ greeting }}}}"}}
    notice: A new login sees {upper}.

remove:
  - name: Remove {upper} from /etc/environment
    env_file: {{key: {upper}, present: false}}
"""


def new_recipe(name: str, parent: Path, schema: str) -> Path:
    """Write a commented skeleton recipe into ``parent/name/recipe.yaml``; return its path.

    The skeleton is validated before it is written; an existing file is never replaced.
    """
    if not NAME_RE.fullmatch(name):
        raise RecipeError(
            f"'{name}' is not a recipe name",
            fix="use lower-case letters, digits, '-' and '_', starting with a letter",
        )
    path = parent / name / "recipe.yaml"
    if path.exists():
        raise RecipeError(f"{display_path(path)} already exists", fix="choose another name")
    upper = re.sub(r"[^A-Z0-9_]", "_", name.upper()) + "_GREETING"
    text = SKELETON.format(name=name, upper=upper, schema=schema)
    parse_recipe(text, path)  # the skeleton itself must be a valid recipe
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as file:
        file.write(text)
    return path


def sample_target(recipe: Recipe) -> dict[str, Any]:
    """The target ``show`` renders for: the first platform, amd64, user root."""
    distro, version, wsl = "debian", "12", 0
    if recipe.platforms:
        first = recipe.platforms[0]
        distro = first.distro
        numbers = re.findall(r"[0-9]+(?:\.[0-9]+)*", str(first.version))
        version = numbers[0] if numbers else version
        wsl = first.wsl or 0
    info = {
        "distro": distro,
        "version": version,
        "arch": "amd64",
        "user": "root",
        "home": "/root",
        "pretty": f"{distro} {version}",
        "pid1": "systemd",
    }
    return target_context(info, assume_wsl=bool(wsl))


def readable(recipe: Recipe) -> dict[str, Any]:
    """Each step as one sentence with its checks, rendered with the default values."""
    target = sample_target(recipe)
    shown_for = f"{target['distro']} {target['version']} {target['arch']}, user {target['user']}"
    from envsetup.variables import resolve_variables

    try:
        context = {"target": target, **resolve_variables(recipe, {}, target)}
    except EnvsetupError as exc:  # a variable without a default: show the steps as written
        raw: list[dict[str, Any]] = [
            {"name": s.name, "when": s.when, "does": f"{s.kind} {_written(s.args)}", "checks": []}
            for s in recipe.steps
        ]
        return {"shown_for": None, "why_raw": exc.message, "steps": raw, "remove": []}

    def section(steps: tuple[Step, ...]) -> list[dict[str, Any]]:
        return [_readable_step(recipe, step, context) for step in steps]

    return {
        "shown_for": shown_for,
        "steps": section(recipe.steps),
        "remove": section(recipe.remove),
    }


def _written(args: dict[str, Any]) -> str:
    return ", ".join(
        f"{key}: {value}" for key, value in args.items() if value not in (None, [], {})
    )


def _readable_step(recipe: Recipe, step: Step, context: dict[str, Any]) -> dict[str, Any]:
    try:
        if step.when is not None and not evaluate(step.when, context):
            off = f"(skipped with the default values: {step.when} is false)"
            return {"name": step.name, "when": step.when, "does": off, "checks": []}
        prepared = _prepare_step(recipe, step, context)
    except (RecipeError, ValueError, TemplateError) as exc:
        return {
            "name": step.name,
            "when": step.when,
            "does": f"(cannot render: {exc})",
            "checks": [],
        }
    return {
        "name": step.name,
        "when": step.when,
        "does": prepared.description,
        "checks": [_check_text(check) for check in prepared.checks],
    }


def _check_text(check: PreparedCheck) -> str:
    text = CHECK_KINDS[check.check.kind].describe(check.args)
    if check.pending_if is not None:
        text += " (pending until a restart)"
    return text


def show_text(data: dict[str, Any]) -> str:
    """``envsetup show`` for people: what the recipe does, in sentences."""
    lines = [f"{data['name']}: {data['summary']}"]
    if data["description"]:
        lines.append(data["description"].rstrip())
    lines.append(f"platforms: {', '.join(data['platforms']) or 'any'}")
    if data["requires"]:
        lines.append(f"requires: {', '.join(data['requires'])}")
    if data["vars"]:
        lines.append("variables (--set NAME=VALUE):")
        for name, var in data["vars"].items():
            lines.append(f"  {name} ({var['type']}, default {var['default']!r}): {var['help']}")
    view = data["readable"]
    if view["shown_for"] is None:
        lines.append(f"(steps shown as written: {view['why_raw']})")
    else:
        lines.append(f"(rendered with the default values for {view['shown_for']})")
    for key, title in (("steps", "apply"), ("remove", "remove")):
        if not view[key]:
            continue
        lines.append(f"{title}:")
        for index, step in enumerate(view[key], 1):
            when = f"  [only when {step['when']}]" if step["when"] else ""
            lines.append(f"  {index}. {step['name']}{when}")
            lines.append(f"     does: {step['does']}")
            for check in step["checks"]:
                lines.append(f"     checks: {check}")
    return "\n".join(lines)

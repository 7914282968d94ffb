"""Variable values for a run: ``--set`` overrides, rendered defaults, the platform check.

Everything here runs before a target is changed; a bad value is an exit-2 error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jinja2 import TemplateError

from envsetup.errors import PlatformError, VariableError
from envsetup.schema import Recipe, coerce, is_template
from envsetup.templates import render_value


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """Parse ``KEY=VALUE`` strings from ``--set``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise VariableError(
                f"--set {item!r}: expected KEY=VALUE", fix="e.g. --set headless=true"
            )
        out[key.strip()] = value
    return out


def resolve_overrides(
    recipes: list[Recipe], overrides: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Validate ``--set`` values against every recipe that declares them, before anything runs.

    Returns, per recipe, the typed overrides that apply to it. A name that no recipe
    declares is an error naming the variables that exist.
    """
    per_recipe: dict[str, dict[str, Any]] = {recipe.name: {} for recipe in recipes}
    for key, value in overrides.items():
        owners = [recipe for recipe in recipes if key in recipe.vars]
        if not owners:
            declared = sorted({f"{r.name}.{v}" for r in recipes for v in r.vars})
            from envsetup.suggest import did_you_mean

            names = {v for r in recipes for v in r.vars}
            raise VariableError(
                f"unknown variable '{key}'{did_you_mean(key, names)}",
                fix=f"variables you can set: {', '.join(declared) or 'none'}",
            )
        for recipe in owners:
            per_recipe[recipe.name][key] = coerce(recipe.vars[key], value)
    return per_recipe


def check_platform(recipe: Recipe, target: dict[str, Any], name: str) -> None:
    """Refuse, before any change, a target whose platform the recipe does not list."""
    distro, version = target["distro"], target["version"]
    matching = [p for p in recipe.platforms if p.matches(distro, version)]
    refused = next((p.unsupported for p in matching if p.unsupported), None)
    if recipe.platforms and (refused or not matching):
        found = f"{target['pretty']} ({distro} {version or 'no version'})"
        supported = ", ".join(str(p) for p in recipe.platforms if not p.unsupported)
        why = f": {refused}" if refused else ""
        raise PlatformError(
            f"{recipe.name} does not support {found} on {name}{why}; supported: {supported}. "
            "Nothing was changed",
            fix="run it on a supported platform",
        )
    if not any(p.wsl for p in matching) or target["wsl"] == 2:
        return
    if target["wsl"] == 1:
        raise PlatformError(
            f"{recipe.name} needs WSL 2, but {name} runs under WSL 1 "
            f"(kernel {target['osrelease']}): systemd needs WSL 2. Nothing was changed",
            fix="convert the distro, from PowerShell: wsl --set-version <distro> 2",
        )
    raise PlatformError(
        f"{recipe.name} needs WSL 2, but {name} is not running under WSL "
        f"(kernel {target['osrelease'] or target['kernel']}). Nothing was changed",
        fix="to prepare a WSL root filesystem offline (e.g. -t @chroot/rootfs), pass --assume-wsl",
    )


def resolve_variables(
    recipe: Recipe, overrides: dict[str, Any], target: dict[str, str]
) -> dict[str, Any]:
    """Variable values for one target: ``--set`` values as given, defaults rendered.

    Defaults may be templates over ``target`` facts and earlier variables;
    ``--set`` values are data and are never rendered.
    """
    values: dict[str, Any] = {}
    for name, var in recipe.vars.items():
        if name in overrides:
            values[name] = overrides[name]
            continue
        default = var.default
        if is_template(default):
            try:
                default = coerce(var, render_value(default, {"target": target, **values}))
            except TemplateError as exc:
                raise VariableError(f"{recipe.name}: default of {name}: {exc}") from None
        elif default is None:
            raise VariableError(
                f"{recipe.name}: variable '{name}' has no default and was not set",
                fix=f"--set {name}=VALUE",
            )
        values[name] = default
    for name, template in recipe.let.items():
        try:
            values[name] = render_value(template, {"target": target, **values})
        except TemplateError as exc:
            raise VariableError(f"{recipe.name}: let {name}: {exc}") from None
    return values

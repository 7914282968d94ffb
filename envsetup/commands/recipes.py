"""``envsetup list`` and ``envsetup show``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from envsetup.catalog import available_recipes, load_recipe
from envsetup.errors import RecipeError
from envsetup.listing import ListingCache, stamp
from envsetup.paths import display_path

if TYPE_CHECKING:
    from envsetup.schema import Recipe


def list_recipes() -> list[dict[str, Any]]:
    """Every recipe found, with its summary and platforms; a broken one is listed with its error."""
    cache = ListingCache()
    out: list[dict[str, Any]] = []
    for name, path in sorted(available_recipes().items()):
        files = stamp(path.parent)  # read before validating: an edit meanwhile is not missed
        entry = cache.get(path, files)
        if entry is None:
            entry = _describe_for_list(path)
            if entry["error"] is None:  # a broken recipe is read again: its error stays fresh
                cache.put(path, files, entry)
        out.append({"name": name, "path": display_path(path), **entry})
    cache.save()
    return out


def _describe_for_list(path: Path) -> dict[str, Any]:
    try:
        recipe = load_recipe(str(path))
    except RecipeError as exc:
        return {"summary": None, "platforms": [], "error": str(exc)}
    return {
        "summary": recipe.summary,
        "platforms": [str(p) for p in recipe.platforms],
        "error": None,
    }


def show_recipe(name: str) -> Recipe:
    return load_recipe(name)


def describe_recipe(recipe: Recipe) -> dict[str, Any]:
    """A recipe as data, for ``show --json`` and the human view."""

    def steps(section: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": step.name,
                "kind": step.kind,
                "args": step.args,
                "when": step.when,
                "verify": [{"kind": c.kind, "args": c.args} for c in step.verify],
            }
            for step in section
        ]

    return {
        "name": recipe.name,
        "summary": recipe.summary,
        "description": recipe.description,
        "path": display_path(recipe.path),
        "platforms": [str(p) for p in recipe.platforms],
        "requires": [str(r) for r in recipe.requires],
        "vars": {
            name: {
                "type": var.type,
                "default": var.default,
                "help": var.help,
                "choices": list(var.choices) if var.choices else None,
            }
            for name, var in recipe.vars.items()
        },
        "steps": steps(recipe.steps),
        "remove": steps(recipe.remove),
    }

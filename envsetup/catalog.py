"""Finding recipes: built-in ones, ``$ENVSETUP_RECIPES`` directories, or a path to a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from envsetup.errors import RecipeError
from envsetup.paths import display_path

if TYPE_CHECKING:
    from envsetup.schema import Recipe

RECIPE_FILE = "recipe.yaml"
BUILTIN_DIRS = (
    Path(__file__).parent / "recipes",  # inside an installed wheel
    Path(__file__).parent.parent / "recipes",  # a source checkout
)


def recipe_dirs() -> list[Path]:
    """Directories searched for recipes: ``$ENVSETUP_RECIPES`` first, then the built-ins."""
    extra = [Path(p) for p in os.environ.get("ENVSETUP_RECIPES", "").split(os.pathsep) if p]
    builtin = next((d for d in BUILTIN_DIRS if d.is_dir()), BUILTIN_DIRS[-1])
    return [*extra, builtin]


def available_recipes() -> dict[str, Path]:
    """Recipe name -> recipe file, earlier directories taking precedence."""
    found: dict[str, Path] = {}
    for directory in recipe_dirs():
        if not directory.is_dir():
            continue
        for file in sorted(directory.glob(f"*/{RECIPE_FILE}")):
            found.setdefault(file.parent.name, file)
    return found


def find_recipe(name_or_path: str) -> Path:
    from envsetup.suggest import did_you_mean

    """Resolve a recipe name or a path to a YAML file (or a directory holding recipe.yaml)."""
    candidate = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or os.sep in name_or_path:
        if candidate.is_dir():
            candidate = candidate / RECIPE_FILE
        if not candidate.is_file():
            raise RecipeError(f"recipe file {name_or_path} does not exist")
        return candidate
    found = available_recipes()
    if name_or_path not in found:
        raise RecipeError(
            f"unknown recipe '{name_or_path}'{did_you_mean(name_or_path, found)}",
            fix=f"available: {', '.join(sorted(found)) or 'none'} (see `envsetup list`)",
        )
    return found[name_or_path]


def load_recipe(name_or_path: str) -> Recipe:
    # not needed to find recipes (see listing)
    from envsetup.schema import LIMITS_FIX, MAX_BYTES, parse_recipe

    path = find_recipe(name_or_path)
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_BYTES + 1)  # never more than a recipe may hold
        if len(raw) > MAX_BYTES:
            raise RecipeError(
                f"{display_path(path)}:1: the file is larger than a recipe may be "
                f"({MAX_BYTES // 1024} KiB)",
                fix=LIMITS_FIX,
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{display_path(path)}: cannot read: {exc}") from None
    return parse_recipe(text, path.resolve() if not path.is_absolute() else path)


def load_with_requirements(names: list[str]) -> list[Recipe]:
    """Load recipes and, first, everything they require (each once, in order)."""
    return load_requested(names)[0]


def load_requested(names: list[str]) -> tuple[list[Recipe], frozenset[str]]:
    """Recipes with their requirements first, and the names of those asked for."""
    ordered: dict[str, Recipe] = {}
    asked: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> str:
        recipe = load_recipe(name)
        if recipe.name in chain:
            raise RecipeError(f"recipe {recipe.name}: requires loop: {' -> '.join(chain)}")
        for required in recipe.requires:
            visit(required.recipe, (*chain, recipe.name))
        ordered.setdefault(recipe.name, recipe)
        return recipe.name

    for name in names:
        asked.add(visit(name, ()))
    return list(ordered.values()), frozenset(asked)

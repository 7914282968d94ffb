"""Jinja2 rendering, sandboxed and strict, as copier does it.

Templates run in a ``SandboxedEnvironment`` with ``StrictUndefined``; template
files load only from the recipe's own directory, and a path that resolves
outside it (``..`` or a symlink) is refused.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound, meta
from jinja2.sandbox import SandboxedEnvironment

from envsetup.errors import RecipeError
from envsetup.kinds import Field


class RecipeDirLoader(FileSystemLoader):
    """Load templates from one directory; refuse anything resolving outside it."""

    def __init__(self, root: Path) -> None:
        super().__init__(str(root), followlinks=False)
        self.root = root.resolve()

    def get_source(self, environment: Any, template: str) -> Any:
        resolved = (self.root / template).resolve()
        if os.path.commonpath([resolved, self.root]) != str(self.root):
            raise TemplateNotFound(f"{template} (resolves outside the recipe directory)")
        return super().get_source(environment, template)


FILTERS = {"re_escape": re.escape, "quote": shlex.quote}


def _environment(root: Path | None = None, **options: Any) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=RecipeDirLoader(root) if root else None,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        **options,
    )
    env.filters.update(FILTERS)
    return env


_STRINGS = _environment()
TEMPLATE_GLOBALS = frozenset(_STRINGS.globals)


@functools.lru_cache(maxsize=1024)
def template_names(source: str) -> frozenset[str]:
    """The variable names a template string refers to; ValueError on a syntax error.

    Remembered per string: recipes repeat the same templates (``{{ java_home }}``),
    and parsing is most of what validating one costs.
    """
    try:
        return frozenset(meta.find_undeclared_variables(_STRINGS.parse(source)))
    except TemplateError as exc:
        raise ValueError(str(exc)) from None


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every string inside ``value`` (recursing into lists and mappings)."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        return _STRINGS.from_string(value).render(context)
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    if isinstance(value, dict):
        return {key: render_value(item, context) for key, item in value.items()}
    return value


def evaluate(expression: str, context: dict[str, Any]) -> bool:
    """Evaluate a ``when:`` expression."""
    return bool(_STRINGS.compile_expression(expression)(**context))


def render_file(root: Path, name: str, context: dict[str, Any]) -> str:
    """Render the template file ``name`` from the recipe directory ``root``."""
    try:
        return _environment(root).get_template(name).render(context)
    except TemplateNotFound as exc:
        raise RecipeError(
            f"template {exc.name} not found in {root}",
            fix="templates must lie inside the recipe's directory",
        ) from None
    except TemplateError as exc:
        raise RecipeError(f"template {name}: {exc}") from None


def _quote_output(value: Any) -> Any:
    return shlex.quote(value if isinstance(value, str) else str(value))


_SHELL = _environment(finalize=_quote_output)


def render_args(
    args: dict[str, Any], fields: dict[str, Field], context: dict[str, Any]
) -> dict[str, Any]:
    """Render a kind's arguments; ``shell`` fields quote every interpolated value.

    Typed fields written as templates (``present: "{{ not keep }}"``) are
    converted to their type after rendering.
    """
    out: dict[str, Any] = {}
    for key, value in args.items():
        spec = fields[key]
        if spec.type == "str_list" and isinstance(value, str):  # "{{ a_list + [...] }}"
            out[key] = _list_expression(key, value, context)
            continue
        if spec.type == "shell" and isinstance(value, str) and "{" in value:
            out[key] = _SHELL.from_string(value).render(context)
            continue
        rendered = render_value(value, context)
        if isinstance(value, str) and rendered is not value:
            rendered = _retype(key, spec, rendered)
        out[key] = rendered
    return out


def _list_expression(key: str, value: str, context: dict[str, Any]) -> list[str]:
    """A list field written as one ``{{ expression }}`` evaluates to a list of strings."""
    expression = value.strip()
    if not (expression.startswith("{{") and expression.endswith("}}")):
        raise ValueError(f"{key}: expected a list or one {{{{ expression }}}}, got {value!r}")
    result = _STRINGS.compile_expression(expression[2:-2].strip())(**context)
    if not isinstance(result, list) or not all(isinstance(item, str) for item in result):
        raise ValueError(f"{key}: {value!r} did not give a list of strings")
    return result


def _retype(key: str, spec: Field, text: str) -> Any:
    if spec.type == "bool":
        if text.strip().lower() in ("true", "false"):
            return text.strip().lower() == "true"
        raise ValueError(f"{key}: expected a boolean after rendering, got {text!r}")
    if spec.type == "mode":
        if not re.fullmatch(r"0?[0-7]{3,4}", text.strip()):
            raise ValueError(f"{key}: expected an octal mode after rendering, got {text!r}")
        return text.strip()
    if spec.type == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{key}: expected an integer after rendering, got {text!r}") from None
    return text

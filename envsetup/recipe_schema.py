"""The JSON Schema of recipe files, built from the kinds' own field declarations.

Editors with the YAML language server complete and check recipes against it
(``# yaml-language-server: $schema=...``). It is shipped in the package as
``envsetup/recipe.schema.json`` (a unit test keeps the file current) and printed
by ``envsetup schema``. envsetup's own loader stays the authority: the schema
accepts what the loader accepts, the loader also checks templates, names and
values such as version specifiers.
"""

from __future__ import annotations

import json
from typing import Any

from envsetup.checks import CHECK_KINDS
from envsetup.kinds import Field
from envsetup.reference import CHECK_KEYS, STEP_KEYS, TOP_LEVEL
from envsetup.schema import NAME_RE, VAR_NAME_RE, VAR_TYPES
from envsetup.steps import STEP_KINDS

TEMPLATE = {"type": "string", "pattern": "\\{[{%]", "description": "a Jinja2 template"}


def field_schema(spec: Field) -> dict[str, Any]:
    """One key's schema: its type, or (for typed keys) a template rendering to it."""
    types: dict[str, dict[str, Any]] = {
        "str": {"type": "string"},
        "shell": {"type": "string"},
        "bool": {"type": "boolean"},
        "int": {"type": "integer"},
        "str_list": {"type": "array", "items": {"type": "string"}},
        "str_map": {"type": "object", "additionalProperties": {"type": "string"}},
        "mode": {"type": "string", "pattern": "^0?[0-7]{3,4}$"},
    }
    base = types[spec.type]
    if spec.choices:
        base = {**base, "enum": list(spec.choices)}
    out: dict[str, Any] = base
    if spec.type not in ("str", "shell"):
        out = {"anyOf": [base, {"$ref": "#/$defs/template"}]}
    if spec.doc:
        out["description"] = spec.doc
    if spec.default is not None:
        out["default"] = spec.default
    if spec.example is not None:
        out["examples"] = [spec.example]
    return out


def kind_schema(kind: Any) -> dict[str, Any]:
    fields: dict[str, Field] = kind.fields
    mapping: dict[str, Any] = {
        "type": "object",
        "properties": {name: field_schema(spec) for name, spec in fields.items()},
        "additionalProperties": False,
    }
    required = [name for name, spec in fields.items() if spec.required]
    if required:
        mapping["required"] = required
    summary = " ".join((kind.__doc__ or "").strip().split("\n\n")[0].split())
    short = getattr(kind, "short", None)
    if short is None:
        return {**mapping, "description": summary}
    alone = field_schema(fields[short])
    return {"description": summary, "anyOf": [mapping, alone]}


def _one_kind(registry: dict[str, Any], extra: dict[str, Any], what: str) -> dict[str, Any]:
    """An object with exactly one of the registry's kinds and the common keys."""
    return {
        "type": "object",
        "properties": {
            **{name: {"$ref": f"#/$defs/{what}_{name}"} for name in sorted(registry)},
            **extra,
        },
        "additionalProperties": False,
        "oneOf": [{"required": [name]} for name in sorted(registry)],
    }


def recipe_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a recipe file."""
    text = {"type": "string"}
    expression = {"type": "string", "description": "a Jinja2 expression, without braces"}
    check_extra = {
        "pending_if": {"$ref": "#/$defs/check_nested", "description": CHECK_KEYS["pending_if"]},
        "hint": {**text, "description": CHECK_KEYS["hint"]},
        "name": {**text, "description": CHECK_KEYS["name"]},
    }
    preflight_extra = {
        **check_extra,
        "when": {**expression, "description": CHECK_KEYS["when"]},
        "warn": {"type": "boolean", "description": CHECK_KEYS["warn"]},
    }
    step_extra = {
        "name": {**text, "description": STEP_KEYS["name"]},
        "when": {**expression, "description": STEP_KEYS["when"]},
        "notice": {**text, "description": STEP_KEYS["notice"]},
        "on_change": {**text, "description": STEP_KEYS["on_change"]},
        "implied": {"type": "boolean", "default": True, "description": STEP_KEYS["implied"]},
        "verify": {
            "type": "array",
            "items": {"$ref": "#/$defs/check"},
            "description": STEP_KEYS["verify"],
        },
    }
    step = {**_one_kind(STEP_KINDS, step_extra, "step"), "required": ["name"]}
    var = {
        "type": "object",
        "properties": {
            "type": {"enum": list(VAR_TYPES)},
            "default": {},
            "help": text,
            "choices": {"type": "array", "items": text},
            "pattern": text,
        },
        "required": ["type"],
        "additionalProperties": False,
    }
    platform = {
        "type": "object",
        "properties": {
            "distro": {**text, "examples": ["debian", "ubuntu"]},
            "version": {**text, "description": "a version specifier", "examples": [">=22.04"]},
            "wsl": {"const": 2, "description": "2: the target must run under WSL 2"},
            "unsupported": {
                **text,
                "description": "these versions are refused, with this reason (exit 2)",
            },
        },
        "required": ["distro"],
        "additionalProperties": False,
    }
    requirement = {
        "anyOf": [
            text,
            {
                "type": "object",
                "properties": {"recipe": text, "when": expression},
                "required": ["recipe"],
                "additionalProperties": False,
            },
        ]
    }
    top: dict[str, Any] = {
        "name": {"type": "string", "pattern": f"^{NAME_RE.pattern}$"},
        "summary": text,
        "description": text,
        "min_envsetup_version": text,
        "platforms": {"type": "array", "items": platform},
        "vars": {
            "type": "object",
            "patternProperties": {f"^{VAR_NAME_RE.pattern}$": var},
            "additionalProperties": False,
        },
        "let": {
            "type": "object",
            "patternProperties": {f"^{VAR_NAME_RE.pattern}$": text},
            "additionalProperties": False,
        },
        "requires": {"type": "array", "items": requirement},
        "preflight": {"type": "array", "items": {"$ref": "#/$defs/preflight_check"}},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
        "remove": {"type": "array", "items": {"$ref": "#/$defs/step"}},
        "restart": {
            "type": "object",
            "properties": {"run": text, "message": text},
            "required": ["run", "message"],
            "additionalProperties": False,
        },
    }
    for key, (_, meaning) in TOP_LEVEL.items():
        top[key] = {**top[key], "description": meaning}
    defs: dict[str, Any] = {
        "template": TEMPLATE,
        "step": step,
        "check": _one_kind(CHECK_KINDS, check_extra, "check"),
        "check_nested": _one_kind(CHECK_KINDS, {}, "check"),
        "preflight_check": _one_kind(CHECK_KINDS, preflight_extra, "check"),
    }
    defs.update({f"step_{name}": kind_schema(kind) for name, kind in STEP_KINDS.items()})
    defs.update({f"check_{name}": kind_schema(kind) for name, kind in CHECK_KINDS.items()})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "envsetup recipe",
        "type": "object",
        "properties": top,
        "required": [key for key, (required, _) in TOP_LEVEL.items() if required],
        "additionalProperties": False,
        "$defs": dict(sorted(defs.items())),
    }


def schema_text() -> str:
    return json.dumps(recipe_schema(), indent=2, sort_keys=False) + "\n"

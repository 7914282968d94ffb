"""The recipe reference, generated from the kinds' own declarations.

Every step kind and check kind documents itself: its docstring, its ``Field``
declarations (type, default, choices, ``doc``, ``example``), its ``short`` field and
its ``implies`` method. This module turns those into ``envsetup kinds`` (terminal
text) and ``docs/recipes.md`` (Markdown, checked in; a test keeps it current); the
JSON Schema comes from the same declarations (``envsetup.recipe_schema``).
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any

from envsetup.checks import CHECK_KINDS
from envsetup.kinds import Field
from envsetup.preparation import STATE_DIR, TARGET_FACTS
from envsetup.schema import VAR_TYPES
from envsetup.steps import STEP_KINDS
from envsetup.templates import FILTERS

TYPE_NAMES = {
    "str": "string",
    "shell": "shell command",
    "bool": "boolean",
    "int": "integer",
    "str_list": "list of strings",
    "str_map": "mapping of strings",
    "mode": "octal mode",
}

# The keys of a recipe file (envsetup.schema._TOP_KEYS; a unit test keeps them equal)
TOP_LEVEL: dict[str, tuple[bool, str]] = {
    "name": (True, "the recipe's name: lower-case letters, digits, '-' and '_'"),
    "summary": (True, "one line, shown by `envsetup list`"),
    "description": (False, "what it does and why, shown by `envsetup show`"),
    "min_envsetup_version": (False, 'the oldest envsetup that can run it, e.g. "0.1"'),
    "platforms": (False, "list of {distro, version, wsl}: where it may run (empty: anywhere)"),
    "vars": (False, "typed variables the user may --set (see Variables)"),
    "let": (False, "computed values: name -> template over target, variables, earlier lets"),
    "requires": (False, "recipes applied first: a name, or {recipe, when}"),
    "preflight": (False, "checks run before anything changes; a failure refuses the run"),
    "steps": (True, "the steps apply runs, in order"),
    "remove": (False, "the steps `envsetup remove` runs"),
    "restart": (False, "{run, message}: what `apply --restart` runs when a check is pending"),
}

STEP_KEYS: dict[str, str] = {
    "name": "what the step does, shown in every report (required)",
    "when": "an expression; the step runs only where it is true (see Expressions)",
    "verify": "extra checks run after the step (its implied checks run anyway)",
    "implied": "false: do not run the checks the step's kind implies (default true)",
    "notice": "text shown after the step changed something (what the user must do next)",
    "on_change": "a shell command run right after the step changed something",
}

CHECK_KEYS: dict[str, str] = {
    "pending_if": "another check: when it passes while this one fails, the result is "
    "`pending` (true only after a restart or a new login)",
    "hint": "what to do when the check fails or is pending",
    "name": "what the check proves, shown instead of a long command",
    "when": "preflight only: an expression; the check runs where it is true",
    "warn": "preflight only: true makes a failure a warning instead of a refusal",
}

# what envsetup's own filters do (envsetup.templates.FILTERS; a unit test keeps them equal)
FILTER_DOCS = {
    "quote": "shell-quotes a value (`{{ path | quote }}`; `shell` fields do it by themselves)",
    "re_escape": 'escapes a value for a regular expression (`output: "^{{ home | re_escape }}$"`)',
}

TOPICS: dict[str, str] = {
    "Templates": (
        "Every string value may use Jinja2: `{{ java_home }}/bin/java`. Templates run "
        "sandboxed with strict undefined names: a name that is neither a variable, a "
        "`let` nor `target` is an error when the recipe is loaded. In a `shell` field "
        "every interpolated value is shell-quoted. A list field may be one expression: "
        "`packages: \"{{ base + ['git'] }}\"`; a boolean field may be a template that "
        "renders to true or false."
    ),
    "Target facts": (
        "`target` holds what envsetup read from the target: "
        + ", ".join(f"`target.{name}`" for name in TARGET_FACTS)
        + " (strings: `target.distro` is `debian` or `ubuntu`, `target.arch` the dpkg "
        "architecture such as `amd64`), and `target.wsl` (0, 1 or 2), `target.systemd` "
        "(true when systemd is PID 1), `target.nvidia` (an NVIDIA GPU is present)."
    ),
    "Variables": (
        "`vars:` maps a name to {type, default, help, choices, pattern}; the types are "
        + ", ".join(f"`{name}`" for name in VAR_TYPES)
        + ". `--set NAME=VALUE` overrides a default and is data, never rendered; a default "
        "may be a template over `target` and earlier variables. `let:` names values "
        "computed from them (`jdk: \"openjdk-17-jdk{{ '-headless' if headless else '' }}\"`) "
        "that users cannot set."
    ),
    "Filters": (
        "Jinja2's built-in filters (`default`, `join`, `replace`, `tojson`...), plus "
        + ", ".join(f"`{name}`: {FILTER_DOCS[name]}" for name in sorted(FILTERS))
        + "."
    ),
    "Expressions": (
        "`when:` (on steps, preflight checks and requirements) is one Jinja2 expression "
        "without braces, e.g. `when: mask_binfmt and target.wsl == 2` or "
        "`when: target.distro == 'ubuntu'`."
    ),
    "Implied checks": (
        "Most step kinds state the checks their own action implies (listed under each "
        "kind below); they run after the step in apply and in verify, before the step's "
        "own `verify:` checks, and a check written out the same way runs once. "
        "`implied: false` on a step turns them off."
    ),
    "Requires, preflight, on_change": (
        "`requires:` names recipes applied first (in order, each once). `preflight:` "
        "checks run on the target before apply or plan change anything: disk space, "
        "memory, a port; a failure refuses the run unless the check has `warn: true`. "
        "`on_change:` on a step runs a shell command right after that step changed "
        "something (reload a service), never on a converged host."
    ),
    "Where state lives": (
        f"On the target: `{STATE_DIR}` records each applied recipe with its --set "
        "values (read by `doctor`); `/var/lib/envsetup/apply.lock` serialises runs; "
        "`/var/lib/envsetup/archives` stamps what each archive step unpacked; "
        "`/var/cache/envsetup` holds uploads on their way. On this machine: "
        "`$XDG_CACHE_HOME/envsetup` (`~/.cache/envsetup`) caches the recipe list, known "
        "targets and `envsetup test` roots. Recipes are found built in and under "
        "$ENVSETUP_RECIPES."
    ),
    "Editor completion": (
        "`envsetup schema > recipe.schema.json` writes the JSON Schema of recipe files; "
        "with the YAML language server (VS Code's YAML extension, and others) put "
        "`# yaml-language-server: $schema=recipe.schema.json` at the top of a recipe."
    ),
}


@dataclass(frozen=True)
class KindDoc:
    section: str  # "step" or "check"
    name: str
    summary: str
    body: str
    short: str | None
    implies: str | None
    fields: dict[str, Field]


def kind_docs() -> list[KindDoc]:
    """Every step kind, then every check kind, each sorted by name."""
    out = []
    for section, registry in (("step", STEP_KINDS), ("check", CHECK_KINDS)):
        for name in sorted(registry):
            kind: Any = registry[name]
            text = inspect.cleandoc(kind.__doc__ or "")
            summary, _, body = text.partition("\n\n")
            implies = getattr(kind, "implies", None)
            out.append(
                KindDoc(
                    section,
                    name,
                    " ".join(summary.split()),
                    body.strip(),
                    getattr(kind, "short", None),
                    inspect.cleandoc(implies.__doc__ or "") if implies else None,
                    dict(kind.fields),
                )
            )
    return out


def find_kind(name: str) -> list[KindDoc]:
    return [doc for doc in kind_docs() if doc.name == name]


def show_value(value: Any) -> str:
    """A value as a recipe author writes it in YAML."""
    if isinstance(value, str):
        return (
            json.dumps(value)
            if value == "" or ":" in value or value[0] in "{[*&!|>'\"%@`#"
            else value
        )
    return json.dumps(value)


def field_line(name: str, spec: Field) -> str:
    facts = [TYPE_NAMES[spec.type]]
    if spec.required:
        facts.append("required")
    elif spec.default not in (None, [], {}):
        facts.append(f"default {show_value(spec.default)}")
    if spec.choices:
        facts.append("one of " + ", ".join(spec.choices))
    return f"{name} ({'; '.join(facts)})"


def example_of(doc: KindDoc) -> str:
    """A minimal YAML example: the required keys, and those with an example."""
    parts = []
    for name, spec in doc.fields.items():
        if spec.required or spec.example is not None:
            value = spec.example if spec.example is not None else _placeholder(spec)
            shown = json.dumps(value) if isinstance(value, (list, dict)) else show_value(value)
            parts.append(f"{name}: {shown}")
    return f"{doc.name}: {{{', '.join(parts)}}}"


def _placeholder(spec: Field) -> Any:
    return {
        "str": "...",
        "shell": "...",
        "bool": True,
        "int": 1,
        "str_list": ["..."],
        "str_map": {"key": "value"},
        "mode": "0644",
    }[spec.type]


# ---------------------------------------------------------------------------
# Terminal text


def terminal(name: str | None = None) -> str:
    """``envsetup kinds``: every kind in one line each, or one kind in full."""
    if name is None:
        lines = []
        for section in ("step", "check"):
            lines.append(f"{section} kinds:")
            docs = [d for d in kind_docs() if d.section == section]
            width = max(len(d.name) for d in docs)
            lines += [f"  {d.name:<{width}}  {d.summary}" for d in docs]
        lines.append("")
        lines.append("`envsetup kinds KIND` shows one kind's keys; `envsetup kinds recipe` the")
        lines.append("recipe file itself (templates, target facts, when:, state).")
        return "\n".join(lines)
    if name == "recipe":
        return _recipe_text()
    return "\n\n".join(_kind_text(doc) for doc in find_kind(name))


def _kind_text(doc: KindDoc) -> str:
    lines = [f"{doc.name} ({doc.section} kind): {doc.summary}"]
    if doc.body:
        lines += ["", doc.body]
    lines += ["", "keys:"]
    for key, spec in doc.fields.items():
        lines.append(f"  {field_line(key, spec)}")
        if spec.doc:
            lines.append(f"      {spec.doc}")
    if doc.short:
        lines += ["", f"short form: `{doc.name}: VALUE` is `{doc.name}: {{{doc.short}: VALUE}}`"]
    if doc.implies:
        lines += ["", f"implied checks: {doc.implies}"]
    lines += ["", "example:", f"  {example_of(doc)}"]
    return "\n".join(lines)


def _recipe_text() -> str:
    lines = ["recipe file keys:"]
    lines += [
        f"  {k}{' (required)' if req else ''}: {text}" for k, (req, text) in TOP_LEVEL.items()
    ]
    lines += ["", "keys of every step (besides its one kind):"]
    lines += [f"  {k}: {text}" for k, text in STEP_KEYS.items()]
    lines += ["", "keys of every check (besides its one kind):"]
    lines += [f"  {k}: {text}" for k, text in CHECK_KEYS.items()]
    for title, text in TOPICS.items():
        lines += ["", f"{title}:", *_wrap(text, "  ")]
    return "\n".join(lines)


def _wrap(text: str, indent: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, 88, initial_indent=indent, subsequent_indent=indent)


# ---------------------------------------------------------------------------
# Markdown


def markdown() -> str:
    """docs/recipes.md."""
    out = [
        "# Recipe reference",
        "",
        "<!-- Generated by `envsetup kinds --markdown` from the kinds' own declarations "
        "(envsetup/steps, envsetup/checks); tests/unit/test_reference.py fails when it is "
        "out of date. Do not edit by hand. -->",
        "",
        "A recipe is one YAML file, `recipe.yaml`, in a directory of its own. `envsetup new "
        "NAME` writes a skeleton; `envsetup test NAME` proves it in a throwaway Debian root.",
        "",
        "## The recipe file",
        "",
        "| key | required | meaning |",
        "| --- | --- | --- |",
    ]
    out += [f"| `{k}` | {'yes' if req else ''} | {text} |" for k, (req, text) in TOP_LEVEL.items()]
    out += ["", "Every step has exactly one kind key and these:", ""]
    out += [f"- `{k}`: {text}" for k, text in STEP_KEYS.items()]
    out += ["", "Every check has exactly one kind key and these:", ""]
    out += [f"- `{k}`: {text}" for k, text in CHECK_KEYS.items()]
    for title, text in TOPICS.items():
        out += ["", f"## {title}", "", text]
    for section, title in (("step", "Step kinds"), ("check", "Check kinds")):
        out += ["", f"## {title}"]
        for doc in (d for d in kind_docs() if d.section == section):
            out += ["", f"### `{doc.name}`", "", doc.summary]
            if doc.body:
                out += ["", doc.body]
            out += ["", "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
            for key, spec in doc.fields.items():
                default = (
                    "required"
                    if spec.required
                    else (f"`{show_value(spec.default)}`" if spec.default is not None else "")
                )
                kind = TYPE_NAMES[spec.type]
                if spec.choices:
                    kind += ": " + ", ".join(f"`{c}`" for c in spec.choices)
                meaning = spec.doc.replace("|", "\\|")
                out.append(f"| `{key}` | {kind} | {default} | {meaning} |")
            if doc.short:
                out += [
                    "",
                    f"Short form: `{doc.name}: VALUE` means `{doc.name}: {{{doc.short}: VALUE}}`.",
                ]
            if doc.implies:
                out += ["", f"Implied checks: {doc.implies}"]
            out += ["", "```yaml", example_of(doc), "```"]
    return "\n".join(out) + "\n"

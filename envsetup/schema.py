"""The recipe schema: loading, validation and typed variables, in one place.

Every error names the file, the line and the key path, for example::

    recipes/x/recipe.yaml:12: steps[3].verify[0].version: unknown key 'regx' ...

YAML is read with PyYAML's safe loader only; node marks from ``yaml.compose``
give the line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envsetup import __version__
from envsetup.checks import CHECK_KINDS
from envsetup.errors import RecipeError, VariableError
from envsetup.kinds import Field
from envsetup.paths import display_path
from envsetup.steps import STEP_KINDS
from envsetup.suggest import did_you_mean
from envsetup.templates import TEMPLATE_GLOBALS, template_names

VAR_TYPES = ("str", "bool", "int", "path", "list")
NAME_RE = re.compile(r"[a-z][a-z0-9_-]*")
VAR_NAME_RE = re.compile(r"[a-z_][a-z0-9_]*")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}

Path_ = tuple[str | int, ...]

# A recipe is read before anything else is checked, so its size is bounded first:
# the bytes of the file, its nodes counted as often as aliases repeat them (a
# "billion laughs" document is small but expands without end), and how deeply it
# nests. The built-in recipes stay under 10 KiB, 600 nodes and 8 levels.
MAX_BYTES = 256 * 1024
MAX_NODES = 50_000
MAX_DEPTH = 50
LIMITS_FIX = (
    f"keep a recipe under {MAX_BYTES // 1024} KiB, {MAX_NODES:,} values (each *alias counts "
    f"as a copy of what it names) and {MAX_DEPTH} levels of nesting"
)


class _BoundedSafeLoader(yaml.SafeLoader):
    """PyYAML's pure-Python safe loader, refusing to nest deeper than MAX_DEPTH.

    Its composer recurses once per level; without a bound, 20,000 nested lists end
    in a RecursionError instead of a recipe error.
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _TooDeep(event.start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _libyaml_bounded() -> bool:
    """Whether PyYAML has libyaml, and a libyaml that limits nesting (0.2.5 and later)."""
    try:
        from yaml import _yaml

        return hasattr(yaml, "CSafeLoader") and tuple(_yaml.get_version()) >= (0, 2, 5)
    except (ImportError, AttributeError, TypeError):
        return False


# libyaml's safe loader parses (several times faster) where PyYAML was built with a
# libyaml that stops at 1,000 levels of nesting (its composer is recursive C); a
# document it rejects is parsed again by the pure-Python one, whose error messages
# do not depend on how PyYAML was built
SAFE_LOADER: Any = _BoundedSafeLoader
FAST_LOADER: Any = yaml.CSafeLoader if _libyaml_bounded() else SAFE_LOADER


# ---------------------------------------------------------------------------
# The recipe model


@dataclass(frozen=True)
class Var:
    """A typed recipe variable; ``--set NAME=VALUE`` overrides its default."""

    name: str
    type: str
    default: Any
    help: str = ""
    choices: tuple[str, ...] | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Platform:
    """A supported distro and a version specifier, e.g. ``ubuntu >=22.04``."""

    distro: str
    version: SpecifierSet
    wsl: int | None = None  # 2: the target must run under WSL 2
    unsupported: str | None = None  # refused, and why (e.g. the package does not exist there)

    def __str__(self) -> str:
        text = f"{self.distro.capitalize()} {self.version}".strip()
        text = f"{text} under WSL {self.wsl}" if self.wsl else text
        return f"not {text}" if self.unsupported else text

    def matches(self, distro: str, version: str) -> bool:
        if distro.lower() != self.distro:
            return False
        try:
            return Version(version) in self.version
        except InvalidVersion:
            return False


@dataclass(frozen=True)
class Check:
    """One verify check: a kind from the check registry and its arguments.

    ``pending_if``: a check that, when it passes while this one fails, makes the
    result ``pending`` (true only after a restart or a new login); ``hint`` says
    what to do then; ``name`` says what the check proves, shown instead of the
    kind's own description (for a long command).
    """

    kind: str
    args: dict[str, Any]
    where: str
    pending_if: Check | None = None
    hint: str | None = None
    when: str | None = None  # preflight only: an expression; the check runs when it is true
    warn: bool = False  # preflight only: a failure warns instead of refusing
    name: str | None = None


@dataclass(frozen=True)
class Requirement:
    """Another recipe applied first, on the targets where ``when`` holds (always if None)."""

    recipe: str
    when: str | None = None

    def __str__(self) -> str:
        return self.recipe if self.when is None else f"{self.recipe} (when {self.when})"


@dataclass(frozen=True)
class Step:
    """One step: exactly one action kind, its arguments and its verify checks."""

    name: str
    kind: str
    args: dict[str, Any]
    verify: tuple[Check, ...]
    where: str
    when: str | None = None
    notice: str | None = None
    on_change: str | None = None  # a shell command run right after the step changed something
    implied: bool = True  # run the checks the step's kind implies (see kinds.StepKind)


@dataclass(frozen=True)
class Recipe:
    """A validated recipe."""

    name: str
    summary: str
    path: Path
    platforms: tuple[Platform, ...]
    vars: dict[str, Var]
    requires: tuple[Requirement, ...]
    steps: tuple[Step, ...]
    remove: tuple[Step, ...]
    description: str = ""
    # checks run on the target before apply or plan changes anything: a failure refuses
    preflight: tuple[Check, ...] = ()
    min_envsetup_version: str | None = None
    restart: dict[str, str] | None = None  # {run, message}: what `apply --restart` runs
    # computed values: name -> template, rendered in order after the variables
    let: dict[str, str] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return self.path.parent


# ---------------------------------------------------------------------------
# YAML with line numbers


@dataclass
class Document:
    """Parsed YAML plus the line of every key path, for error messages."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def where(self, path: Path_) -> str:
        probe = path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        return f"{self.file}:{self.lines.get(probe, 1)}"

    def error(self, path: Path_, message: str) -> RecipeError:
        label = format_path(path)
        prefix = f"{self.where(path)}: {label}: " if label else f"{self.where(path)}: "
        return RecipeError(prefix + message)


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def load_yaml(text: str, file: str) -> Document:
    """Parse YAML safely, keeping the line of every mapping key and list item.

    Input beyond MAX_BYTES, MAX_NODES (aliases expanded) or MAX_DEPTH is a
    RecipeError naming the file and line, raised before the document is built.
    """
    if len(text) > MAX_BYTES:
        raise RecipeError(
            f"{file}:1: the file has {len(text):,} characters, more than a recipe may "
            f"({MAX_BYTES // 1024} KiB)",
            fix=LIMITS_FIX,
        )
    try:
        return _load_yaml(text, file, FAST_LOADER)
    except RecipeError:
        if FAST_LOADER is SAFE_LOADER:
            raise
    return _load_yaml(text, file, SAFE_LOADER)


def _load_yaml(text: str, file: str, loader_class: Any) -> Document:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        doc = Document(file, None)
        if node is not None:
            _collect_lines(node, doc)  # bounds the document before it is built
            doc.data = loader.construct_document(node)
    except _TooDeep as exc:
        raise _too_deep(file, exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = f"tag {problem.split('tag ')[-1]} is not allowed (only plain YAML data)"
        raise RecipeError(f"{file}:{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise RecipeError(f"{file}:1: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return doc


def _too_deep(file: str, line: int, path: Path_ = ()) -> RecipeError:
    where = f"{file}:{line}: {format_path(path)}: " if path else f"{file}:{line}: "
    return RecipeError(f"{where}nested more than {MAX_DEPTH} levels deep", fix=LIMITS_FIX)


def _collect_lines(root: yaml.Node, doc: Document) -> None:
    """Record the line of every key path, walking the nodes as the data will be built.

    The walk is iterative and counts every node it visits, an alias's target once
    per alias: past MAX_NODES or MAX_DEPTH it stops with a RecipeError, so neither
    an alias bomb nor deep nesting (or an alias inside itself) gets any further.
    """
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
    visited = 0
    while stack:
        node, path = stack.pop()
        line = node.start_mark.line + 1
        visited += 1
        if visited > MAX_NODES:  # named at the top-level key that reached it
            label = f" {format_path(path[:1])}:" if path else ""
            raise RecipeError(
                f"{doc.file}:{doc.lines.get(path[:1], line)}:{label} more than {MAX_NODES:,} "
                "values once aliases are expanded",
                fix=LIMITS_FIX,
            )
        if len(path) > MAX_DEPTH:
            raise _too_deep(doc.file, line, path[:1])
        doc.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            children: list[tuple[yaml.Node, Path_]] = []
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    line = key_node.start_mark.line + 1
                    raise RecipeError(
                        f"{doc.file}:{line}: {format_path(path) or 'the document'}: a key must "
                        "be a plain value, not a list or a mapping"
                    )
                key = key_node.value
                if key in seen:
                    line = key_node.start_mark.line + 1
                    raise RecipeError(
                        f"{doc.file}:{line}: {format_path((*path, key))}: duplicate key '{key}'"
                    )
                seen.add(key)
                doc.lines[path + (key,)] = key_node.start_mark.line + 1
                children.append((value_node, (*path, key)))
            stack.extend(reversed(children))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(
                (item, (*path, index)) for index, item in reversed(list(enumerate(node.value)))
            )


# ---------------------------------------------------------------------------
# Field validation


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _check_field(doc: Document, path: Path_, spec: Field, value: Any) -> Any:
    expected = {
        "str": "a string",
        "shell": "a shell command",
        "bool": "a boolean",
        "int": "an integer",
        "str_list": "a list of strings",
        "str_map": "a mapping of strings",
        "mode": "an octal mode",
    }[spec.type]
    if spec.type not in ("str", "shell") and is_template(value):
        return value  # typed after rendering
    ok = {
        "str": isinstance(value, str),
        "shell": isinstance(value, str),
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "str_list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "str_map": isinstance(value, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()),
        "mode": isinstance(value, str) and re.fullmatch(r"0?[0-7]{3,4}", value) is not None,
    }[spec.type]
    if not ok:
        shown = f"'{value}'" if isinstance(value, str) else _type_name(value)
        raise doc.error(path, f"expected {expected}, got {shown}")
    if spec.choices and value not in spec.choices:
        raise doc.error(path, f"'{value}' is not one of: {', '.join(spec.choices)}")
    return value


def _check_mapping(
    doc: Document, path: Path_, value: Any, fields: Mapping[str, Field], what: str
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(path, f"{what} must be a mapping, got {_type_name(value)}")
    for key in value:
        if key not in fields:
            raise doc.error(
                (*path, key),
                f"unknown key '{key}'{did_you_mean(key, fields)} "
                f"(expected one of: {', '.join(sorted(fields))})",
            )
    out: dict[str, Any] = {}
    for key, spec in fields.items():
        if key in value:
            out[key] = _check_field(doc, (*path, key), spec, value[key])
        elif spec.required:
            raise doc.error(path, f"missing required key '{key}'")
        else:
            out[key] = spec.default
    return out


def _check_templates(doc: Document, path: Path_, value: Any, known: set[str]) -> None:
    """Every ``{{ name }}`` in a recipe must be a declared variable or ``target``."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_templates(doc, (*path, key), item, known)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_templates(doc, (*path, index), item, known)
    elif isinstance(value, str) and is_template(value):
        try:
            names = template_names(value)
        except ValueError as exc:
            raise doc.error(path, f"invalid template: {exc}") from None
        unknown = sorted(names - known - set(TEMPLATE_GLOBALS))
        if unknown:
            raise doc.error(
                path,
                f"unknown variable '{unknown[0]}' in template"
                f"{did_you_mean(unknown[0], known - {'target'})} "
                f"(declared: {', '.join(sorted(known - {'target'})) or 'none'}; "
                "target facts: target.distro, target.version, target.arch, target.user)",
            )


# ---------------------------------------------------------------------------
# The recipe document

_TOP_KEYS = (
    "name",
    "summary",
    "description",
    "min_envsetup_version",
    "platforms",
    "vars",
    "let",
    "requires",
    "preflight",
    "steps",
    "remove",
    "restart",
)
_VAR_FIELDS = {
    "type": Field("str", required=True, choices=VAR_TYPES),
    "default": Field("str"),  # listed for the key check; checked against the type instead
    "help": Field("str", default=""),
    "choices": Field("str_list"),
    "pattern": Field("str"),
}
_RESTART_FIELDS = {
    "run": Field("shell", required=True, doc="the command that restarts the target"),
    "message": Field("str", required=True, doc="printed before it runs"),
}
_STEP_COMMON = {"name", "verify", "when", "notice", "on_change", "implied"}
_REQUIREMENT_FIELDS = {"recipe": Field("str", required=True), "when": Field("str")}


def parse_recipe(text: str, path: Path) -> Recipe:
    """Validate a recipe document; raise RecipeError naming file, line and key path."""
    doc = load_yaml(text, display_path(path))
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), f"a recipe must be a mapping, got {_type_name(data)}")
    for key in data:
        if key not in _TOP_KEYS:
            raise doc.error(
                (key,),
                f"unknown key '{key}'{did_you_mean(key, _TOP_KEYS)} "
                f"(expected one of: {', '.join(_TOP_KEYS)})",
            )
    for key in ("name", "summary", "steps"):
        if key not in data:
            raise doc.error((), f"missing required key '{key}'")
    for key in ("name", "summary", "description", "min_envsetup_version"):
        if key in data:
            _check_field(doc, (key,), Field("str"), data[key])
    if "min_envsetup_version" in data:
        _check_min_version(doc, data["min_envsetup_version"])
    name = data["name"]
    if not NAME_RE.fullmatch(name):
        raise doc.error(("name",), f"'{name}' must be lower-case letters, digits, '-' or '_'")

    variables = _parse_vars(doc, data.get("vars") or {})
    known = set(variables) | {"target"}
    let = _parse_let(doc, data.get("let") or {}, known)
    known |= set(let)
    platforms = _parse_platforms(doc, data.get("platforms", []))
    requires = _parse_requires(doc, data.get("requires") or [], known)
    preflight = _parse_checks(doc, ("preflight",), data.get("preflight") or [], preflight=True)
    _check_templates(doc, ("preflight",), data.get("preflight") or [], known)
    for index, check in enumerate(preflight):
        if check.when is not None:
            _check_templates(doc, ("preflight", index, "when"), "{{ " + check.when + " }}", known)
    steps = _parse_steps(doc, "steps", data["steps"], known)
    remove = _parse_steps(doc, "remove", data.get("remove") or [], known)
    restart = None
    if "restart" in data:
        restart = _check_mapping(doc, ("restart",), data["restart"], _RESTART_FIELDS, "restart")
        _check_templates(doc, ("restart",), restart, known)
    return Recipe(
        name=name,
        summary=data["summary"],
        description=data.get("description", ""),
        path=path,
        platforms=platforms,
        vars=variables,
        requires=requires,
        preflight=preflight,
        steps=steps,
        remove=remove,
        min_envsetup_version=data.get("min_envsetup_version"),
        restart=restart,
        let=let,
    )


def _check_min_version(doc: Document, wanted: str) -> None:
    try:
        needed = Version(wanted)
    except InvalidVersion:
        raise doc.error(("min_envsetup_version",), f"'{wanted}' is not a version") from None
    if Version(__version__) < needed:
        raise doc.error(
            ("min_envsetup_version",),
            f"this recipe needs envsetup >= {needed}, but this is {__version__}; "
            "upgrade envsetup (pip install -U envsetup)",
        )


def _parse_vars(doc: Document, raw: Any) -> dict[str, Var]:
    if not isinstance(raw, dict):
        raise doc.error(("vars",), f"must be a mapping, got {_type_name(raw)}")
    out: dict[str, Var] = {}
    for name, spec in raw.items():
        path: Path_ = ("vars", name)
        if not isinstance(name, str) or not VAR_NAME_RE.fullmatch(name) or name == "target":
            raise doc.error(path, f"'{name}' is not a valid variable name (a-z, 0-9, _)")
        if not isinstance(spec, dict):
            raise doc.error(path, f"must be a mapping with a 'type', got {_type_name(spec)}")
        for key in spec:
            if key not in _VAR_FIELDS:
                raise doc.error(
                    (*path, key),
                    f"unknown key '{key}'{did_you_mean(key, _VAR_FIELDS)} "
                    f"(expected one of: {', '.join(_VAR_FIELDS)})",
                )
        if "type" not in spec:
            raise doc.error(path, "missing required key 'type'")
        _check_field(doc, (*path, "type"), _VAR_FIELDS["type"], spec["type"])
        for key in ("help", "pattern"):
            if key in spec:
                _check_field(doc, (*path, key), Field("str"), spec[key])
        choices = spec.get("choices")
        if choices is not None:
            _check_field(doc, (*path, "choices"), Field("str_list"), choices)
        var = Var(
            name,
            spec["type"],
            None,
            spec.get("help", ""),
            tuple(choices) if choices else None,
            spec.get("pattern"),
        )
        if "pattern" in spec:
            try:
                re.compile(spec["pattern"])
            except re.error as exc:
                raise doc.error((*path, "pattern"), f"invalid regular expression: {exc}") from None
        default = spec.get("default")
        if default is not None and not is_template(default):
            try:
                default = coerce(var, default)
            except VariableError as exc:
                raise doc.error((*path, "default"), exc.message) from None
        out[name] = Var(var.name, var.type, default, var.help, var.choices, var.pattern)
    return out


def _parse_let(doc: Document, raw: Any, known: set[str]) -> dict[str, str]:
    """``let:``: computed values, each a template over target, the variables and earlier lets."""
    if not isinstance(raw, dict):
        raise doc.error(("let",), f"must be a mapping of names to templates, got {_type_name(raw)}")
    out: dict[str, str] = {}
    for name, value in raw.items():
        path: Path_ = ("let", name)
        if not isinstance(name, str) or not VAR_NAME_RE.fullmatch(name) or name == "target":
            raise doc.error(path, f"'{name}' is not a valid name (a-z, 0-9, _)")
        if name in known:
            raise doc.error(path, f"'{name}' is already a variable; a let needs its own name")
        _check_field(doc, path, Field("str"), value)
        _check_templates(doc, path, value, known | set(out))
        out[name] = value
    return out


def _parse_requires(doc: Document, raw: Any, known: set[str]) -> tuple[Requirement, ...]:
    if not isinstance(raw, list):
        raise doc.error(("requires",), f"must be a list, got {_type_name(raw)}")
    out = []
    for index, item in enumerate(raw):
        path: Path_ = ("requires", index)
        if isinstance(item, str):
            out.append(Requirement(item))
            continue
        args = _check_mapping(doc, path, item, _REQUIREMENT_FIELDS, "a requirement")
        if args["when"] is not None:
            _check_templates(doc, (*path, "when"), "{{ " + args["when"] + " }}", known)
        out.append(Requirement(args["recipe"], args["when"]))
    return tuple(out)


def _parse_platforms(doc: Document, raw: Any) -> tuple[Platform, ...]:
    if not isinstance(raw, list):
        raise doc.error(("platforms",), f"must be a list, got {_type_name(raw)}")
    out = []
    fields = {
        "distro": Field("str", required=True),
        "version": Field("str", default=""),
        "wsl": Field("int"),
        "unsupported": Field("str"),
    }
    for index, item in enumerate(raw):
        path: Path_ = ("platforms", index)
        args = _check_mapping(doc, path, item, fields, "a platform")
        try:
            spec = SpecifierSet(args["version"])
        except InvalidSpecifier:
            raise doc.error(
                (*path, "version"), f"'{args['version']}' is not a version specifier (e.g. >=22.04)"
            ) from None
        if args["wsl"] not in (None, 2):
            raise doc.error((*path, "wsl"), "only 'wsl: 2' is supported")
        out.append(Platform(args["distro"].lower(), spec, args["wsl"], args["unsupported"]))
    return tuple(out)


def _short_form(kind: Any, value: Any) -> Any:
    """``apt: [a, b]`` is ``apt: {packages: [a, b]}``: a kind's ``short`` field given alone."""
    short = getattr(kind, "short", None)
    if short is None or isinstance(value, dict):
        return value
    return {short: value}


def _parse_steps(doc: Document, section: str, raw: Any, known: set[str]) -> tuple[Step, ...]:
    if not isinstance(raw, list):
        raise doc.error((section,), f"must be a list of steps, got {_type_name(raw)}")
    steps = []
    for index, item in enumerate(raw):
        path: Path_ = (section, index)
        if not isinstance(item, dict):
            raise doc.error(path, f"a step must be a mapping, got {_type_name(item)}")
        kinds = [key for key in item if key not in _STEP_COMMON]
        for key in kinds:
            if key not in STEP_KINDS:
                raise doc.error(
                    (*path, key),
                    f"unknown key '{key}'{did_you_mean(key, [*STEP_KINDS, *_STEP_COMMON])} "
                    f"(step kinds: {', '.join(sorted(STEP_KINDS))}; "
                    f"other keys: {', '.join(sorted(_STEP_COMMON))})",
                )
        if len(kinds) != 1:
            found = f"found {', '.join(kinds)}" if kinds else "found none"
            raise doc.error(path, f"a step needs exactly one action kind, {found}")
        if "name" not in item:
            raise doc.error(path, "missing required key 'name'")
        for key in ("name", "when", "notice"):
            if key in item:
                _check_field(doc, (*path, key), Field("str"), item[key])
        if "on_change" in item:
            _check_field(doc, (*path, "on_change"), Field("shell"), item["on_change"])
        kind = kinds[0]
        given = _short_form(STEP_KINDS[kind], item[kind])
        args = _check_mapping(doc, (*path, kind), given, STEP_KINDS[kind].fields, kind)
        _check_field(doc, (*path, "implied"), Field("bool"), item.get("implied", True))
        checks = _parse_checks(doc, (*path, "verify"), item.get("verify", []))
        _check_templates(doc, path, {k: v for k, v in item.items() if k != "name"}, known)
        when = item.get("when")
        if when is not None:
            _check_templates(doc, (*path, "when"), "{{ " + when + " }}", known)
        steps.append(
            Step(
                item["name"],
                kind,
                args,
                checks,
                doc.where(path),
                when,
                item.get("notice"),
                item.get("on_change"),
                item.get("implied", True),
            )
        )
    return tuple(steps)


def _parse_checks(
    doc: Document, path: Path_, raw: Any, preflight: bool = False
) -> tuple[Check, ...]:
    if not isinstance(raw, list):
        raise doc.error(path, f"must be a list of checks, got {_type_name(raw)}")
    return tuple(
        _parse_check(doc, (*path, index), item, preflight=preflight)
        for index, item in enumerate(raw)
    )


def _parse_check(
    doc: Document, path: Path_, item: Any, nested: bool = False, preflight: bool = False
) -> Check:
    kinds = ", ".join(sorted(CHECK_KINDS))
    extras = set() if nested else {"pending_if", "hint", "name"}
    if preflight:
        extras |= {"when", "warn"}
    if not isinstance(item, dict):
        raise doc.error(path, f"a check is a mapping with one kind ({kinds})")
    named = [key for key in item if key not in extras]
    if len(named) != 1:
        raise doc.error(path, f"a check is a mapping with one kind ({kinds})")
    kind = named[0]
    if kind not in CHECK_KINDS:
        raise doc.error(
            (*path, kind),
            f"unknown check kind '{kind}'{did_you_mean(kind, CHECK_KINDS)} "
            f"(expected one of: {kinds})",
        )
    given = _short_form(CHECK_KINDS[kind], item[kind])
    args = _check_mapping(doc, (*path, kind), given, CHECK_KINDS[kind].fields, kind)
    validate = getattr(CHECK_KINDS[kind], "validate", None)
    if validate and not any(is_template(v) for v in args.values()):
        try:
            validate(args)
        except (ValueError, re.error, InvalidSpecifier) as exc:
            raise doc.error((*path, kind), str(exc)) from None
    pending_if = None
    if "pending_if" in item:
        pending_if = _parse_check(doc, (*path, "pending_if"), item["pending_if"], nested=True)
    hint = item.get("hint")
    if hint is not None:
        _check_field(doc, (*path, "hint"), Field("str"), hint)
    when, warn = item.get("when"), item.get("warn", False)
    if when is not None:
        _check_field(doc, (*path, "when"), Field("str"), when)
    _check_field(doc, (*path, "warn"), Field("bool"), warn)
    name = item.get("name")
    if name is not None:
        _check_field(doc, (*path, "name"), Field("str"), name)
    return Check(kind, args, doc.where(path), pending_if, hint, when, warn, name)


# ---------------------------------------------------------------------------
# Variable types


def coerce(var: Var, value: Any) -> Any:
    """Turn a YAML or ``--set`` value into the variable's type, or raise VariableError."""
    raw = value
    if var.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise VariableError(f"{var.name}: expected a boolean (true/false), got {raw!r}")
    if var.type == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
            return int(value)
        raise VariableError(f"{var.name}: expected an integer, got {raw!r}")
    if var.type == "list":
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise VariableError(f"{var.name}: expected a list of strings, got {raw!r}")
        for item in value:
            _check_text(var, item)
        return value
    if not isinstance(value, str) or isinstance(value, bool):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            raise VariableError(f"{var.name}: expected a string, got {raw!r}")
    _check_text(var, value)
    if var.type == "path" and not value.startswith(("/", "~")):
        raise VariableError(f"{var.name}: expected an absolute path, got {raw!r}")
    return value


def _check_text(var: Var, value: str) -> None:
    if "\x00" in value or "\n" in value or "\r" in value:
        raise VariableError(f"{var.name}: newlines and NUL bytes are not allowed, got {value!r}")
    if var.choices and value not in var.choices:
        raise VariableError(f"{var.name}: {value!r} is not one of: {', '.join(var.choices)}")
    if var.pattern and not re.fullmatch(var.pattern, value):
        raise VariableError(f"{var.name}: {value!r} does not match the pattern {var.pattern}")

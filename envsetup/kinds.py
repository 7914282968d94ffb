"""Shared shapes for the step-kind and check-kind registries.

A *field* describes one key a recipe author may write under a step or check
kind; the schema module validates recipes against these declarations, so a kind
is fully described by its module in ``envsetup/steps`` or ``envsetup/checks``.
Kinds are pure: they turn rendered arguments into an *action* (what to do) or a
shell probe (what to check), and never import pyinfra themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

FieldType = Literal["str", "shell", "bool", "int", "str_list", "str_map", "mode"]
CheckStatus = Literal["ok", "failed", "pending", "skipped"]


@dataclass(frozen=True)
class Field:
    """One key of a kind: its type, whether it is required, its default, what it means.

    ``shell`` is a string run by a shell on the target: every ``{{ value }}``
    interpolated into it is shell-quoted when rendered. ``doc`` and ``example`` are
    the one source of ``envsetup kinds``, docs/recipes.md and the JSON Schema.
    """

    type: FieldType
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] | None = None
    doc: str = ""
    example: Any = None


@dataclass(frozen=True)
class Op:
    """Run a pyinfra operation, ``module.function`` of pyinfra.operations (or ``envsetup.ops``)."""

    name: str
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class FileEdit:
    """Rewrite one file from its current text with a pure function (None: file absent).

    ``mode``, ``owner`` and ``group`` are enforced; ``create_mode`` is only the mode of a
    file that does not exist yet (an existing file keeps its own).
    """

    path: str
    edit: Any  # Callable[[str | None], str | None]; None means "leave the file absent"
    mode: str | None = None
    owner: str | None = None
    group: str | None = None
    create_mode: str | None = None


@dataclass(frozen=True)
class Fetch:
    """Download ``url`` on the control machine, check its SHA-256, put it at ``path``."""

    url: str
    sha256: str
    path: str
    mode: str = "0644"


@dataclass(frozen=True)
class Unpack:
    """Unpack a release archive into ``dest`` once its SHA-256 is proven.

    ``source`` is an https:// URL or a file on this machine; the checksum is
    ``sha256`` or the archive's line in the ``checksums`` list (a sha256sum.txt).
    Paths in ``replace`` (under ``dest``) are removed first, so no stale file of
    an older release stays. ``stamp`` on the target records what was unpacked:
    the same source with every ``creates`` path present is a no-op.
    """

    source: str
    dest: str
    stamp: str
    sha256: str | None = None
    checksums: str | None = None
    replace: tuple[str, ...] = ()
    creates: tuple[str, ...] = ()


class LineReader(Protocol):
    """Reads a streamed command's output: progress to show, and the final verdict."""

    def feed(self, line: str) -> str | None: ...  # progress text for the user, if any

    def error(self) -> str | None: ...  # why it failed, once the command ended (None: fine)


@dataclass(frozen=True)
class Stream:
    """Run ``run`` on the target unless ``unless`` succeeds; show its progress as it goes."""

    run: str
    unless: str | None
    reader: Any  # Callable[[], LineReader]


Action = Op | FileEdit | Fetch | Unpack | Stream


@dataclass(frozen=True)
class ProbeResult:
    """What a check reports: a status and one line of detail."""

    status: CheckStatus
    detail: str


@dataclass(frozen=True)
class StepContext:
    """What a step kind may need beyond its arguments: the recipe's directory and variables."""

    recipe_dir: Path
    variables: dict[str, Any]


# A check a step implies: a check kind's name and its (rendered) arguments
Implied = tuple[str, dict[str, Any]]


class StepKind(Protocol):
    """A step kind: declares its fields and maps rendered arguments to an action.

    ``action`` raises ValueError for arguments it cannot accept; that happens
    before anything runs on any target. A kind may also have ``short`` (the field
    a recipe may give alone: ``apt: [a, b]`` is ``apt: {packages: [a, b]}``) and
    ``implies(args) -> list[Implied]``: the checks that prove its own action, run
    after it by default so a recipe's ``verify:`` holds only extra checks.
    """

    name: ClassVar[str]
    fields: ClassVar[dict[str, Field]]

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action: ...

    @staticmethod
    def describe(args: dict[str, Any]) -> str: ...


class CheckKind(Protocol):
    """A check kind: a read-only shell probe and a pure judgement of its output."""

    name: ClassVar[str]
    fields: ClassVar[dict[str, Field]]

    @staticmethod
    def command(args: dict[str, Any]) -> str: ...

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult: ...

    @staticmethod
    def describe(args: dict[str, Any]) -> str: ...

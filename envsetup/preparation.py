"""Rendering recipes for one target: steps to actions, checks to shell probes.

Pure: no pyinfra here, so ``doctor`` runs the same checks as ``verify`` cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateError

from envsetup.checks import CHECK_KINDS
from envsetup.errors import RecipeError
from envsetup.kinds import Action, Field, StepContext
from envsetup.platforms import systemd_booted, wsl_version
from envsetup.probes import needs_root, root_gate
from envsetup.report import CheckReport
from envsetup.schema import Check, Recipe, Step
from envsetup.steps import STEP_KINDS
from envsetup.templates import evaluate, render_args, render_value
from envsetup.variables import resolve_variables

ELEVATE_HINT = "run as root, or give sudo's password (a terminal asks; or --sudo-password-stdin)"
# where apply records the recipes it applied (with their --set values), for doctor
STATE_DIR = "/var/lib/envsetup/applied"
TARGET_FACTS = (
    "distro",
    "version",
    "codename",
    "arch",
    "user",
    "kernel",
    "pretty",
    "osrelease",
    "wsl_distro",
    "pid1",
    "home",
    "gpu",  # display controllers' vendors: "amd", "intel", "nvidia" (space-separated)
    "jetson",  # NVIDIA Jetson's L4T major release ("35", "36"), empty elsewhere
)


@dataclass
class PreparedCheck:
    check: Check
    args: dict[str, Any]
    command: str
    pending_if: PreparedCheck | None = None
    hint: str | None = None

    def commands(self) -> list[str]:
        return [self.command] + (self.pending_if.commands() if self.pending_if else [])

    def judge(self, results: list[tuple[int, str]]) -> CheckReport:
        """Evaluate this check (and its pending condition) from its probes' results.

        A probe that the login could not answer without root (see ``root_gate``), and
        that nobody ran with root's rights, is skipped with the reason: never failed.
        """
        kind = CHECK_KINDS[self.check.kind]
        reason = needs_root(results[0][1])
        if reason is not None:
            detail = f"needs root: {reason}; {ELEVATE_HINT}"
            return CheckReport(self.check.kind, kind.describe(self.args), "skipped", detail)
        verdict = kind.evaluate(self.args, *results[0])
        status, detail = verdict.status, verdict.detail
        pending = self.pending_if
        if status == "failed" and pending and pending.judge(results[1:]).status == "ok":
            status = "pending"
        if status != "ok" and self.hint:
            detail = f"{detail}; {self.hint.strip()}"
        description = self.check.name or kind.describe(self.args)
        return CheckReport(self.check.kind, description, status, detail)


@dataclass
class PreparedStep:
    step: Step
    description: str
    action: Action | None  # None: skipped by ``when``
    checks: list[PreparedCheck] = field(default_factory=list)
    notice: str | None = None
    on_change: str | None = None  # rendered: run right after the step changed something


def target_context(info: dict[str, str], assume_wsl: bool = False) -> dict[str, Any]:
    """What templates see as ``target``: platform facts, ``wsl`` (0, 1 or 2), ``systemd``."""
    target: dict[str, Any] = {key: info.get(key, "") for key in TARGET_FACTS}
    target["wsl"] = wsl_version(target["osrelease"]) or (2 if assume_wsl else 0)
    target["systemd"] = systemd_booted(target["pid1"], bool(info.get("systemd_booted")))
    target["nvidia"] = bool(info.get("nvidia"))
    target["nvidia_driver"] = info.get("nvidia", "")  # e.g. 550.144.03; '' without a driver
    return target


def render_restart(
    recipe: Recipe, target: dict[str, Any], overrides: dict[str, Any]
) -> dict[str, str]:
    """The recipe's restart command and message for this target."""
    assert recipe.restart is not None
    variables = resolve_variables(recipe, overrides, target)
    context = {"target": target, **variables}
    fields = {"run": Field("shell"), "message": Field("str")}
    return {"recipe": recipe.name, **render_args(recipe.restart, fields, context)}


def prepare(
    recipe: Recipe, mode: str, overrides: dict[str, Any], target: dict[str, Any]
) -> list[PreparedStep]:
    """Render every step and check of a recipe for one target; raise RecipeError on bad input."""
    variables = resolve_variables(recipe, overrides, target)
    context = {"target": target, **variables}
    steps = recipe.remove if mode == "remove" else recipe.steps
    return [_prepare_step(recipe, step, context) for step in steps]


def _prepare_step(recipe: Recipe, step: Step, context: dict[str, Any]) -> PreparedStep:
    kind = STEP_KINDS[step.kind]
    try:
        if step.when is not None and not evaluate(step.when, context):
            return PreparedStep(step, f"skipped: {step.when} is false", None)
        args = render_args(step.args, kind.fields, context)
        action = kind.action(args, StepContext(recipe.directory, context))
        checks = [_prepare_check(check, context) for check in step.verify]
        if step.implied:
            checks = implied_checks(step, args, checks) + checks
    except (ValueError, TemplateError) as exc:
        raise RecipeError(f"{step.where}: step '{step.name}': {exc}") from None
    notice = render_value(step.notice, context) if step.notice else None
    on_change = None
    if step.on_change:
        on_change = render_args({"run": step.on_change}, {"run": Field("shell")}, context)["run"]
    return PreparedStep(step, kind.describe(args), action, checks, notice, on_change)


def implied_checks(
    step: Step, args: dict[str, Any], explicit: list[PreparedCheck]
) -> list[PreparedCheck]:
    """The checks a step's kind states its own action implies, less those written out.

    They run before the step's ``verify:`` checks; a recipe turns them off with
    ``implied: false`` on the step.
    """
    implies = getattr(STEP_KINDS[step.kind], "implies", None)
    if implies is None:
        return []
    seen = [(check.check.kind, check.args) for check in explicit]
    out: list[PreparedCheck] = []
    for kind_name, given in implies(args):
        kind = CHECK_KINDS[kind_name]
        full = {key: spec.default for key, spec in kind.fields.items()} | given
        if (kind_name, full) in seen:
            continue
        seen.append((kind_name, full))
        check = Check(kind_name, full, step.where)
        out.append(PreparedCheck(check, full, kind.command(full)))
    return out


def prepare_preflight(
    recipe: Recipe, overrides: dict[str, Any], target: dict[str, Any]
) -> list[PreparedCheck]:
    """The recipe's preflight checks that apply to this target (``when``), rendered."""
    context = {"target": target, **resolve_variables(recipe, overrides, target)}
    try:
        return [
            _prepare_check(check, context)
            for check in recipe.preflight
            if check.when is None or evaluate(check.when, context)
        ]
    except (ValueError, TemplateError) as exc:
        raise RecipeError(f"{recipe.name}: preflight: {exc}") from None


def requirements_here(
    recipe: Recipe, overrides: dict[str, Any], target: dict[str, Any]
) -> list[str]:
    """The recipes this one requires on this target (those whose ``when`` holds)."""
    conditional = [r for r in recipe.requires if r.when is not None]
    context: dict[str, Any] = {}
    if conditional:
        context = {"target": target, **resolve_variables(recipe, overrides, target)}
    return [r.recipe for r in recipe.requires if r.when is None or evaluate(r.when, context)]


def _prepare_check(check: Check, context: dict[str, Any]) -> PreparedCheck:
    kind = CHECK_KINDS[check.kind]
    args = render_args(check.args, kind.fields, context)
    validate = getattr(kind, "validate", None)
    if validate:
        validate(args)
    pending = _prepare_check(check.pending_if, context) if check.pending_if else None
    hint = render_value(check.hint, context) if check.hint else None
    command = kind.command(args)
    root_needed = getattr(kind, "needs_root", None)
    gate = root_needed(args) if root_needed else None
    if gate is not None:  # a login that cannot answer says so, and root runs it again
        command = root_gate(command, *gate)
    return PreparedCheck(check, args, command, pending, hint)


def judge_all(checks: list[PreparedCheck], results: list[tuple[int, str]]) -> list[CheckReport]:
    """Judge each check from the flat list of probe results (see ``probe_commands``)."""
    reports = []
    for check in checks:
        count = len(check.commands())
        reports.append(check.judge(results[:count]))
        results = results[count:]
    return reports


def probe_commands(checks: list[PreparedCheck]) -> list[str]:
    return [command for check in checks for command in check.commands()]

"""Plan, apply, verify and remove: recipes on targets, each step proven right after it runs.

Nothing runs on a target before every recipe's platform has been checked and
every step has been rendered and validated for it, so bad input changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from jinja2 import TemplateError

from envsetup.checks import CHECK_KINDS
from envsetup.engine import Connection, Engine
from envsetup.errors import EXIT_FAILED, EXIT_UNREACHABLE, EnvsetupError, RecipeError
from envsetup.kinds import Action, Field, StepContext
from envsetup.platforms import systemd_booted, wsl_version
from envsetup.report import CheckReport, RecipeReport, RunReport, StepReport, TargetReport
from envsetup.schema import Check, Recipe, Step
from envsetup.steps import STEP_KINDS
from envsetup.targets import TargetSpec
from envsetup.templates import evaluate, render_args, render_value
from envsetup.variables import check_platform, resolve_variables

Mode = Literal["plan", "apply", "verify", "remove"]
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
)


class Listener(Protocol):
    """Told about progress as it happens (the terminal display implements it)."""

    def step_started(self, target: str, recipe: str, step: str) -> None: ...

    def step_finished(self, target: str, recipe: str, step: StepReport) -> None: ...


class Silent:
    def step_started(self, target: str, recipe: str, step: str) -> None:
        pass

    def step_finished(self, target: str, recipe: str, step: StepReport) -> None:
        pass


@dataclass(frozen=True)
class Request:
    """One run: which recipes, with which variable values, on which targets."""

    recipes: list[Recipe]
    overrides: dict[str, dict[str, Any]]
    targets: list[TargetSpec]
    inventory: str | None = None
    sudo_password: str | None = None
    ask_password: Callable[[str], str | None] | None = None
    verbose: bool = False
    assume_wsl: bool = False


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
        """Evaluate this check (and its pending condition) from its probes' results."""
        kind = CHECK_KINDS[self.check.kind]
        verdict = kind.evaluate(self.args, *results[0])
        status, detail = verdict.status, verdict.detail
        pending = self.pending_if
        if status == "failed" and pending and pending.judge(results[1:]).status == "ok":
            status = "pending"
        if status != "ok" and self.hint:
            detail = f"{detail}; {self.hint.strip()}"
        return CheckReport(self.check.kind, kind.describe(self.args), status, detail)


@dataclass
class PreparedStep:
    step: Step
    description: str
    action: Action | None  # None: skipped by ``when``
    checks: list[PreparedCheck] = field(default_factory=list)


def run(mode: Mode, request: Request, listener: Listener | None = None) -> RunReport:
    listener = listener or Silent()
    engine = Engine(
        request.targets,
        request.inventory,
        request.sudo_password,
        request.ask_password,
        request.verbose,
    )
    try:
        connections, errors = engine.connect()
        by_name = {conn.name: conn for conn in connections}
        results = engine.each(connections, lambda c: run_target(engine, c, mode, request, listener))
        reports = dict(zip([c.name for c in connections], results))
        ordered: list[TargetReport] = []
        for host in engine.state.inventory:
            if host.name in errors:
                ordered.append(
                    TargetReport(host.name, error=errors[host.name], error_exit=EXIT_UNREACHABLE)
                )
                continue
            result = reports.get(host.name)
            if not isinstance(result, TargetReport):
                conn = by_name[host.name]
                result = TargetReport(
                    conn.name, error=f"unexpected error: {result!r}", error_exit=EXIT_FAILED
                )
            ordered.append(result)
    finally:
        engine.close()
    return RunReport(mode, ordered)


def run_commands(
    request: Request, commands: dict[str, list[str]]
) -> dict[str, list[tuple[int, str]]]:
    """Run shell commands on named targets; return (exit status, output) for each."""
    engine = Engine(
        request.targets,
        request.inventory,
        request.sudo_password,
        request.ask_password,
        request.verbose,
    )
    try:
        connections, _ = engine.connect()
        chosen = [conn for conn in connections if conn.name in commands]
        results = engine.each(chosen, lambda c: engine.run_probes(c, commands[c.name]))
    finally:
        engine.close()
    return {
        conn.name: result if isinstance(result, list) else [(255, str(result))]
        for conn, result in zip(chosen, results)
    }


def target_context(info: dict[str, str], assume_wsl: bool = False) -> dict[str, Any]:
    """What templates see as ``target``: platform facts, ``wsl`` (0, 1 or 2), ``systemd``."""
    target: dict[str, Any] = {key: info.get(key, "") for key in TARGET_FACTS}
    target["wsl"] = wsl_version(target["osrelease"]) or (2 if assume_wsl else 0)
    target["systemd"] = systemd_booted(target["pid1"], bool(info.get("systemd_booted")))
    return target


def run_target(
    engine: Engine, conn: Connection, mode: Mode, request: Request, listener: Listener
) -> TargetReport:
    info = conn.info
    report = TargetReport(conn.name, platform=f"{info['pretty']} ({info['arch']})")
    target = target_context(info, request.assume_wsl)
    try:
        for recipe in request.recipes:
            check_platform(recipe, target, conn.name)
        prepared = [(recipe, prepare(recipe, mode, request, target)) for recipe in request.recipes]
    except EnvsetupError as exc:
        report.error, report.error_exit = str(exc), exc.exit_code
        return report

    for recipe, steps in prepared:
        report.recipes.append(
            RecipeReport(
                recipe.name,
                [StepReport(p.step.name, p.description, notice=p.step.notice) for p in steps],
            )
        )
    stop = False
    for recipe_report, (recipe, steps) in zip(report.recipes, prepared):
        for step_report, prepared_step in zip(recipe_report.steps, steps):
            if stop:
                break
            if prepared_step.action is None:
                step_report.status = "skipped"
                continue
            listener.step_started(conn.name, recipe.name, prepared_step.step.name)
            stop = run_step(engine, conn, mode, prepared_step, step_report)
            listener.step_finished(conn.name, recipe.name, step_report)
        if recipe.restart and any(s.verify == "pending" for s in recipe_report.steps):
            report.restarts.append(render_restart(recipe, target, request))
    return report


def render_restart(recipe: Recipe, target: dict[str, Any], request: Request) -> dict[str, str]:
    """The recipe's restart command and message for this target."""
    assert recipe.restart is not None
    variables = resolve_variables(recipe, request.overrides.get(recipe.name, {}), target)
    context = {"target": target, **variables}
    fields = {"run": Field("shell"), "message": Field("str")}
    return {"recipe": recipe.name, **render_args(recipe.restart, fields, context)}


def run_step(
    engine: Engine, conn: Connection, mode: Mode, prepared: PreparedStep, report: StepReport
) -> bool:
    """Run one step and its checks; return True when the run must stop here."""
    if mode != "verify":
        assert prepared.action is not None
        outcome = engine.run_action(conn, prepared.action, dry=mode == "plan")
        if outcome.error:
            report.status, report.error = "failed", outcome.error
            return True
        if mode == "plan":
            report.status = "would change" if outcome.changed else "unchanged"
            report.diff = outcome.diff
            return False
        report.status = "changed" if outcome.changed else "unchanged"
    else:
        report.status = "unchanged"
    commands = [check.commands() for check in prepared.checks]
    results = engine.run_probes(conn, [command for group in commands for command in group])
    for check, group in zip(prepared.checks, commands):
        report.checks.append(check.judge(results[: len(group)]))
        results = results[len(group) :]
    return mode != "verify" and report.verify == "failed"


def prepare(
    recipe: Recipe, mode: Mode, request: Request, target: dict[str, Any]
) -> list[PreparedStep]:
    """Render every step and check of a recipe for one target; raise RecipeError on bad input."""
    variables = resolve_variables(recipe, request.overrides.get(recipe.name, {}), target)
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
    except (ValueError, TemplateError) as exc:
        raise RecipeError(f"{step.where}: step '{step.name}': {exc}") from None
    return PreparedStep(step, kind.describe(args), action, checks)


def _prepare_check(check: Check, context: dict[str, Any]) -> PreparedCheck:
    kind = CHECK_KINDS[check.kind]
    args = render_args(check.args, kind.fields, context)
    validate = getattr(kind, "validate", None)
    if validate:
        validate(args)
    pending = _prepare_check(check.pending_if, context) if check.pending_if else None
    hint = render_value(check.hint, context) if check.hint else None
    return PreparedCheck(check, args, kind.command(args), pending, hint)

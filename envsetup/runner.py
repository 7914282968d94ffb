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
from envsetup.kinds import Action, StepContext
from envsetup.report import CheckReport, RecipeReport, RunReport, StepReport, TargetReport
from envsetup.schema import Check, Recipe, Step
from envsetup.steps import STEP_KINDS
from envsetup.targets import TargetSpec
from envsetup.templates import evaluate, render_args
from envsetup.variables import check_platform, resolve_variables

Mode = Literal["plan", "apply", "verify", "remove"]
TARGET_FACTS = ("distro", "version", "codename", "arch", "user", "kernel", "pretty")


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


@dataclass
class PreparedCheck:
    check: Check
    args: dict[str, Any]
    command: str


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


def target_context(info: dict[str, str]) -> dict[str, str]:
    return {key: info.get(key, "") for key in TARGET_FACTS}


def run_target(
    engine: Engine, conn: Connection, mode: Mode, request: Request, listener: Listener
) -> TargetReport:
    info = conn.info
    report = TargetReport(conn.name, platform=f"{info['pretty']} ({info['arch']})")
    try:
        for recipe in request.recipes:
            check_platform(recipe, info["distro"], info["version"], info["pretty"], conn.name)
        prepared = [(recipe, prepare(recipe, mode, request, info)) for recipe in request.recipes]
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
    return report


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
    results = engine.run_probes(conn, [check.command for check in prepared.checks])
    for check, (status, output) in zip(prepared.checks, results):
        kind = CHECK_KINDS[check.check.kind]
        verdict = kind.evaluate(check.args, status, output)
        report.checks.append(
            CheckReport(check.check.kind, kind.describe(check.args), verdict.status, verdict.detail)
        )
    return mode != "verify" and report.verify == "failed"


def prepare(
    recipe: Recipe, mode: Mode, request: Request, info: dict[str, str]
) -> list[PreparedStep]:
    """Render every step and check of a recipe for one target; raise RecipeError on bad input."""
    target = target_context(info)
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
        checks = []
        for check in step.verify:
            check_kind = CHECK_KINDS[check.kind]
            check_args = render_args(check.args, check_kind.fields, context)
            validate = getattr(check_kind, "validate", None)
            if validate:
                validate(check_args)
            checks.append(PreparedCheck(check, check_args, check_kind.command(check_args)))
    except (ValueError, TemplateError) as exc:
        raise RecipeError(f"{step.where}: step '{step.name}': {exc}") from None
    return PreparedStep(step, kind.describe(args), action, checks)

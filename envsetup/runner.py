"""Plan, apply, verify and remove: recipes on targets, each step proven right after it runs.

Nothing runs on a target before every recipe's platform has been checked and
every step has been rendered and validated for it, so bad input changes nothing.
"""

from __future__ import annotations

import json
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from envsetup.engine import Connection, Engine
from envsetup.engine.failures import typed_name
from envsetup.engine.lock import apply_lock
from envsetup.errors import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_UNREACHABLE,
    EnvsetupError,
    TargetError,
)
from envsetup.kinds import Action, FileEdit, Op
from envsetup.known_targets import KnownTargets
from envsetup.preparation import (
    STATE_DIR,
    PreparedCheck,
    PreparedStep,
    judge_all,
    prepare,
    prepare_preflight,
    probe_commands,
    render_restart,
    requirements_here,
    target_context,
)
from envsetup.report import RecipeReport, RunReport, StepReport, TargetReport
from envsetup.schema import Recipe
from envsetup.stepping import HeldChecks, Listener, Mode, run_step
from envsetup.targets import TargetSpec
from envsetup.variables import check_platform


class Silent:
    def step_started(self, target: str, recipe: str, step: str) -> None:
        pass

    def step_progress(self, target: str, recipe: str, step: str, text: str) -> None:
        pass

    def step_finished(self, target: str, recipe: str, step: StepReport) -> None:
        pass


@dataclass(frozen=True)
class Request:
    """One run: which recipes, with which variable values, on which targets."""

    recipes: list[Recipe]  # requirements first (see catalog.load_with_requirements)
    overrides: dict[str, dict[str, Any]]
    targets: list[TargetSpec]
    inventory: str | None = None
    sudo_password: str | None = None
    ask_password: Callable[[str], str | None] | None = None
    verbose: bool = False
    assume_wsl: bool = False
    # set on Ctrl-C: the running step finishes, no further step starts
    interrupt: threading.Event = field(default_factory=threading.Event)
    # the recipes asked for; None: all of ``recipes`` (the others are only required)
    wanted: frozenset[str] | None = None
    # targets' info from earlier runs, to read ahead with (None: read it first)
    known: KnownTargets | None = None
    # the engine for these targets, made (and connecting) before the request was built
    opened: Engine | None = None
    # verify: a non-root login runs the checks as itself, only those that need root
    # through sudo (and skips them where sudo would need a password nobody gave)
    read_only: bool = False

    def engine(self, known: KnownTargets | None = None) -> Engine:
        return Engine(
            self.targets,
            self.inventory,
            self.sudo_password,
            self.ask_password,
            self.verbose,
            known.get if known else None,
            self.read_only,
        )


def run(mode: Mode, request: Request, listener: Listener | None = None) -> RunReport:
    listener = listener or Silent()
    engine = request.opened or request.engine(request.known)
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
        for host, result in zip(engine.state.inventory, ordered):
            result.label = typed_name(host.name, host.data)
        if request.known is not None:
            for conn in connections:
                if conn.confirmed and conn.info.get("uid") == "0":
                    request.known.remember(conn.name, conn.info)
            request.known.save()
    finally:
        engine.close()
    return RunReport(mode, ordered, interrupted=request.interrupt.is_set())


def run_commands(
    request: Request, commands: dict[str, list[str]]
) -> dict[str, list[tuple[int, str]]]:
    """Run shell commands on named targets, in order; return (exit status, output) for each."""
    engine = replace(request, read_only=False).engine()  # restart commands need root
    try:
        connections, _ = engine.connect()
        chosen = [conn for conn in connections if conn.name in commands]
        # in order: unlike checks, these change things (restart commands)
        results = engine.each(chosen, lambda c: engine.run_probes(c, commands[c.name], False))
    finally:
        engine.close()
    return {
        conn.name: result if isinstance(result, list) else [(255, str(result))]
        for conn, result in zip(chosen, results)
    }


@dataclass
class TargetPlan:
    """The recipes that run on one target, rendered for its platform; nothing run yet."""

    mode: Mode
    overrides: dict[str, dict[str, Any]]  # variable values, by recipe
    target: dict[str, Any]  # what templates see as ``target``
    needs: dict[str, set[str]]  # see ``active_requirements``
    recipes: list[Recipe]
    prepared: list[tuple[Recipe, list[PreparedStep]]]
    preflight: list[tuple[Recipe, PreparedCheck]]

    def values(self, recipe: Recipe) -> dict[str, Any]:
        return self.overrides.get(recipe.name, {})

    def actions(self) -> list[Action]:
        """Every action this run may take, the state records included, in order."""
        if self.mode == "verify":
            return []
        steps = [p for _, steps in self.prepared for p in steps]
        actions = [p.action for p in steps if p.action is not None]
        if self.mode != "plan":
            actions += [state_action(r.name, self.values(r), self.mode) for r in self.recipes]
        return actions

    def probes(self) -> list[tuple[str, str | None]]:
        """What to read ahead: preflight checks, and the steps' checks where they will run.

        A verify runs every check. An apply runs a step's checks unless a step before
        it changed something: those of a recipe applied before with the same values
        (its state record says so) are read ahead, as such a recipe most likely
        changes nothing; elsewhere they run after their steps. Preflight checks
        measure the target (free memory, disk) and run without the steps' checks,
        which may load a model or start a server.
        """
        probes: list[tuple[str, str | None]] = [
            (command, None) for command in probe_commands([check for _, check in self.preflight])
        ]
        if self.mode != "verify" and (self.mode != "apply" or self.preflight):
            return probes
        for recipe, steps in self.prepared:
            verify = self.mode == "verify"
            condition = None if verify else applied_before(recipe.name, self.values(recipe))
            checks = [check for p in steps if p.action is not None for check in p.checks]
            probes += [(command, condition) for command in probe_commands(checks)]
        return probes


def plan_target(conn: Connection, mode: Mode, request: Request) -> TargetPlan:
    """Check the platform and render every step for this target (EnvsetupError if not)."""
    target = target_context(conn.info, request.assume_wsl)
    needs = active_requirements(request, target)
    recipes = [recipe for recipe in request.recipes if recipe.name in needs]
    for recipe in recipes:
        check_platform(recipe, target, conn.name)
    plan = TargetPlan(mode, request.overrides, target, needs, recipes, [], [])
    plan.prepared = [(r, prepare(r, mode, plan.values(r), target)) for r in recipes]
    if mode in ("plan", "apply"):
        plan.preflight = [
            (r, check) for r in recipes for check in prepare_preflight(r, plan.values(r), target)
        ]
    return plan


def ready(engine: Engine, conn: Connection, mode: Mode, request: Request) -> TargetPlan:
    """The target's plan, with what its steps will read read ahead in one round trip.

    Where the target's info was only known from last time, a plan made with it holds
    once the target confirms it; otherwise (or where that plan failed) the info is
    read and the plan made again.
    """
    while True:
        try:
            plan = plan_target(conn, mode, request)
        except EnvsetupError:
            if engine.confirm(conn):
                raise
            continue  # the target is not what it was: plan with what it is
        if engine.read_ahead(conn, plan.actions(), plan.probes()):
            return plan


def run_target(
    engine: Engine, conn: Connection, mode: Mode, request: Request, listener: Listener
) -> TargetReport:
    """Run the recipes on one target; ``apply`` and ``remove`` hold its apply lock."""
    if mode not in ("apply", "remove"):
        return _run_target(engine, conn, mode, request, listener)
    try:
        with apply_lock(conn.host, conn.name, conn.privileges):
            return _run_target(engine, conn, mode, request, listener)
    except TargetError as exc:
        return TargetReport(conn.name, error=str(exc), error_exit=exc.exit_code)


def _run_target(
    engine: Engine, conn: Connection, mode: Mode, request: Request, listener: Listener
) -> TargetReport:
    try:
        plan = ready(engine, conn, mode, request)
    except TargetError as exc:  # the target stopped answering
        return TargetReport(conn.name, error=str(exc), error_exit=exc.exit_code)
    except EnvsetupError as exc:
        return TargetReport(conn.name, platform_name(conn), str(exc), exc.exit_code)
    report = TargetReport(conn.name, platform=platform_name(conn))
    # a plan goes on after a refusal, to show what apply would do once it is fixed
    refused = not preflight(engine, conn, plan.preflight, report)
    if refused and mode == "apply":
        return report

    for recipe, steps in plan.prepared:
        report.recipes.append(
            RecipeReport(
                recipe.name,
                [StepReport(p.step.name, p.description, notice=p.notice) for p in steps],
            )
        )
    held = HeldChecks(engine, conn, listener, mode)
    stop = False
    pending: set[str] = set()
    for recipe_report, (recipe, steps) in zip(report.recipes, plan.prepared):
        waiting = sorted(plan.needs[recipe.name] & pending)
        if waiting and mode == "apply":
            report.error = (
                f"{recipe.name} was not applied: it needs {', '.join(waiting)}, which is pending "
                "a restart (see the hints above). Restart, then run the same command again"
            )
            report.error_exit = EXIT_FAILED
            break
        for step_report, prepared_step in zip(recipe_report.steps, steps):
            stop = stop or request.interrupt.is_set()
            if stop:
                break
            if prepared_step.action is None:
                step_report.status = "skipped"
                continue
            step_name = prepared_step.step.name
            listener.step_started(conn.name, recipe.name, step_name)

            def progress(text: str, recipe: str = recipe.name, step: str = step_name) -> None:
                listener.step_progress(conn.name, recipe, step, text)

            stop = run_step(held, recipe.name, prepared_step, step_report, progress)
        stop = not held.flush() or stop
        overrides = plan.values(recipe)
        if any(s.verify == "pending" for s in recipe_report.steps):
            pending.add(recipe.name)
            if recipe.restart:
                report.restarts.append(render_restart(recipe, plan.target, overrides))
        if not stop and mode in ("apply", "remove"):
            engine.run_action(conn, state_action(recipe.name, overrides, mode), dry=False)
    return report


def platform_name(conn: Connection) -> str:
    return f"{conn.info['pretty']} ({conn.info['arch']})"


def active_requirements(request: Request, target: dict[str, Any]) -> dict[str, set[str]]:
    """The recipes that run on this target, each with what it requires here.

    The recipes asked for always run; a required one runs when a running recipe
    requires it on this target (``requires: [{recipe, when}]``).
    """
    wanted = request.wanted or {recipe.name for recipe in request.recipes}
    needs: dict[str, set[str]] = {}
    for recipe in reversed(request.recipes):  # those that require come after what they need
        if recipe.name in wanted or any(recipe.name in n for n in needs.values()):
            overrides = request.overrides.get(recipe.name, {})
            needs[recipe.name] = set(requirements_here(recipe, overrides, target))
    return needs


def preflight(
    engine: Engine,
    conn: Connection,
    checks: list[tuple[Recipe, PreparedCheck]],
    report: TargetReport,
) -> bool:
    """Judge the recipes' preflight checks; False (and why) when the target is refused."""
    if not checks:
        return True
    results = engine.run_probes(conn, probe_commands([check for _, check in checks]))
    verdicts = judge_all([check for _, check in checks], results)
    refusals = []
    for (recipe, check), verdict in zip(checks, verdicts):
        if verdict.status != "failed":
            continue
        line = f"{recipe.name}: {verdict.description}: {verdict.detail}"
        if check.check.warn:
            report.warnings.append(line)
        else:
            refusals.append(line)
    if refusals:
        report.error = "refused: " + "; ".join(refusals) + ". Nothing was changed"
        report.error_exit = EXIT_INVALID
        return False
    return True


def state_record(recipe: str, overrides: dict[str, Any]) -> tuple[str, str]:
    """Where the target records that a recipe is applied (for ``doctor``), and the record."""
    content = json.dumps({"recipe": recipe, "vars": overrides}, sort_keys=True) + "\n"
    return f"{STATE_DIR}/{recipe}.json", content


def applied_before(recipe: str, overrides: dict[str, Any]) -> str:
    """A shell condition: the recipe was applied on the target with these values."""
    path, content = state_record(recipe, overrides)
    return f'[ "$(cat {shlex.quote(path)} 2>/dev/null)" = {shlex.quote(content.rstrip())} ]'


def state_action(recipe: str, overrides: dict[str, Any], mode: Mode) -> FileEdit | Op:
    """What records on the target that a recipe is applied, or removes the record."""
    path, content = state_record(recipe, overrides)
    if mode == "apply":
        return FileEdit(path, lambda _old: content, mode="0644")
    quoted = shlex.quote(path)
    return Op(
        "envsetup.ops.guarded_shell", {"run": f"rm -f {quoted}", "unless": f"test ! -e {quoted}"}
    )

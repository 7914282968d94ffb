"""Plan, apply, verify and remove: recipes on targets, each step proven right after it runs.

Nothing runs on a target before every recipe's platform has been checked and
every step has been rendered and validated for it, so bad input changes nothing.
"""

from __future__ import annotations

import json
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from envsetup.engine import Connection, Engine
from envsetup.errors import EXIT_FAILED, EXIT_INVALID, EXIT_UNREACHABLE, EnvsetupError
from envsetup.kinds import FileEdit, Op
from envsetup.preparation import (
    STATE_DIR,
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

    def engine(self) -> Engine:
        return Engine(
            self.targets, self.inventory, self.sudo_password, self.ask_password, self.verbose
        )


def run(mode: Mode, request: Request, listener: Listener | None = None) -> RunReport:
    listener = listener or Silent()
    engine = request.engine()
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
    return RunReport(mode, ordered, interrupted=request.interrupt.is_set())


def run_commands(
    request: Request, commands: dict[str, list[str]]
) -> dict[str, list[tuple[int, str]]]:
    """Run shell commands on named targets, in order; return (exit status, output) for each."""
    engine = request.engine()
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


def run_target(
    engine: Engine, conn: Connection, mode: Mode, request: Request, listener: Listener
) -> TargetReport:
    info = conn.info
    report = TargetReport(conn.name, platform=f"{info['pretty']} ({info['arch']})")
    target = target_context(info, request.assume_wsl)
    try:
        needs = active_requirements(request, target)
        recipes = [recipe for recipe in request.recipes if recipe.name in needs]
        for recipe in recipes:
            check_platform(recipe, target, conn.name)
        prepared = [
            (recipe, prepare(recipe, mode, request.overrides.get(recipe.name, {}), target))
            for recipe in recipes
        ]
    except EnvsetupError as exc:
        report.error, report.error_exit = str(exc), exc.exit_code
        return report
    # a plan goes on after a refusal, to show what apply would do once it is fixed
    refused = mode in ("plan", "apply") and not preflight(
        engine, conn, request, recipes, target, report
    )
    if refused and mode == "apply":
        return report

    for recipe, steps in prepared:
        report.recipes.append(
            RecipeReport(
                recipe.name,
                [StepReport(p.step.name, p.description, notice=p.notice) for p in steps],
            )
        )
    if mode != "verify":
        actions = [p.action for _, steps in prepared for p in steps if p.action is not None]
        if mode != "plan":
            overrides = request.overrides
            actions += [state_action(r.name, overrides.get(r.name, {}), mode) for r in recipes]
        engine.prefetch(conn, actions)
    held = HeldChecks(engine, conn, listener, mode)
    stop = False
    pending: set[str] = set()
    for recipe_report, (recipe, steps) in zip(report.recipes, prepared):
        waiting = sorted(needs[recipe.name] & pending)
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
        overrides = request.overrides.get(recipe.name, {})
        if any(s.verify == "pending" for s in recipe_report.steps):
            pending.add(recipe.name)
            if recipe.restart:
                report.restarts.append(render_restart(recipe, target, overrides))
        if not stop and mode in ("apply", "remove"):
            engine.run_action(conn, state_action(recipe.name, overrides, mode), dry=False)
    return report


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
    request: Request,
    recipes: list[Recipe],
    target: dict[str, Any],
    report: TargetReport,
) -> bool:
    """Run the recipes' preflight checks in one round trip; False (and why) when refused."""
    checks = [
        (recipe, check)
        for recipe in recipes
        for check in prepare_preflight(recipe, request.overrides.get(recipe.name, {}), target)
    ]
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


def state_action(recipe: str, overrides: dict[str, Any], mode: Mode) -> FileEdit | Op:
    """What records on the target that a recipe is applied (for ``doctor``), or not."""
    path = f"{STATE_DIR}/{recipe}.json"
    if mode == "apply":
        content = json.dumps({"recipe": recipe, "vars": overrides}, sort_keys=True) + "\n"
        return FileEdit(path, lambda _old: content, mode="0644")
    quoted = shlex.quote(path)
    return Op(
        "envsetup.ops.guarded_shell", {"run": f"rm -f {quoted}", "unless": f"test ! -e {quoted}"}
    )

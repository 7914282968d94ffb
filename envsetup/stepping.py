"""One step at a time: its action, then its checks, which prove it.

A step that changed something is checked at once. The checks of steps that changed
nothing are held and run together, in one round trip, right before the next change
or at the end of the recipe: the same verdicts as checking each step at once, since
nothing changed in between.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

from envsetup.kinds import Op
from envsetup.preparation import PreparedStep, judge_all, probe_commands
from envsetup.report import StepReport

if TYPE_CHECKING:
    from envsetup.engine import Connection, Engine

Mode = Literal["plan", "apply", "verify", "remove"]


class Listener(Protocol):
    """Told about progress as it happens (the terminal display implements it)."""

    def step_started(self, target: str, recipe: str, step: str) -> None: ...

    def step_progress(self, target: str, recipe: str, step: str, text: str) -> None: ...

    def step_finished(self, target: str, recipe: str, step: StepReport) -> None: ...


class HeldChecks:
    """The checks of steps that changed nothing, held back to run in one batch.

    Running them later is the same as running them right after each step as long
    as nothing changes in between, so they run right before the next change
    (``before_change``) and at the end of each recipe. A step that changed
    something has its checks run at once. Results are reported in step order.
    """

    def __init__(self, engine: Engine, conn: Connection, listener: Listener, mode: Mode) -> None:
        self.engine, self.conn, self.listener, self.mode = engine, conn, listener, mode
        self.steps: list[tuple[str, PreparedStep, StepReport]] = []

    def hold(self, recipe: str, prepared: PreparedStep, report: StepReport) -> None:
        self.steps.append((recipe, prepared, report))

    def flush(self) -> bool:
        """Run and report the held checks; False when one failed and the run must stop."""
        steps, self.steps = self.steps, []
        checks = [check for _, prepared, _ in steps for check in prepared.checks]
        verdicts = judge_all(checks, self.engine.run_probes(self.conn, probe_commands(checks)))
        stopped = False
        for recipe, prepared, report in steps:
            mine, verdicts = verdicts[: len(prepared.checks)], verdicts[len(prepared.checks) :]
            if stopped:  # an earlier step's verify failed: as if this one never ran
                report.status, report.checks = "not run", []
            else:
                report.checks = mine
                stopped = self.mode != "verify" and report.verify == "failed"
            self.listener.step_finished(self.conn.name, recipe, report)
        return not stopped

    def finish(self, recipe: str, prepared: PreparedStep, report: StepReport, check: bool) -> bool:
        """Report a step that is not held, after those held before it; True: stop here."""
        held_ok = self.flush()
        if check and held_ok:
            results = self.engine.run_probes(self.conn, probe_commands(prepared.checks))
            report.checks = judge_all(prepared.checks, results)
        elif not held_ok:  # as if this step never ran
            report.status, report.checks, report.error, report.diff = "not run", [], None, None
        self.listener.step_finished(self.conn.name, recipe, report)
        return not held_ok or report.failed


def run_step(
    held: HeldChecks,
    recipe: str,
    prepared: PreparedStep,
    report: StepReport,
    progress: Callable[[str], None] | None = None,
) -> bool:
    """Run one step; its checks now if it changed something, else held. True: stop here."""
    engine, conn, mode = held.engine, held.conn, held.mode
    if mode == "verify":
        report.status = "unchanged"
        held.hold(recipe, prepared, report)
        return False
    assert prepared.action is not None
    outcome = engine.run_action(
        conn, prepared.action, mode == "plan", progress, before_change=held.flush
    )
    if outcome.held:  # a step before this one failed its verify: nothing was changed
        held.finish(recipe, prepared, report, check=False)
        return True
    if outcome.error:
        report.status, report.error = "failed", outcome.error
        held.finish(recipe, prepared, report, check=False)
        return True
    if mode == "plan":
        report.status = "would change" if outcome.changed else "unchanged"
        report.diff = outcome.diff
        if outcome.changed and prepared.on_change:
            report.diff = (report.diff or "") + f"then run: {prepared.on_change}\n"
        return held.finish(recipe, prepared, report, check=False)
    if not outcome.changed:
        report.status = "unchanged"
        held.hold(recipe, prepared, report)
        return False
    report.status, report.diff = "changed", outcome.diff
    if prepared.on_change:
        then = Op("envsetup.ops.guarded_shell", {"run": prepared.on_change})
        after = engine.run_action(conn, then, dry=False)
        if after.error:
            report.status = "failed"
            report.error = f"changed, but `{prepared.on_change}` failed: {after.error}"
            held.finish(recipe, prepared, report, check=False)
            return True
    return held.finish(recipe, prepared, report, check=True)

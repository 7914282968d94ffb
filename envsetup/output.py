"""Rendering: the summary table, the JSON document, and progress while steps run.

Progress goes to stderr: a live spinner line on a terminal, one plain line per
finished step otherwise, nothing with ``--json`` (stdout then holds exactly
one JSON document).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from envsetup.report import RunReport, StepReport

SYMBOL = {"ok": "✓", "failed": "✗", "pending": "…", "skipped": "·", None: "-"}
PLAIN_SYMBOL = {
    "ok": "ok",
    "failed": "FAILED",
    "pending": "pending",
    "skipped": "skipped",
    None: "-",
}


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False)


def _table(rows: list[list[str]], headers: list[str]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()]
    lines += [fmt.format(*row).rstrip() for row in rows]
    return lines


def render_report(report: RunReport) -> str:
    """The human summary: one table per target, details of what failed, then totals."""
    out: list[str] = []
    for target in report.targets:
        out.append(f"{target.target}" + (f"  [{target.platform}]" if target.platform else ""))
        out += [f"  ! {warning}" for warning in target.warnings]
        if target.error and not target.recipes:
            out.append(f"  ✗ {target.error}")
            out.append("")
            continue
        rows = [
            [recipe.recipe, step.name, step.status, step.verify or "-"]
            for recipe in target.recipes
            for step in recipe.steps
        ]
        if rows:
            verify_header = "VERIFY" if report.command != "plan" else "VERIFY (not run)"
            out += [
                "  " + line for line in _table(rows, ["RECIPE", "STEP", "CHANGE", verify_header])
            ]
        for step in target.steps:
            out += _step_details(step, report.command)
        if target.error:
            out.append(f"  ✗ {target.error}")
        out.append("")
    out.append(summary_line(report))
    if report.interrupted:
        out.append(
            "Interrupted: the running step finished; the steps marked 'not run' did not run. "
            "Run the same command again to finish."
        )
    notices = {step.notice for step in report.steps if step.notice and step.status == "changed"}
    out += [f"Note: {notice.strip()}" for notice in sorted(notices)]
    return "\n".join(out)


def _step_details(step: StepReport, command: str) -> list[str]:
    lines = []
    if step.error:
        lines.append(f"  ✗ {step.name}: step failed:")
        lines += [f"      {line}" for line in step.error.splitlines()]
    for check in step.checks:
        if check.status != "ok":
            lines.append(
                f"  {SYMBOL[check.status]} {step.name}: {check.description}: {check.detail}"
            )
    if step.diff:
        lines.append(f"  {step.name}:")
        lines += [f"    {line}" for line in step.diff.rstrip("\n").splitlines()]
    return lines


def summary_line(report: RunReport) -> str:
    c = report.counts()
    if report.command == "plan":
        return f"Plan: {c['changed']} of {c['steps']} steps would change; nothing was changed."
    verify = (
        f"verify: {c['verify_ok']} ok, {c['verify_failed']} failed, {c['verify_pending']} pending"
    )
    if c["verify_skipped"]:
        verify += f", {c['verify_skipped']} skipped (need root)"
    if report.command == "verify":
        return f"{c['steps']} steps checked; {verify}."
    line = (
        f"{c['steps']} steps: {c['changed']} changed, {c['unchanged']} unchanged, "
        f"{c['failed']} failed; {verify}."
    )
    if report.ok and c["changed"] == 0:
        line += " No changes: everything was already in place."
    return line


class LineProgress:
    """One line per finished step, for logs and CI (no terminal control codes)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.started: dict[tuple[str, str, str], float] = {}

    def step_started(self, target: str, recipe: str, step: str) -> None:
        self.started[(target, recipe, step)] = time.monotonic()

    def step_progress(self, target: str, recipe: str, step: str, text: str) -> None:
        """Long steps (a model pull) report progress; logs get only the step's end."""

    def step_finished(self, target: str, recipe: str, step: StepReport) -> None:
        elapsed = time.monotonic() - self.started.pop((target, recipe, step.name), time.monotonic())
        verify = PLAIN_SYMBOL[step.verify] if step.checks else "-"
        self.stream.write(
            f"{target} {recipe}: {step.name}: {step.status}, verify {verify} ({elapsed:.1f}s)\n"
        )
        self.stream.flush()


class TerminalProgress(LineProgress):
    """A live status line with a spinner and elapsed time; finished steps scroll above it."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._greenlet: Any = None
        self.progress: dict[tuple[str, str, str], str] = {}

    def step_started(self, target: str, recipe: str, step: str) -> None:
        super().step_started(target, recipe, step)
        if self._greenlet is None:
            import gevent

            self._greenlet = gevent.spawn(self._spin)

    def _spin(self) -> None:
        import gevent

        frame = 0
        while True:
            if self.started:
                (target, _recipe, step), since = next(iter(self.started.items()))
                more = f" (+{len(self.started) - 1} more)" if len(self.started) > 1 else ""
                text = f"{self.FRAMES[frame % len(self.FRAMES)]} {target}: {step}{more} "
                text += f"{time.monotonic() - since:.0f}s"
                detail = self.progress.get((target, _recipe, step))
                if detail:
                    text += f"  {detail}"
                self.stream.write(f"\r\x1b[2K{text}")
                self.stream.flush()
                frame += 1
            gevent.sleep(0.1)

    def step_progress(self, target: str, recipe: str, step: str, text: str) -> None:
        self.progress[(target, recipe, step)] = text

    def step_finished(self, target: str, recipe: str, step: StepReport) -> None:
        self.progress.pop((target, recipe, step.name), None)
        self.stream.write("\r\x1b[2K")
        symbol = SYMBOL[step.verify] if step.checks else ("✗" if step.failed else "·")
        elapsed = time.monotonic() - self.started.pop((target, recipe, step.name), time.monotonic())
        self.stream.write(
            f"{symbol} {target} {recipe}: {step.name}: {step.status} ({elapsed:.1f}s)\n"
        )
        self.stream.flush()

    def close(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


DOCTOR_SYMBOL = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "·"}


def render_doctor(report: Any) -> str:
    """One line per finding, with its detail and fix indented below."""
    width = max((len(f.id) for f in report.findings), default=0)
    out = [f"envsetup doctor: {report.target}"]
    for finding in report.findings:
        out.append(f"{DOCTOR_SYMBOL[finding.status]} {finding.id:<{width}}  {finding.summary}")
        if finding.status in ("warn", "fail") and finding.detail:
            out.append(f"  {'':<{width}}  {finding.detail}")
        if finding.status != "ok" and finding.fix:
            out.append(f"  {'':<{width}}  fix: {finding.fix}")
    counts = {s: sum(f.status == s for f in report.findings) for s in DOCTOR_SYMBOL}
    out.append(
        f"{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} problems, "
        f"{counts['skip']} skipped"
    )
    return "\n".join(out)


def render_symptoms(text: str, symptoms: list[Any]) -> str:
    if not symptoms:
        return "No known symptom matches that text. Run `envsetup doctor` for a full check."
    out = []
    for symptom in symptoms:
        out += [f"✗ {symptom.id}: {symptom.cause}", f"  fix: {symptom.fix}"]
    return "\n".join(out)

"""Rendering: the summary table, the JSON document, and progress while steps run.

Progress goes to stderr: a live spinner line on a terminal, one plain line per
finished step otherwise, nothing with ``--json`` (stdout then holds exactly
one JSON document).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import textwrap
import time
from dataclasses import dataclass
from typing import Any, TextIO

from envsetup.report import RunReport, StepReport, TargetReport

SYMBOL = {"ok": "✓", "failed": "✗", "pending": "…", "skipped": "·", None: "-"}
PLAIN_SYMBOL = {
    "ok": "ok",
    "failed": "FAILED",
    "pending": "pending",
    "skipped": "skipped",
    None: "-",
}

# SGR codes per status word; only used where colour is on (see ``Screen``)
STYLE = {
    "ok": "32",
    "changed": "33",
    "would change": "33",
    "failed": "1;31",
    "FAILED": "1;31",
    "pending": "36",
    "unchanged": "2",
    "skipped": "2",
    "not run": "2",
    "warn": "33",
    "fail": "1;31",
    "skip": "2",
    "dim": "2",
    "bold": "1",
    "add": "32",
    "del": "31",
    "hunk": "36",
}


def color_wanted(choice: str, stream: TextIO) -> bool:
    """--color always/never decide; auto: NO_COLOR off, FORCE_COLOR on, else a terminal."""
    if choice in ("always", "never"):
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"


@dataclass(frozen=True)
class Screen:
    """How human output is laid out: colour on or off, and the width to fit (None: no
    limit, as in a log, where a wrapped line helps nobody)."""

    color: bool = False
    width: int | None = None

    @classmethod
    def of(cls, stream: TextIO, choice: str = "auto") -> Screen:
        width = shutil.get_terminal_size().columns if stream.isatty() else None
        return cls(color_wanted(choice, stream), width)

    def paint(self, text: str, style: str | None) -> str:
        code = STYLE.get(style or "")
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and code and text else text

    def fill(self, text: str, indent: str = "", hang: str = "") -> list[str]:
        """A paragraph, wrapped between words to the width (one line without a width)."""
        if self.width is None or len(indent) + len(text) <= self.width:
            return [indent + text]
        return textwrap.wrap(
            text,
            max(self.width, 20),
            initial_indent=indent,
            subsequent_indent=indent + hang,
            break_long_words=True,  # only a word longer than a whole line (a path) is cut
            break_on_hyphens=False,
        )


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False)


def _wrap_cell(text: str, width: int) -> list[str]:
    # between words; a single word longer than the column is the only thing cut
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def table(
    rows: list[list[str]],
    headers: list[str],
    screen: Screen = Screen(),
    indent: str = "",
    wrap: tuple[int, ...] = (),
    styles: tuple[int, ...] = (),
) -> list[str]:
    """Columns padded to their widest cell. Where the screen is narrower, the columns in
    ``wrap`` give up width (the widest first) and their cells wrap between words; the
    columns in ``styles`` are painted by their word (``STYLE``)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    if screen.width is not None:
        excess = len(indent) + sum(widths) + 2 * (len(widths) - 1) - screen.width
        # a column gives way down to its longest word: cells wrap, words stay whole
        floors = {
            c: max([len(headers[c])] + [len(w) for row in rows for w in str(row[c]).split()])
            for c in wrap
        }
        while excess > 0 and wrap:
            shrinkable = [c for c in wrap if widths[c] > floors[c]]
            if not shrinkable:
                break
            column = max(shrinkable, key=lambda c: widths[c] - floors[c])
            widths[column] -= 1
            excess -= 1

    def line(cells: list[str], painted: bool) -> list[str]:
        wrapped = [
            _wrap_cell(cell, widths[i]) if i in wrap else [cell] for i, cell in enumerate(cells)
        ]
        out = []
        for n in range(max(len(w) for w in wrapped)):
            parts = []
            for i, cell_lines in enumerate(wrapped):
                text = cell_lines[n] if n < len(cell_lines) else ""
                pad = " " * max(widths[i] - len(text), 0)
                style = cells[i] if painted and i in styles and n == 0 else None
                parts.append(screen.paint(text, style) + pad)
            out.append((indent + "  ".join(parts)).rstrip())
        return out

    lines = [
        indent
        + screen.paint("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(), "bold")
    ]
    for row in rows:
        lines += line([str(cell) for cell in row], True)
    return lines


def render_report(report: RunReport, screen: Screen = Screen(), diffs: bool = True) -> str:
    """The human summary: one table per target, details of what failed, then totals."""
    out: list[str] = []
    verify = report.command == "verify"
    for target in report.targets:
        name = target.label or target.target
        head = name + (f"  [{target.platform}]" if target.platform else "")
        out += [screen.paint(line, "bold") for line in screen.fill(head, "", "  ")]
        out += [line for w in target.warnings for line in screen.fill(f"! {w}", "  ", "  ")]
        if target.error and not target.recipes:
            out += screen.fill(f"{screen.paint('✗', 'failed')} {target.error}", "  ", "  ")
            out.append("")
            continue
        styles: tuple[int, ...]
        if verify:
            rows = [
                [recipe.recipe, step.name, _checks_cell(step)]
                for recipe in target.recipes
                for step in recipe.steps
            ]
            headers, styles = ["RECIPE", "STEP", "CHECKS"], (2,)
        elif report.command == "plan":  # nothing is verified by a plan: no column for it
            rows = [
                [recipe.recipe, step.name, step.status]
                for recipe in target.recipes
                for step in recipe.steps
            ]
            headers, styles = ["RECIPE", "STEP", "CHANGE"], (2,)
        else:
            rows = [
                [recipe.recipe, step.name, step.status, step.verify or "-"]
                for recipe in target.recipes
                for step in recipe.steps
            ]
            headers, styles = ["RECIPE", "STEP", "CHANGE", "VERIFY"], (2, 3)
        if rows:
            out += table(rows, headers, screen, "  ", wrap=(0, 1), styles=styles)
        for recipe in target.recipes:
            for step in recipe.steps:
                out += _step_details(step, report.command, screen, diffs, recipe.recipe, target)
            if verify and any(step.verify == "failed" for step in recipe.steps):
                fix = f"envsetup apply {recipe.recipe}{target_option(target)}"
                out += screen.fill(f"fix: {fix}", "  ", "     ")
        if target.error:
            out += screen.fill(f"{screen.paint('✗', 'failed')} {target.error}", "  ", "  ")
        out.append("")
    out += screen.fill(summary_line(report))
    if report.command == "plan" and _later_changes(report):
        out += screen.fill(
            "Steps after a change are judged on the target as it is now: a step that "
            "needs what an earlier one installs may find less to do when it runs."
        )
    if report.interrupted:
        out += screen.fill(
            "Interrupted: the running step finished; the steps marked 'not run' did not run. "
            "Run the same command again to finish."
        )
    for notice in _notices(report):
        out += screen.fill(f"Note: {notice}", "", "  ")
    return "\n".join(out)


def _checks_cell(step: StepReport) -> str:
    if not step.checks:
        return "-"
    statuses = [c.status for c in step.checks]
    worst = step.verify or "ok"
    if worst == "ok":
        return "ok"
    return f"{worst} ({statuses.count(worst)} of {len(statuses)})"


def _later_changes(report: RunReport) -> bool:
    return any(sum(s.changed for s in t.steps) > 1 for t in report.targets)


def _notices(report: RunReport) -> list[str]:
    """Notices of changed steps, phrased for the machine they concern."""
    found: dict[str, None] = {}
    for target in report.targets:
        remote = _remote(target)
        for step in target.steps:
            if step.notice and step.status == "changed":
                text = " ".join(step.notice.split())
                if remote:
                    text = (
                        f"on {target.label or target.target}: {text} (log in there again "
                        "to see it; the shell you typed this in runs elsewhere)"
                    )
                found[text] = None
    return sorted(found)


def _remote(target: TargetReport) -> bool:
    return not target.target.startswith("@local")


def target_option(target: TargetReport) -> str:
    """The ``-t`` option that names this target in a command to copy ('' for @local)."""
    if not _remote(target):
        return ""
    return f" -t {shlex.quote(target.label or target.target)}"


def _step_details(
    step: StepReport,
    command: str,
    screen: Screen,
    diffs: bool,
    recipe: str,
    target: TargetReport,
) -> list[str]:
    lines: list[str] = []
    failed = screen.paint("✗", "failed")
    if step.error:
        lines.append(f"  {failed} {step.name}: step failed:")
        lines += [out for line in step.error.splitlines() for out in screen.fill(line, "      ")]
    for check in step.checks:
        if check.status == "ok":
            continue
        symbol = screen.paint(SYMBOL[check.status], check.status)
        lines += screen.fill(f"{symbol} {step.name}: {check.description}", "  ", "    ")
        lines += screen.fill(check.detail, "      ", "  ")
    # a file's diff where diffs are wanted; other notes (what apt repaired) always
    if step.diff and (diffs or not step.diff.startswith("--- ")):
        lines.append(f"  {step.name}:")
        lines += [
            f"    {_paint_diff(line, screen)}" for line in step.diff.rstrip("\n").splitlines()
        ]
    return lines


def _paint_diff(line: str, screen: Screen) -> str:
    if line.startswith(("+++", "---")):
        return screen.paint(line, "bold")
    if line.startswith("@@"):
        return screen.paint(line, "hunk")
    if line.startswith("+"):
        return screen.paint(line, "add")
    if line.startswith("-"):
        return screen.paint(line, "del")
    return line


def summary_line(report: RunReport) -> str:
    c = report.counts()
    if not c["steps"] and report.targets and all(t.error for t in report.targets):
        return "Nothing ran: " + (
            "the target could not be used (see above)."
            if len(report.targets) == 1
            else "no target could be used (see above)."
        )
    steps = plural(c["steps"], "step")
    if report.command == "plan":
        return f"Plan: {c['changed']} of {steps} would change; nothing was changed."
    if report.command == "verify":
        checks = sum(len(s.checks) for s in report.steps)
        failed = sum(ch.status == "failed" for s in report.steps for ch in s.checks)
        pending = sum(ch.status == "pending" for s in report.steps for ch in s.checks)
        skipped = sum(ch.status == "skipped" for s in report.steps for ch in s.checks)
        line = f"{plural(checks, 'check')} of {steps}: {checks - failed - pending - skipped} ok, "
        line += f"{failed} failed, {pending} pending"
        if skipped:
            line += f", {skipped} skipped (need root)"
        return line + "; nothing was changed."
    verify = (
        f"verify: {c['verify_ok']} ok, {c['verify_failed']} failed, {c['verify_pending']} pending"
    )
    if c["verify_skipped"]:
        verify += f", {c['verify_skipped']} skipped (need root)"
    line = (
        f"{steps}: {c['changed']} changed, {c['unchanged']} unchanged, "
        f"{c['failed']} failed; {verify}."
    )
    if report.ok and c["changed"] == 0 and c["steps"]:
        line += " No changes: everything was already in place."
    return line


_BAR = re.compile(r" [█▏▎▍▌▋▊▉·]+ +(\d+)%$")


def _cut_middle(text: str, room: int) -> str:
    if len(text) <= room:
        return text
    keep = max(room - 1, 2)
    return text[: keep // 2] + "…" + text[len(text) - (keep - keep // 2) :]


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else (text[: max(room - 1, 0)] + "…" if room else "")


class LineProgress:
    """One line per finished step, for logs and CI (no terminal control codes).

    A long step's progress (apt, a model pull) adds a line only where its phase, the
    first word of its progress text, changes: a few lines, not a flood.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        names: dict[str, str] | None = None,
        read_only: bool = False,
    ) -> None:
        self.stream = stream or sys.stderr
        self.read_only = read_only  # verify: a step is checked, never changed
        self.started: dict[tuple[str, str, str], float] = {}
        self.phases: dict[tuple[str, str, str], str] = {}
        self.names = names or {}

    def name(self, target: str) -> str:
        return self.names.get(target, target)

    def step_started(self, target: str, recipe: str, step: str) -> None:
        self.started[(target, recipe, step)] = time.monotonic()

    def step_progress(self, target: str, recipe: str, step: str, text: str) -> None:
        phase = text.split(" ", 1)[0].rstrip(":")
        if self.phases.get((target, recipe, step)) == phase:
            return
        self.phases[(target, recipe, step)] = phase
        plain = text.split(" █")[0].split(" ·")[0].rstrip()  # no bar in a log
        self.stream.write(f"{self.name(target)} {recipe}: {step}: {plain}\n")
        self.stream.flush()

    def step_finished(self, target: str, recipe: str, step: StepReport) -> None:
        self.phases.pop((target, recipe, step.name), None)
        elapsed = time.monotonic() - self.started.pop((target, recipe, step.name), time.monotonic())
        verify = PLAIN_SYMBOL[step.verify] if step.checks else "-"
        done = f"checked, {verify}" if self.read_only else f"{step.status}, verify {verify}"
        self.stream.write(f"{self.name(target)} {recipe}: {step.name}: {done} ({elapsed:.1f}s)\n")
        self.stream.flush()


class TerminalProgress(LineProgress):
    """A live status line with a spinner and elapsed time; finished steps scroll above it.

    The line is cut to the terminal's width (a wrapped line could not be redrawn).
    """

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(
        self,
        stream: TextIO | None = None,
        names: dict[str, str] | None = None,
        screen: Screen | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__(stream, names, read_only)
        self._greenlet: Any = None
        self.progress: dict[tuple[str, str, str], str] = {}
        self.screen = screen or Screen()

    def step_started(self, target: str, recipe: str, step: str) -> None:
        super().step_started(target, recipe, step)
        if self._greenlet is None:
            import gevent

            self._greenlet = gevent.spawn(self._spin)

    def status_line(self, frame: int, width: int | None = None) -> str:
        """Spinner, which step where, seconds, then its progress; cut to ``width``.

        Where it is too long, the target's name gives way first (cut in the middle),
        then the step's, then the progress words; the bar narrows on a narrow screen
        and keeps its percentage.
        """
        (target, _recipe, step), since = next(iter(self.started.items()))
        more = f" (+{len(self.started) - 1} more)" if len(self.started) > 1 else ""
        width = (width or shutil.get_terminal_size().columns) - 1
        seconds = f" {time.monotonic() - since:.0f}s"
        detail = self.progress.get((target, _recipe, step)) or ""
        words, bar_part = detail, ""
        match = _BAR.search(detail)
        if match:
            words, bar_part = detail[: match.start()], detail[match.start() :]
            if width < 100:
                from envsetup.apt_progress import bar

                percent = int(match.group(1))
                bar_part = f" {bar(percent / 100, 10 if width >= 60 else 6)} {percent:3d}%"
        words = f"  {words}" if words else ""
        head = f"{self.FRAMES[frame % len(self.FRAMES)]} "
        name, label = self.name(target), f"{step}{more}"
        fixed = len(head) + len(seconds) + len(bar_part)
        room = width - fixed - len(words)
        if room < len(name) + 2 + len(label):
            floor = 32 if width >= 80 else 20
            room = max(room, min(len(name) + 2 + len(label), floor))  # the words give way
            words = _cut(words, max(width - fixed - room, 0))
        if room < len(name) + 2 + len(label):
            name = _cut_middle(name, max(room - 2 - len(label), 10))
        where = _cut(f"{name}: {label}", room)
        return (head + where + seconds + words + bar_part)[:width]

    def _spin(self) -> None:
        import gevent

        frame = 0
        while True:
            if self.started:
                self.stream.write(f"\r\x1b[2K{self.status_line(frame)}")
                self.stream.flush()
                frame += 1
            gevent.sleep(0.1)

    def step_progress(self, target: str, recipe: str, step: str, text: str) -> None:
        self.progress[(target, recipe, step)] = text

    def step_finished(self, target: str, recipe: str, step: StepReport) -> None:
        self.progress.pop((target, recipe, step.name), None)
        self.stream.write("\r\x1b[2K")
        if step.failed:
            symbol = self.screen.paint("✗", "failed")
        elif step.checks:
            symbol = self.screen.paint(SYMBOL[step.verify], step.verify)
        else:
            symbol = "·"
        elapsed = time.monotonic() - self.started.pop((target, recipe, step.name), time.monotonic())
        word: str = step.status
        if self.read_only:
            word = {"ok": "ok", "failed": "failed", "pending": "pending"}.get(
                step.verify or "", "checked"
            )
        text = f"{self.name(target)} {recipe}: {step.name}: {word} ({elapsed:.1f}s)"
        fitted = Screen(width=shutil.get_terminal_size().columns).fill(text, "  ", "    ")
        fitted[0] = fitted[0][2:]
        # the status word painted where it ends up (the last line holds it)
        fitted[-1] = fitted[-1].replace(f"{word} (", f"{self.screen.paint(word, word)} (", 1)
        self.stream.write(f"{symbol} " + "\n".join(fitted) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


DOCTOR_SYMBOL = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "·"}


def for_target(fix: str, target: str | None) -> str:
    """An envsetup command in a fix, aimed at ``target`` (copied as is, it would otherwise
    run on this machine)."""
    if not target or target == "@local" or not fix.startswith("envsetup ") or " -t " in fix:
        return fix
    command, sep, rest = fix.partition(" (")  # "CMD (or: ...)": the option goes on CMD
    return f"{command} -t {shlex.quote(target)}{sep}{rest}"


def render_doctor(report: Any, screen: Screen = Screen(), target: str | None = None) -> str:
    """One line per finding, with its detail and fix indented below."""
    width = max((len(f.id) for f in report.findings), default=0)
    out = [f"envsetup doctor: {target or report.target}"]
    pad = " " * (width + 4)
    for finding in report.findings:
        symbol = screen.paint(DOCTOR_SYMBOL[finding.status], finding.status)
        out += screen.fill(f"{symbol} {finding.id:<{width}}  {finding.summary}", "", pad)
        if finding.status in ("warn", "fail") and finding.detail:
            out += screen.fill(finding.detail, pad)
        if finding.status != "ok" and finding.fix:
            out += screen.fill(f"fix: {for_target(finding.fix, target)}", pad, "     ")
    counts = {s: sum(f.status == s for f in report.findings) for s in DOCTOR_SYMBOL}
    out += screen.fill(
        f"{counts['ok']} ok, {plural(counts['warn'], 'warning')}, "
        f"{plural(counts['fail'], 'problem')}, {counts['skip']} skipped"
    )
    return "\n".join(out)


def render_symptoms(text: str, symptoms: list[Any], screen: Screen = Screen()) -> str:
    if not symptoms:
        return (
            "No known symptom matches that text. Run `envsetup doctor` for a full check of "
            "this machine."
        )
    out = []
    for symptom in symptoms:
        failed = screen.paint("✗", "failed")
        out += screen.fill(f"{failed} {symptom.id}: {symptom.cause_for(text)}", "", "  ")
        out += screen.fill(f"fix: {symptom.fix_for(text)}", "  ", "     ")
    return "\n".join(out)

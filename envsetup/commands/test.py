"""``envsetup test``: prove a recipe in a throwaway system, as Molecule does, without Docker.

The lifecycle, on a fresh root of each platform (or a target the user gave up):

1. platform: ``plan`` runs, so the platform check and every template render;
2. apply: every step succeeds and its checks pass;
3. verify: the checks pass on their own;
4. idempotence: ``apply`` again changes nothing; a step that changes is named, with
   its diff or command;
5. remove: the remove section runs and its checks pass (what it claims to undo);
6. leftovers: packages apply installed and files under /etc, /opt and /usr/local
   that remove did not put back as they were (reported, not failed: until envsetup
   can undo, a recipe's remove section says what it undoes);
7. cleanup: the root is unmounted and deleted, always.

Each phase runs envsetup itself in a child process (``envsetup MODE --json``), so a
phase sees exactly what a user's run would, and a crash in one phase is reported
as that phase's failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from envsetup.catalog import find_recipe, load_recipe
from envsetup.errors import UsageError
from envsetup.testbed import (
    TestbedError,
    TestPlatform,
    ThrowawayRoot,
    missing_requirements,
    platform,
)
from envsetup.variables import parse_assignments, resolve_overrides

# where a recipe's own changes live: compared before apply and after remove
WATCHED = ("/etc", "/opt", "/usr/local")
MAX_HASHED = 64 * 1024 * 1024
PhaseStatus = Literal["passed", "failed", "skipped"]
PHASE_TIMEOUT = 3600
PACKAGES = (
    "dpkg-query -W -f='${db:Status-Status} ${Package}\\n' 2>/dev/null | sed -n 's/^installed //p'"
)


@dataclass
class Phase:
    name: str
    status: PhaseStatus
    detail: str
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    run: dict[str, Any] | None = None  # the phase's envsetup --json document
    leftovers: list[str] = field(default_factory=list)  # packages remove left behind
    files: list[str] = field(default_factory=list)  # +added, -removed, ~changed since before

    def as_json(self) -> dict[str, Any]:
        return {
            "phase": self.name,
            "status": self.status,
            "detail": self.detail,
            "problems": self.problems,
            "seconds": round(self.seconds, 1),
            "leftovers": self.leftovers,
            "files": self.files,
            "run": self.run,
        }


@dataclass
class PlatformTest:
    platform: str
    target: str
    phases: list[Phase] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(phase.status != "failed" for phase in self.phases)


@dataclass
class TestReport:
    recipe: str
    results: list[PlatformTest] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(result.ok for result in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def as_json(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "platforms": [
                {
                    "platform": r.platform,
                    "target": r.target,
                    "ok": r.ok,
                    "phases": [p.as_json() for p in r.phases],
                }
                for r in self.results
            ],
        }


Progress = Callable[[str, Phase], None]


@dataclass(frozen=True)
class TestRequest:
    recipe: str
    platforms: tuple[str, ...] = ("debian-12",)
    assignments: tuple[str, ...] = ()
    target: str | None = None  # a target the user gave up (--destroy-ok); no root is built
    mirror: str | None = None
    assume_wsl: bool = False


def check_request(request: TestRequest, destroy_ok: bool) -> None:
    """Refuse, before anything runs, what cannot work here; say exactly what to do."""
    recipe = load_recipe(request.recipe)
    resolve_overrides([recipe], parse_assignments(request.assignments))
    if request.target is not None:
        if not destroy_ok:
            raise UsageError(
                f"envsetup test applies and removes {recipe.name} on {request.target}, "
                "and may leave it broken",
                fix="add --destroy-ok if that target may be destroyed, or leave out -t to "
                "test in a throwaway root",
            )
        return
    for name in request.platforms:
        platform(name, request.mirror)
    missing = missing_requirements()
    if missing:
        raise UsageError("envsetup test cannot build a throwaway root here", fix="; ".join(missing))


def test_recipe(request: TestRequest, progress: Progress | None = None) -> TestReport:
    recipe_path = str(find_recipe(request.recipe))
    report = TestReport(load_recipe(recipe_path).name)
    if request.target is not None:
        result = PlatformTest("as found", request.target)
        report.results.append(result)
        _lifecycle(request, recipe_path, request.target, None, result, progress)
        return report
    for name in request.platforms:
        item = platform(name, request.mirror)
        result = PlatformTest(item.name, "")
        report.results.append(result)
        _in_throwaway(request, recipe_path, item, result, progress)
    return report


def _in_throwaway(
    request: TestRequest,
    recipe_path: str,
    item: TestPlatform,
    result: PlatformTest,
    progress: Progress | None,
) -> None:
    started = time.monotonic()
    root: ThrowawayRoot | None = None
    try:
        try:
            root = ThrowawayRoot(item)
            root.open()
        except (TestbedError, OSError) as exc:
            _add(result, Phase("root", "failed", str(exc), time.monotonic() - started), progress)
            return
        result.target = f"@chroot{root.path}"
        _add(
            result,
            Phase(
                "root",
                "passed",
                f"a fresh {item.name} root at {root.path}",
                time.monotonic() - started,
            ),
            progress,
        )
        _lifecycle(request, recipe_path, result.target, root, result, progress)
    finally:
        started = time.monotonic()
        problems = root.close() if root is not None else []
        status: PhaseStatus = "failed" if problems else "passed"
        detail = "; ".join(problems) or "unmounted /proc, /dev and /sys, deleted the root"
        _add(result, Phase("cleanup", status, detail, time.monotonic() - started), progress)


def _add(result: PlatformTest, phase: Phase, progress: Progress | None) -> None:
    result.phases.append(phase)
    if progress:
        progress(result.platform, phase)


def _lifecycle(
    request: TestRequest,
    recipe_path: str,
    target: str,
    root: ThrowawayRoot | None,
    result: PlatformTest,
    progress: Progress | None,
) -> None:
    def envsetup(mode: str) -> tuple[dict[str, Any] | None, str, float]:
        command = [sys.executable, "-m", "envsetup", mode, recipe_path, "-t", target, "--json"]
        for item in request.assignments:
            command += ["--set", item]
        if request.assume_wsl:
            command.append("--assume-wsl")
        started = time.monotonic()
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=PHASE_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return None, f"envsetup {mode} ran over {PHASE_TIMEOUT} s", time.monotonic() - started
        seconds = time.monotonic() - started
        try:
            return json.loads(done.stdout), done.stderr, seconds
        except ValueError:
            tail = (done.stderr or done.stdout).strip()[-500:]
            return None, f"envsetup {mode} exited {done.returncode}: {tail}", seconds

    def phase(
        name: str, mode: str, judge: Callable[[dict[str, Any]], tuple[bool, str, list[str]]]
    ) -> bool:
        """Run one phase; False when the next phases cannot run (refused, crashed, a step
        failed). A check that fails fails the phase but lets the lifecycle go on."""
        document, errors, seconds = envsetup(mode)
        if document is None:
            _add(result, Phase(name, "failed", errors, seconds), progress)
            return False
        refused = _refusal(document)
        if refused:
            _add(result, Phase(name, "failed", refused, seconds, run=document), progress)
            return False
        ok, detail, problems = judge(document)
        status: PhaseStatus = "passed" if ok else "failed"
        _add(result, Phase(name, status, detail, seconds, problems, document), progress)
        return not any(step["status"] == "failed" for step in _steps(document))

    recipe = load_recipe(recipe_path)
    before, files_before = _packages(root), _files(root)
    steps_left = ["apply", "verify", "idempotence", "remove", "leftovers"]
    if not phase("platform", "plan", _judge_plan):
        _skip(result, steps_left, "the platform check failed", progress)
        return
    if not phase("apply", "apply", _judge_run):
        _skip(result, steps_left[1:], "a step of apply failed", progress)
        return
    phase("verify", "verify", _judge_run)
    phase("idempotence", "apply", _judge_idempotent)
    if not recipe.remove:
        _skip(result, steps_left[3:], "the recipe has no remove section", progress)
        return
    removed = phase("remove", "remove", _judge_run)
    if root is None or not removed:
        _skip(
            result,
            ["leftovers"],
            "no throwaway root" if root is None else "remove failed",
            progress,
        )
        return
    after = _packages(root)
    left = sorted(after - before) if before is not None and after is not None else []
    parts = []
    if left:
        more = f" and {len(left) - 10} more" if len(left) > 10 else ""
        parts.append(
            f"packages installed by apply and still there: {', '.join(left[:10])}{more} "
            "(apt remove keeps what they pulled in; apt-get autoremove removes that)"
        )
    changed = _compare(files_before, _files(root))
    if changed:
        more = f" and {len(changed) - 10} more" if len(changed) > 10 else ""
        parts.append(f"files not as before apply: {', '.join(changed[:10])}{more}")
    detail = "; ".join(parts) or (
        f"every package is gone again, and {', '.join(WATCHED)} are as before apply"
    )
    _add(result, Phase("leftovers", "passed", detail, leftovers=left, files=changed), progress)


def _files(root: ThrowawayRoot | None) -> dict[str, str]:
    """What each file under WATCHED in the root holds (SHA-256, link target or directory)."""
    out: dict[str, str] = {}
    if root is None:
        return out
    for top in WATCHED:
        for directory, subdirs, names in os.walk(root.path / top.lstrip("/")):
            for name in [*names, *subdirs]:
                path = Path(directory, name)
                inside = "/" + str(path.relative_to(root.path))
                try:
                    if path.is_symlink():
                        out[inside] = "link " + os.readlink(path)
                    elif path.is_dir():
                        out[inside] = "directory"
                    elif path.is_file():
                        out[inside] = _digest(path)
                except OSError:
                    out[inside] = "unreadable"
    return out


def _digest(path: Path) -> str:
    if path.stat().st_size > MAX_HASHED:
        return f"size {path.stat().st_size}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _compare(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """``+path`` added, ``-path`` removed, ``~path`` changed."""
    out = [f"+{p}" for p in after if p not in before]
    out += [f"-{p}" for p in before if p not in after]
    out += [f"~{p}" for p in before if p in after and before[p] != after[p]]
    return sorted(out, key=lambda item: item[1:])


def _packages(root: ThrowawayRoot | None) -> set[str] | None:
    if root is None:
        return None
    done = root.run(PACKAGES)
    return set(done.stdout.split()) if done.returncode == 0 else None


def _skip(result: PlatformTest, names: Sequence[str], why: str, progress: Progress | None) -> None:
    for name in names:
        _add(result, Phase(name, "skipped", why), progress)


def _refusal(document: dict[str, Any]) -> str | None:
    """A target-level error: unreachable, refused platform, invalid input."""
    if "error" in document and "targets" not in document:  # a CLI-level error document
        return str(document.get("error"))
    errors = [t["error"] for t in document.get("targets", []) if t.get("error")]
    return "; ".join(errors) or None


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for t in document["targets"] for r in t["recipes"] for s in r["steps"]]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _judge_plan(document: dict[str, Any]) -> tuple[bool, str, list[str]]:
    steps = _steps(document)
    return True, f"the platform is supported; {_count(len(steps), 'step')} rendered", []


def _judge_run(document: dict[str, Any]) -> tuple[bool, str, list[str]]:
    steps = _steps(document)
    problems = []
    for step in steps:
        if step["status"] == "failed":
            problems.append(f"step '{step['name']}' failed: {step.get('error') or ''}".strip())
        for check in step["checks"]:
            if check["status"] == "failed":
                problems.append(
                    f"step '{step['name']}': check {check['description']} failed: {check['detail']}"
                )
    checks = sum(len(step["checks"]) for step in steps)
    changed = sum(step["changed"] for step in steps)
    detail = f"{_count(len(steps), 'step')} ({changed} changed), {_count(checks, 'check')}"
    pending = [c for s in steps for c in s["checks"] if c["status"] == "pending"]
    if pending:
        detail += f", {len(pending)} pending (true after a restart or a new login)"
    return not problems and document.get("exit_code", 1) == 0, detail, problems


def _judge_idempotent(document: dict[str, Any]) -> tuple[bool, str, list[str]]:
    """Applying again must change nothing (its checks were judged by apply and verify)."""
    problems = []
    for step in _steps(document):
        if step["status"] == "failed":
            problems.append(f"step '{step['name']}' failed: {step.get('error') or ''}".strip())
        elif step["changed"]:
            shown = f"diff:\n{step['diff']}" if step.get("diff") else f"ran: {step['description']}"
            problems.append(f"step '{step['name']}' changed again on a converged system; {shown}")
    if problems:
        return False, "applying again changed something", problems
    return True, "applying again changed nothing", []


# ---------------------------------------------------------------------------
# Output


def render_text(report: TestReport) -> str:
    lines = []
    for result in report.results:
        lines.append(f"{report.recipe} on {result.platform}: {'passed' if result.ok else 'FAILED'}")
        for phase in result.phases:
            lines.append(phase_line(phase))
            lines += [f"      {problem}" for problem in phase.problems]
    return "\n".join(lines)


def phase_line(phase: Phase) -> str:
    took = f" ({phase.seconds:.0f} s)" if phase.seconds >= 1 else ""
    return f"  {phase.status:<7} {phase.name}{took}: {phase.detail}"


def junit(report: TestReport) -> str:
    """One test suite per platform, one test case per phase."""
    suites = ET.Element("testsuites", name=f"envsetup test {report.recipe}")
    for result in report.results:
        suite = ET.SubElement(suites, "testsuite", name=f"{report.recipe} on {result.platform}")
        for phase in result.phases:
            case = ET.SubElement(
                suite,
                "testcase",
                name=phase.name,
                classname=f"{report.recipe}.{result.platform}",
                time=f"{phase.seconds:.1f}",
            )
            if phase.status == "failed":
                failure = ET.SubElement(case, "failure", message=phase.detail[:200])
                failure.text = "\n".join([phase.detail, *phase.problems])
            elif phase.status == "skipped":
                ET.SubElement(case, "skipped", message=phase.detail)
        suite.set("tests", str(len(result.phases)))
        suite.set("failures", str(sum(p.status == "failed" for p in result.phases)))
        suite.set("skipped", str(sum(p.status == "skipped" for p in result.phases)))
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )

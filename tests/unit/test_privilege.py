"""The pure parts of least privilege: root gates, the kinds' conditions, skipped checks."""

from __future__ import annotations

import subprocess

from envsetup.checks.file import FileCheck
from envsetup.checks.login_env import LoginEnvCheck
from envsetup.output import summary_line
from envsetup.probes import NEEDS_ROOT, needs_root, root_gate
from envsetup.report import CheckReport, RecipeReport, RunReport, StepReport, TargetReport


def run(script: str) -> str:
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True).stdout


def test_root_gate_says_why_or_runs_the_probe() -> None:
    gated = root_gate("echo ran", "true", "/etc/x cannot be read without root")
    out = run(gated)
    assert out == f"{NEEDS_ROOT} /etc/x cannot be read without root\n"
    assert needs_root(out) == "/etc/x cannot be read without root"
    out = run(root_gate("echo ran", "false", "unused"))
    assert (out, needs_root(out)) == ("ran\n", None)


def test_a_probe_printing_the_marker_later_is_not_taken_for_a_refusal() -> None:
    assert needs_root(f"installed 1.0\n{NEEDS_ROOT} x\n") is None


def test_file_and_login_env_checks_say_when_they_need_root() -> None:
    gate = FileCheck.needs_root({"path": "/etc/x", "contains": "a"})
    assert gate is not None and gate[1] == "/etc/x cannot be read without root"
    # as root (these tests run as root in CI, or as a user who may read /etc/passwd)
    readable = FileCheck.needs_root({"path": "/etc/passwd", "contains": "root"})
    assert readable is not None and run(f"if {readable[0]}; then echo yes; fi") == ""
    missing = FileCheck.needs_root({"path": "/nonexistent/dir/file", "exists": False})
    assert missing is not None and run(f"if {missing[0]}; then echo yes; fi") == ""
    login = LoginEnvCheck.needs_root({"user": "someone-else", "key": "K", "value": "v"})
    assert login is not None and login[1] == "a login session of someone-else needs root (su)"


def test_skipped_checks_are_counted_and_do_not_fail_the_run() -> None:
    skipped = CheckReport("file", "/etc/x exists", "skipped", "needs root: ...")
    ok = CheckReport("package", "package hello installed", "ok", "hello 2.10 is installed")
    steps = [
        StepReport("a", "a", status="unchanged", checks=[ok]),
        StepReport("b", "b", status="unchanged", checks=[ok, skipped]),
    ]
    report = RunReport("verify", [TargetReport("t", recipes=[RecipeReport("r", steps)])])
    assert [s.verify for s in steps] == ["ok", "skipped"]
    assert report.exit_code == 0
    assert report.counts()["verify_skipped"] == 1
    assert summary_line(report) == (
        "3 checks of 2 steps: 2 ok, 0 failed, 0 pending, 1 skipped (need root); "
        "nothing was changed."
    )

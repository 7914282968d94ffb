"""``envsetup test``: what it refuses before anything runs, and how it judges each phase."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from envsetup import testbed
from envsetup.commands import test as testing
from tests.helpers import envsetup


def test_a_given_target_needs_destroy_ok() -> None:
    result = envsetup("test", "ubuntu-java17", "-t", "@chroot/srv/box")
    assert result.exit_code == 2
    assert result.stderr == (
        "envsetup: error: envsetup test applies and removes ubuntu-java17 on @chroot/srv/box, "
        "and may leave it broken\n"
        "Fix: add --destroy-ok if that target may be destroyed, or leave out -t to test in a "
        "throwaway root\n"
    )


def test_an_unknown_platform_names_the_known_ones() -> None:
    result = envsetup("test", "ubuntu-java17", "--on", "fedora-40")
    assert result.exit_code == 2
    assert result.stderr == (
        "envsetup: error: --on fedora-40: no such test platform\n"
        "Fix: use one of: debian-12, debian-13, ubuntu-22.04, ubuntu-24.04\n"
    )


def test_without_root_it_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(testing, "missing_requirements", lambda: ["run as root", "install x"])
    result = envsetup("test", "ubuntu-java17")
    assert result.exit_code == 2
    assert result.stderr == (
        "envsetup: error: envsetup test cannot build a throwaway root here\n"
        "Fix: run as root; install x\n"
    )


def document(*steps: dict[str, Any]) -> dict[str, Any]:
    return {
        "exit_code": 0,
        "targets": [
            {"target": "t", "error": None, "recipes": [{"recipe": "r", "steps": list(steps)}]}
        ],
    }


def step(name: str, changed: bool, diff: str | None = None, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"do {name}",
        "status": "changed" if changed else "unchanged",
        "changed": changed,
        "checks": [],
        "diff": diff,
        "error": None,
        **more,
    }


def test_idempotence_names_the_step_and_shows_its_diff_or_command() -> None:
    ok, detail, problems = testing._judge_idempotent(
        document(step("a", False), step("b", True, "-x\n+y"), step("c", True))
    )
    assert (ok, detail) == (False, "applying again changed something")
    assert problems == [
        "step 'b' changed again on a converged system; diff:\n-x\n+y",
        "step 'c' changed again on a converged system; ran: do c",
    ]
    assert testing._judge_idempotent(document(step("a", False))) == (
        True,
        "applying again changed nothing",
        [],
    )


def test_a_refused_target_fails_the_phase() -> None:
    refused = {"targets": [{"target": "t", "error": "r does not support Debian 12", "recipes": []}]}
    assert testing._refusal(refused) == "r does not support Debian 12"
    crashed = {"ok": False, "exit_code": 2, "error": "bad recipe", "fix": None}
    assert testing._refusal(crashed) == "bad recipe"


def test_junit_has_a_case_per_phase() -> None:
    result = testing.PlatformTest("debian-12", "@chroot/x")
    result.phases = [
        testing.Phase("apply", "passed", "3 steps", 12.0),
        testing.Phase(
            "idempotence", "failed", "applying again changed something", 1.0, ["step 'b'"]
        ),
        testing.Phase("remove", "skipped", "the recipe has no remove section"),
    ]
    report = testing.TestReport("demo", [result])
    assert report.exit_code == 1
    suite = ET.fromstring(testing.junit(report)).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    failure = suite.find("testcase[@name='idempotence']/failure")
    assert failure is not None and failure.text == "applying again changed something\nstep 'b'"


def test_ubuntu_roots_need_its_keyring_and_use_the_gutsy_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "gutsy").write_text("")
    (scripts / "bookworm").write_text("")
    monkeypatch.setattr(testbed, "SCRIPTS", scripts)
    monkeypatch.setattr(testbed, "UBUNTU_KEYRING", tmp_path / "ubuntu-archive-keyring.gpg")
    noble = testbed.platform("ubuntu-24.04")
    with pytest.raises(testbed.TestbedError) as info:
        testbed.debootstrap_script(noble)
    assert str(info.value) == (
        f"cannot check the packages of ubuntu-24.04: {tmp_path}/ubuntu-archive-keyring.gpg "
        "is missing\nFix: apt-get install ubuntu-archive-keyring"
    )
    (tmp_path / "ubuntu-archive-keyring.gpg").write_text("")
    assert testbed.debootstrap_script(noble) == str(scripts / "gutsy")
    assert testbed.debootstrap_script(testbed.platform("debian-12")) is None
    with pytest.raises(testbed.TestbedError, match="this debootstrap does not know trixie"):
        testbed.debootstrap_script(testbed.platform("debian-13"))
    assert testbed.platform("debian-12", "http://mirror.local/debian").mirror == (
        "http://mirror.local/debian"
    )

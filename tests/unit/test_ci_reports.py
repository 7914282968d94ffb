"""JUnit XML validated against the JUnit schema CI systems read; the step summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from envsetup.ci_reports import junit_xml, step_summary
from envsetup.report import CheckReport, RecipeReport, RunReport, StepReport, TargetReport
from tests.helpers import envsetup

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent.parent / "fixtures" / "junit-10.xsd")


def sample() -> RunReport:
    installed = StepReport(
        "Install OpenJDK 17",
        "apt install openjdk-17-jdk",
        "changed",
        [
            CheckReport("package", "package openjdk-17-jdk installed", "ok", "installed"),
            CheckReport(
                "version",
                "`java -version` reports >=17,<18",
                "failed",
                "version 21.0.5 does not satisfy >=17,<18",
            ),
        ],
    )
    pending = StepReport(
        "[boot] systemd=true",
        "ini",
        "unchanged",
        [
            CheckReport("command", "`cat /proc/1/comm` prints /^systemd$/", "pending", "init"),
        ],
    )
    broken = StepReport("JAVA_HOME", "env_file", "failed", error="E: disk full")
    return RunReport(
        "apply",
        [
            TargetReport(
                "@chroot/srv/root",
                "Debian 12",
                recipes=[
                    RecipeReport("ubuntu-java17", [installed, broken]),
                    RecipeReport("wsl-systemd", [pending]),
                ],
            ),
            TargetReport("db1", error="cannot connect to db1: Could not connect", error_exit=3),
        ],
    )


def test_junit_is_valid_and_failures_carry_the_output() -> None:
    text = junit_xml(sample())
    SCHEMA.validate(text)
    root = ET.fromstring(text)
    assert root.attrib["tests"] == "7" and root.attrib["failures"] == "2"
    assert root.attrib["errors"] == "1"
    cases = {c.attrib["name"]: c for c in root.iter("testcase")}
    failure = cases["Install OpenJDK 17 › `java -version` reports >=17,<18"].find("failure")
    assert failure is not None and failure.text == "version 21.0.5 does not satisfy >=17,<18"
    step_failure = cases["step: JAVA_HOME"].find("failure")
    assert step_failure is not None and step_failure.text == "E: disk full"
    skipped = cases["[boot] systemd=true › `cat /proc/1/comm` prints /^systemd$/"].find("skipped")
    assert skipped is not None and skipped.attrib["message"] == "pending: init"
    error = cases["connect and check the platform"].find("error")
    assert error is not None and error.attrib["type"] == "exit 3"
    suites = [s.attrib["name"] for s in root.iter("testsuite")]
    assert suites == ["@chroot/srv/root ubuntu-java17", "@chroot/srv/root wsl-systemd", "db1"]


def test_step_summary_markdown() -> None:
    text = step_summary(sample())
    assert text.startswith("### envsetup apply: ❌ failed\n")
    assert (
        "| `@chroot/srv/root` | ubuntu-java17 | Install OpenJDK 17 | changed | ❌ failed |" in text
    )
    assert "- Install OpenJDK 17: `java -version` reports >=17,<18: version 21.0.5" in text


def test_cli_writes_junit_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "reports" / "junit.xml"
    result = envsetup(
        "verify", "ubuntu-java17", "-t", "ssh://root@127.0.0.1:1", "--junit", str(junit)
    )
    assert result.exit_code == 3
    SCHEMA.validate(junit.read_text())
    assert "cannot connect to root@127.0.0.1:1" in junit.read_text()
    assert summary.read_text().startswith("### envsetup verify: ❌ failed")

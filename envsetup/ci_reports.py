"""Reports that CI systems read: JUnit XML and the GitHub Actions step summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from envsetup.report import RunReport, StepReport


def junit_xml(report: RunReport) -> str:
    """One test suite per target and recipe; one test case per step and per verify check.

    A failed step or check is a ``<failure>`` carrying its output; a ``pending``
    check is ``<skipped>`` (it passes only after a restart or a new login); an
    unreachable or refused target is one test case with an ``<error>``.
    """
    suites = ET.Element("testsuites", name=f"envsetup {report.command}")
    for target in report.targets:
        if target.error is not None:
            suite = _suite(suites, f"{target.target}")
            case = ET.SubElement(
                suite,
                "testcase",
                name="connect and check the platform",
                classname=_classname(target.target, "envsetup"),
                time="0",
            )
            error = ET.SubElement(
                case,
                "error",
                message=target.error.splitlines()[0],
                type=f"exit {target.error_exit}",
            )
            error.text = target.error
            _count(suite)
            continue
        for recipe in target.recipes:
            suite = _suite(suites, f"{target.target} {recipe.recipe}")
            for step in recipe.steps:
                _step_cases(suite, _classname(target.target, recipe.recipe), step)
            _count(suite)
    _count(suites)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def _suite(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, "testsuite", name=name)


def _classname(target: str, recipe: str) -> str:
    return f"{recipe}.{target}".replace("/", "_")


def _step_cases(suite: ET.Element, classname: str, step: StepReport) -> None:
    case = ET.SubElement(
        suite, "testcase", name=f"step: {step.name}", classname=classname, time="0"
    )
    if step.status == "failed":
        failure = ET.SubElement(case, "failure", message=f"step failed: {step.name}", type="step")
        failure.text = step.error or ""
    elif step.status in ("skipped", "not run"):
        ET.SubElement(case, "skipped", message=step.status)
    else:
        out = ET.SubElement(case, "system-out")
        out.text = f"{step.status}: {step.description}" + (f"\n{step.diff}" if step.diff else "")
    for check in step.checks:
        check_case = ET.SubElement(
            suite,
            "testcase",
            name=f"{step.name} › {check.description}",
            classname=classname,
            time="0",
        )
        if check.status == "failed":
            failure = ET.SubElement(
                check_case, "failure", message=check.detail[:200], type=f"check.{check.kind}"
            )
            failure.text = check.detail
        elif check.status in ("pending", "skipped"):
            ET.SubElement(check_case, "skipped", message=f"{check.status}: {check.detail}")


def _count(element: ET.Element) -> None:
    cases = element.iter("testcase")
    counts = {"tests": 0, "failures": 0, "errors": 0}
    if element.tag == "testsuite":  # <testsuites> has no skipped count in the schema
        counts["skipped"] = 0
    for case in cases:
        counts["tests"] += 1
        counts["failures"] += case.find("failure") is not None
        counts["errors"] += case.find("error") is not None
        if "skipped" in counts:
            counts["skipped"] += case.find("skipped") is not None
    for key, value in counts.items():
        element.set(key, str(value))
    element.set("time", "0")


def write_junit(report: RunReport, path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(junit_xml(report), encoding="utf-8")


def step_summary(report: RunReport) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``."""
    from envsetup.output import summary_line

    icon = {"ok": "✅", "failed": "❌", "pending": "⏳", "skipped": "⏭️", None: "–"}
    lines = [f"### envsetup {report.command}: {'✅ ok' if report.ok else '❌ failed'}", ""]
    lines += ["| target | recipe | step | change | verify |", "|---|---|---|---|---|"]
    for target in report.targets:
        if target.error is not None:
            lines.append(f"| `{target.target}` | | ❌ {target.error.splitlines()[0]} | | |")
        for recipe in target.recipes:
            for step in recipe.steps:
                lines.append(
                    f"| `{target.target}` | {recipe.recipe} | {step.name} | "
                    f"{step.status} | {icon[step.verify]} {step.verify or ''} |"
                )
    failing = [(s.name, c) for s in report.steps for c in s.checks if c.status == "failed"]
    if failing:
        lines += ["", "**Failed checks**", ""]
        lines += [f"- {name}: {check.description}: {check.detail}" for name, check in failing]
    lines += ["", summary_line(report), ""]
    return "\n".join(lines)

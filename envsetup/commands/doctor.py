"""``envsetup doctor``: findings for a machine, known symptoms, and the recipes that fix them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from envsetup.doctor.model import Finding
from envsetup.doctor.symptoms import Symptom, explain
from envsetup.errors import EXIT_FAILED, EXIT_OK, TargetError


@dataclass
class DoctorReport:
    target: str
    findings: list[Finding]
    symptoms: list[Symptom] = field(default_factory=list)
    explained: str | None = None

    def exit_code(self, strict: bool = False) -> int:
        bad = {"fail", "warn"} if strict else {"fail"}
        return EXIT_FAILED if any(f.status in bad for f in self.findings) else EXIT_OK

    def fixes(self) -> list[str]:
        """The distinct ``envsetup apply`` commands that failed findings name."""
        out: list[str] = []
        for finding in self.findings:
            if finding.status == "fail" and finding.fix:
                match = re.search(r"envsetup apply [^()]*", finding.fix)
                if match and match.group(0).strip() not in out:
                    out.append(match.group(0).strip())
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "findings": [f.as_json() for f in self.findings],
            "symptoms": [{"id": s.id, "cause": s.cause, "fix": s.fix} for s in self.symptoms],
        }


def doctor(
    target: str | None = None, explain_text: str | None = None, root: str = "/"
) -> DoctorReport:
    """Diagnose the local machine (files read below ``root``) or one target, read-only."""
    from envsetup.doctor.run import run_checks

    symptoms = explain(explain_text) if explain_text else []
    if target in (None, "@local"):
        from envsetup.doctor.machine import LocalMachine

        return DoctorReport("@local", run_checks(LocalMachine(root)), symptoms, explain_text)
    from envsetup.doctor.target import TargetMachine
    from envsetup.engine import Engine
    from envsetup.targets import parse_target

    # read-only: checks that need root are skipped where sudo would need a password
    engine = Engine([parse_target(target)], read_only=True)
    try:
        connections, errors = engine.connect()
        if errors:
            raise TargetError(next(iter(errors.values())))
        machine = TargetMachine(engine, connections[0])
        findings = run_checks(machine, concurrent_checks=False)
    finally:
        engine.close()
    return DoctorReport(connections[0].name, findings, symptoms, explain_text)

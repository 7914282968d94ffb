"""Running the doctor's checks: concurrently, each with a timeout, never fatal."""

from __future__ import annotations

import concurrent.futures
import time
import traceback

from envsetup.doctor import (
    checks_java,
    checks_ollama,
    checks_platform,
    checks_python,
    checks_recipes,
    checks_wsl,
)
from envsetup.doctor.machine import Machine
from envsetup.doctor.model import DoctorCheck, Finding

DOCTOR_CHECKS: dict[str, DoctorCheck] = {
    "platform": checks_platform.platform,
    "java": checks_java.java,
    "java.alternatives": checks_java.alternatives,
    "wsl": checks_wsl.wsl,
    "python": checks_python.python,
    "ollama": checks_ollama.ollama,
    "recipes": checks_recipes.recipes,
}
TIMEOUT = 5.0


def run_checks(
    machine: Machine,
    checks: dict[str, DoctorCheck] | None = None,
    timeout: float = TIMEOUT,
    concurrent_checks: bool = True,
) -> list[Finding]:
    """Every check's findings, in registry order; a crash or a timeout becomes a finding."""
    checks = DOCTOR_CHECKS if checks is None else checks
    if not concurrent_checks:
        return [f for name, check in checks.items() for f in _guarded(name, check, machine)]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(checks) or 1)
    futures = {name: pool.submit(_guarded, name, check, machine) for name, check in checks.items()}
    deadline = time.monotonic() + timeout
    findings: list[Finding] = []
    for name, future in futures.items():
        try:
            findings += future.result(timeout=max(0.0, deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            findings.append(
                Finding(
                    f"{name}.error",
                    "warn",
                    f"the {name} check timed out",
                    f"no answer within {timeout:.0f} s",
                )
            )
    pool.shutdown(wait=False, cancel_futures=True)
    return findings


def _guarded(name: str, check: DoctorCheck, machine: Machine) -> list[Finding]:
    try:
        return check(machine)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return [
            Finding(
                f"{name}.error",
                "warn",
                f"the {name} check crashed: {type(exc).__name__}: {exc}",
                f"at {where.filename}:{where.lineno}; please report it",
            )
        ]

"""What a run found, as plain data: per target, per recipe, per step, per check.

``RunReport.exit_code`` applies the documented exit codes; ``as_json`` is the
machine-readable document behind ``--json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from envsetup.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNREACHABLE,
)

StepStatus = Literal["changed", "unchanged", "would change", "failed", "skipped", "not run"]
Verify = Literal["ok", "failed", "pending", "skipped"]  # skipped: it needs root


@dataclass
class CheckReport:
    kind: str
    description: str
    status: Verify
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "status": self.status,
            "detail": self.detail,
        }


@dataclass
class StepReport:
    name: str
    description: str
    status: StepStatus = "not run"
    checks: list[CheckReport] = field(default_factory=list)
    diff: str | None = None
    error: str | None = None
    notice: str | None = None

    @property
    def changed(self) -> bool:
        return self.status in ("changed", "would change")

    @property
    def verify(self) -> Verify | None:
        """The step's verify result: failed if any check failed, pending if any is pending."""
        if not self.checks:
            return None
        statuses = {check.status for check in self.checks}
        worst: tuple[Verify, ...] = ("failed", "pending", "skipped")
        return next((status for status in worst if status in statuses), "ok")

    @property
    def failed(self) -> bool:
        return self.status == "failed" or self.verify == "failed"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "changed": self.changed,
            "verify": self.verify,
            "checks": [check.as_json() for check in self.checks],
            "diff": self.diff,
            "error": self.error,
            "notice": self.notice,
        }


@dataclass
class RecipeReport:
    recipe: str
    steps: list[StepReport] = field(default_factory=list)


@dataclass
class TargetReport:
    target: str
    platform: str | None = None
    error: str | None = None
    error_exit: int = EXIT_OK
    recipes: list[RecipeReport] = field(default_factory=list)
    restarts: list[dict[str, str]] = field(default_factory=list)  # pending until these run
    warnings: list[str] = field(default_factory=list)  # preflight checks marked warn that failed
    label: str | None = None  # the target as typed: user, host and port (None: as ``target``)

    @property
    def steps(self) -> list[StepReport]:
        return [step for recipe in self.recipes for step in recipe.steps]


@dataclass
class RunReport:
    command: str
    targets: list[TargetReport] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C: the steps after the running one did not run

    @property
    def steps(self) -> list[StepReport]:
        return [step for target in self.targets for step in target.steps]

    @property
    def changed(self) -> int:
        return sum(step.changed for step in self.steps)

    @property
    def exit_code(self) -> int:
        """130 interrupted, 2 invalid input or platform, 3 unreachable, 1 a failure, else 0."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        errors = {target.error_exit for target in self.targets if target.error is not None}
        for code in (EXIT_INVALID, EXIT_UNREACHABLE):
            if code in errors:
                return code
        if errors or any(step.failed for step in self.steps):
            return EXIT_FAILED
        return EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    def counts(self) -> dict[str, int]:
        steps = self.steps
        verdicts = [step.verify for step in steps]
        return {
            "steps": len(steps),
            "changed": sum(s.changed for s in steps),
            "unchanged": sum(s.status == "unchanged" for s in steps),
            "failed": sum(s.status == "failed" for s in steps),
            "verify_ok": verdicts.count("ok"),
            "verify_failed": verdicts.count("failed"),
            "verify_pending": verdicts.count("pending"),
            "verify_skipped": verdicts.count("skipped"),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "changed": self.changed,
            "interrupted": self.interrupted,
            "summary": self.counts(),
            "targets": [
                {
                    "target": target.target,
                    "label": target.label or target.target,
                    "platform": target.platform,
                    "error": target.error,
                    "restarts": target.restarts,
                    "warnings": target.warnings,
                    "recipes": [
                        {"recipe": r.recipe, "steps": [s.as_json() for s in r.steps]}
                        for r in target.recipes
                    ],
                }
                for target in self.targets
            ],
        }

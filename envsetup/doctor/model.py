"""Findings: what a doctor check reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from envsetup.doctor.machine import Machine

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    id: str
    status: Status
    summary: str
    detail: str = ""
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


DoctorCheck = Callable[[Machine], list[Finding]]

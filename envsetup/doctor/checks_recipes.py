"""The verify checks of every recipe applied to this machine (same checks as ``verify``)."""

from __future__ import annotations

import json
import secrets

from envsetup.catalog import load_recipe
from envsetup.doctor.machine import Machine
from envsetup.doctor.model import Finding
from envsetup.errors import EnvsetupError
from envsetup.platforms import TARGET_INFO_COMMAND, parse_target_info
from envsetup.preparation import (
    STATE_DIR,
    judge_all,
    prepare,
    probe_commands,
    target_context,
)
from envsetup.probes import batch_script, split_batch
from envsetup.variables import resolve_overrides


def recipes(machine: Machine) -> list[Finding]:
    names = [n[: -len(".json")] for n in machine.listdir(STATE_DIR) if n.endswith(".json")]
    if not names:
        return []
    _, out, _ = machine.run(["sh", "-c", TARGET_INFO_COMMAND])
    target = target_context(parse_target_info(out.splitlines()))
    return [_verify(machine, name, target) for name in names]


def _verify(machine: Machine, name: str, target: dict[str, object]) -> Finding:
    fid, fix = f"recipe.{name}", f"envsetup apply {name}"
    try:
        record = json.loads(machine.read(f"{STATE_DIR}/{name}.json") or "{}")
        recipe = load_recipe(name)
        overrides = resolve_overrides([recipe], record.get("vars", {}))[recipe.name]
        checks = [c for step in prepare(recipe, "verify", overrides, target) for c in step.checks]
    except (EnvsetupError, ValueError) as exc:
        return Finding(fid, "warn", f"{name}: cannot verify", str(exc))
    commands = probe_commands(checks)
    probes = getattr(machine, "probes", None)
    if probes is not None:  # a target: each probe that needs root goes through sudo alone
        reports = judge_all(checks, probes(commands))
    else:
        marker = f"@@envsetup-check-{secrets.token_hex(6)}@@"
        _, out, _ = machine.run(["sh", "-c", batch_script(commands, marker)], 20)
        results = split_batch(out, marker)
        missing = (255, "the check did not run")
        reports = judge_all(checks, [results.get(i, missing) for i in range(len(commands))])
    failed = [r for r in reports if r.status == "failed"]
    pending = [r for r in reports if r.status == "pending"]
    skipped = [r for r in reports if r.status == "skipped"]
    if failed:
        return Finding(
            fid,
            "fail",
            f"{name}: {len(failed)} of {len(reports)} checks failed",
            "; ".join(f"{r.description}: {r.detail}" for r in failed),
            fix,
        )
    if pending:
        return Finding(
            fid,
            "warn",
            f"{name}: {len(pending)} checks pending a restart or login",
            "; ".join(r.detail for r in pending),
        )
    if skipped:  # not a failure: re-applying could not change what the login may read
        return Finding(
            fid,
            "skip",
            f"{name}: {len(reports) - len(skipped)} checks ok, {len(skipped)} need root",
            "; ".join(f"{r.description}: {r.detail}" for r in skipped),
        )
    return Finding(fid, "ok", f"{name}: {len(reports)} checks ok")

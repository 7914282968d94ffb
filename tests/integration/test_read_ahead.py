"""One round trip for a converged target: its info, the facts and the checks read ahead.

These run envsetup's real runner and engine on this machine through pyinfra's
@local connector (root: a root login is what envsetup remembers). The recipe's
steps and checks only touch a temporary directory, and the state record goes
there too (``STATE_DIR`` patched); every check appends its name to a log, so the
tests see how often each check really ran. Commands are counted at the connector.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyinfra.connectors.local import LocalConnector

from envsetup.catalog import load_recipe
from envsetup.known_targets import KnownTargets
from envsetup.platforms import TARGET_INFO_COMMAND, parse_target_info
from envsetup.report import RunReport
from envsetup.runner import Request, run
from envsetup.stepping import Mode
from envsetup.targets import parse_target


def local_info() -> dict[str, str]:
    import subprocess

    out = subprocess.run(["sh", "-c", TARGET_INFO_COMMAND], capture_output=True, text=True)
    return parse_target_info(out.stdout.splitlines())


def recipe_text(directory: Path) -> str:
    distro = local_info()["distro"]
    steps = []
    for name in ("a", "b", "c"):
        path = directory / name
        steps.append(
            f"  - name: {name}\n"
            f"    shell: {{run: 'touch {path}', creates: {path}}}\n"
            f"    verify:\n"
            f"      - command: {{run: 'echo {name} >> {directory}/checks.log; test -e {path}'}}\n"
        )
    return (
        "name: ahead\nsummary: three files, each checked\n"
        f"platforms:\n  - {{distro: {distro}}}\nsteps:\n" + "".join(steps)
    )


class Runs:
    """Applies the recipe on @local, counting the commands each run sends."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.dir = tmp_path / "work"
        self.dir.mkdir()
        (tmp_path / "recipe.yaml").write_text(recipe_text(self.dir))
        self.recipe = load_recipe(str(tmp_path / "recipe.yaml"))
        self.known_file = tmp_path / "targets.json"
        self.commands: list[str] = []
        monkeypatch.setattr("envsetup.runner.STATE_DIR", str(tmp_path / "state"))
        original = LocalConnector.run_shell_command

        def counted(connector: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            self.commands.append(str(command))
            return original(connector, command, *args, **kwargs)

        monkeypatch.setattr(LocalConnector, "run_shell_command", counted)

    def __call__(self, mode: Mode = "apply") -> tuple[RunReport, list[str], list[str]]:
        """The report, the commands sent, and the checks that ran (in the order they ran)."""
        self.commands.clear()
        log = self.dir / "checks.log"
        log.unlink(missing_ok=True)
        request = Request(
            [self.recipe], {}, [parse_target("@local")], known=KnownTargets(self.known_file)
        )
        report = run(mode, request)
        checks = log.read_text().split() if log.exists() else []
        return report, list(self.commands), checks


def statuses(report: RunReport) -> list[str]:
    steps = report.targets[0].recipes[0].steps
    return [f"{s.name}: {s.status} {s.verify}" for s in steps]


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runs:
    return Runs(tmp_path, monkeypatch)


def test_a_converged_apply_is_one_command_with_each_check_run_once(runs: Runs) -> None:
    report, _, checks = runs()  # first apply: no state record yet, nothing read ahead
    assert statuses(report) == ["a: changed ok", "b: changed ok", "c: changed ok"]
    assert checks == ["a", "b", "c"]
    assert KnownTargets(runs.known_file).get("@local") == local_info()

    report, commands, checks = runs()
    assert statuses(report) == ["a: unchanged ok", "b: unchanged ok", "c: unchanged ok"]
    assert len(commands) == 1  # the info, every fact and every check: one round trip
    assert sorted(checks) == ["a", "b", "c"]  # each once (they ran at the same time)
    assert report.exit_code == 0

    report, commands, checks = runs("verify")
    assert statuses(report) == ["a: unchanged ok", "b: unchanged ok", "c: unchanged ok"]
    assert len(commands) == 1
    assert sorted(checks) == ["a", "b", "c"]


def test_after_a_change_the_checks_read_ahead_are_run_again(runs: Runs) -> None:
    runs()
    (runs.dir / "b").unlink()  # drift: step b must run again

    report, _, checks = runs()
    assert statuses(report) == ["a: unchanged ok", "b: changed ok", "c: unchanged ok"]
    # read ahead: a, b (failing then: b was missing), c; after b changed: b and c again
    assert sorted(checks[:3]) == ["a", "b", "c"]
    assert checks[3:] == ["b", "c"]


def test_a_recipe_not_applied_with_these_values_has_no_checks_read_ahead(runs: Runs) -> None:
    runs()
    record = next((runs.dir.parent / "state").iterdir())
    record.write_text('{"recipe": "ahead", "vars": {"other": 1}}\n')

    report, commands, checks = runs()
    assert statuses(report) == ["a: unchanged ok", "b: unchanged ok", "c: unchanged ok"]
    assert sorted(checks) == ["a", "b", "c"]  # once, held to the end: not read ahead
    # sent with the read-ahead, but held back there by the record; run in a batch of their own
    assert "checks.log" in commands[1]


def test_with_preflight_checks_the_steps_checks_are_not_read_ahead(
    runs: Runs, tmp_path: Path
) -> None:
    recipe = recipe_text(runs.dir).replace(
        "steps:\n",
        f"preflight:\n  - command: {{run: 'echo preflight >> {runs.dir}/checks.log'}}\nsteps:\n",
    )
    (tmp_path / "recipe.yaml").write_text(recipe)
    runs.recipe = load_recipe(str(tmp_path / "recipe.yaml"))
    runs()

    report, commands, checks = runs()
    assert statuses(report) == ["a: unchanged ok", "b: unchanged ok", "c: unchanged ok"]
    # preflight checks measure the target (memory, disk): no step's check runs beside them
    assert checks[0] == "preflight" and sorted(checks[1:]) == ["a", "b", "c"]
    assert "checks.log; test -e" not in commands[0] and "checks.log; test -e" in commands[1]


def test_a_target_unlike_last_time_is_planned_again_with_what_it_is(runs: Runs) -> None:
    runs()
    known = KnownTargets(runs.known_file)
    stale = dict(local_info(), pretty="Some Other OS 1.0", kernel="0.0.0-old")
    known.remember("@local", stale)
    known.save()

    report, commands, checks = runs()
    assert statuses(report) == ["a: unchanged ok", "b: unchanged ok", "c: unchanged ok"]
    assert (report.targets[0].platform or "").startswith(local_info()["pretty"])
    assert len(commands) == 2  # read ahead with the stale info (thrown away), then again
    assert sorted(checks) == ["a", "a", "b", "b", "c", "c"]  # read ahead twice
    assert KnownTargets(runs.known_file).get("@local") == local_info()


def test_a_remembered_platform_never_decides_a_refusal(runs: Runs, tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(
        "name: elsewhere\nsummary: for another platform\n"
        "platforms:\n  - {distro: nosuchos}\nsteps:\n"
        "  - name: x\n    shell: {run: 'true'}\n    verify:\n      - command: {run: 'true'}\n"
    )
    known = KnownTargets(runs.known_file)
    known.remember("@local", dict(local_info(), distro="nosuchos"))  # as if it were
    known.save()
    runs.recipe = load_recipe(str(tmp_path / "other.yaml"))

    report, _, _ = runs()
    target = report.targets[0]
    assert target.error_exit == 2
    assert "elsewhere does not support" in (target.error or "")
    assert f"({local_info()['distro']} " in (target.error or "")  # the real platform, read now

"""Fewer round trips: facts read in one batch, checks of unchanged steps held and run together.

The fact cache runs real commands on this machine through pyinfra's @local
connector (read-only: it reads files in a temporary directory). The held checks
are driven by a stand-in engine that records what would run where, so the order
of checks and changes can be asserted without changing anything.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pyinfra.api import Config, FactBase, Inventory, State
from pyinfra.api.exceptions import PyinfraError
from pyinfra.context import ctx_host, ctx_state
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.server import Which

from envsetup import ops
from envsetup.catalog import load_recipe
from envsetup.engine import ActionOutcome
from envsetup.engine.core import HELD
from envsetup.engine.facts import FactCache
from envsetup.preparation import prepare
from envsetup.probes import batch_script, split_batch
from envsetup.report import StepReport
from envsetup.runner import Silent
from envsetup.stepping import HeldChecks, run_step


class Failing(FactBase[str]):
    """A fact whose command fails: a batch must leave it to pyinfra."""

    def command(self) -> str:
        return "echo partial; exit 3"

    def process(self, output: list[str]) -> str:
        return "|".join(output)


@pytest.fixture()
def local_host() -> Any:
    state = State(Inventory((["@local"], {})), Config())
    host = next(iter(state.inventory))
    host.connect(raise_exceptions=True)
    commands: list[str] = []
    run = host.connector.run_shell_command

    def counted(command: Any, *args: Any, **kwargs: Any) -> Any:
        commands.append(str(command))
        return run(command, *args, **kwargs)

    host.connector.run_shell_command = counted
    with ctx_state.use(state), ctx_host.use(host):
        yield state, host, commands


def test_facts_are_read_in_one_command_and_match_pyinfra(local_host: Any, tmp_path: Path) -> None:
    state, host, commands = local_host
    text = tmp_path / "text"
    text.write_bytes(b"a=1\n\nno newline at the end")
    lonely = tmp_path / "lonely"
    lonely.write_text("\n")  # one empty line: pyinfra reads it as [""]
    reads = [
        (ops.RawFile, {"path": str(text)}),
        (ops.RawFile, {"path": str(tmp_path / "absent")}),
        (ops.PathExists, {"path": str(lonely)}),
        (ops.CommandSucceeds, {"command": "test -s " + str(lonely)}),
        (Which, {"command": "sh"}),
    ]
    expected = [host.get_fact(cls, **kwargs) for cls, kwargs in reads]
    commands.clear()

    cache = FactCache(state, host)
    cache.prefetch([lambda: [host.get_fact(cls, **kwargs) for cls, kwargs in reads]])
    assert len(commands) == 1  # every fact in one round trip
    assert [host.get_fact(cls, **kwargs) for cls, kwargs in reads] == expected
    assert len(commands) == 1  # and read from there afterwards

    cache.forget()
    host.get_fact(ops.PathExists, path=str(lonely))
    assert len(commands) == 2  # forgotten: read again, by pyinfra


def test_other_commands_ride_along_with_the_first_batch(local_host: Any, tmp_path: Path) -> None:
    state, host, commands = local_host
    (tmp_path / "f").write_text("x\n")
    expected = host.get_fact(ops.RawFile, path=str(tmp_path / "f"))
    commands.clear()

    cache = FactCache(state, host)
    extra = ["echo one", "echo two >&2; exit 3", "true"]
    results = cache.prefetch(
        [lambda: [host.get_fact(ops.RawFile, path=str(tmp_path / "f"))]], extra
    )
    assert len(commands) == 1  # the fact and the three commands
    assert results == [(0, ["one"]), (3, ["two"]), (0, [])]  # stderr too, for checks
    assert host.get_fact(ops.RawFile, path=str(tmp_path / "f")) == expected
    assert len(commands) == 1


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="needs dpkg (a Debian-based machine)")
def test_named_packages_are_what_pyinfra_lists_for_them(local_host: Any) -> None:
    _, host, _ = local_host
    every = host.get_fact(DebPackages)  # all of `dpkg -l`
    names = ["dpkg", "coreutils", "no-such-package-xyz", *sorted(every)[:5]]
    named = host.get_fact(ops.DebPackagesNamed, names=names)
    assert named == {name: every[name] for name in names if name in every}
    assert "dpkg" in named and "no-such-package-xyz" not in named


def test_a_failed_fact_is_left_to_pyinfra(local_host: Any) -> None:
    state, host, commands = local_host
    cache = FactCache(state, host)
    cache.prefetch([lambda: [host.get_fact(Failing)]])
    assert len(commands) == 1
    with pytest.raises(PyinfraError):  # not answered from the batch: pyinfra ran and failed it
        host.get_fact(Failing)
    assert len(commands) == 2
    assert cache.lines == {}


class Lines(FactBase[dict[str, str]]):
    """A fact with a mutable value: the lines of a file."""

    def command(self, path: str) -> str:
        return f"cat {path}"

    def process(self, output: list[str]) -> dict[str, str]:
        return {"lines": "\n".join(output)}


def test_each_read_gets_a_fresh_value(local_host: Any, tmp_path: Path) -> None:
    state, host, _ = local_host
    (tmp_path / "f").write_text("x\n")
    cache = FactCache(state, host)
    cache.prefetch([lambda: [host.get_fact(Lines, path=str(tmp_path / "f"))]])
    first = host.get_fact(Lines, path=str(tmp_path / "f"))
    first["lines"] = "mutated by an operation"
    assert host.get_fact(Lines, path=str(tmp_path / "f"))["lines"] != first["lines"]


def test_facts_asked_for_after_the_first_answers_are_read_in_a_second_batch(
    local_host: Any, tmp_path: Path
) -> None:
    state, host, commands = local_host
    (tmp_path / "next").write_text(str(tmp_path / "last"))
    (tmp_path / "last").write_text("end\n")

    def chain() -> list[Any]:
        pointer = host.get_fact(ops.RawFile, path=str(tmp_path / "next"))
        target = ops.decode(pointer) if pointer else None
        return [host.get_fact(ops.RawFile, path=target)] if target else []

    cache = FactCache(state, host)
    cache.prefetch([chain])
    assert len(commands) == 2
    commands.clear()
    assert chain()[0].data == b"end\n"
    assert commands == []


def test_parallel_batch_keeps_order_status_and_output(tmp_path: Path) -> None:
    import subprocess

    commands = [
        "sleep 0.3; echo slow",
        "echo fast; exit 4",
        "echo err >&2",
        "printf ''",
        "cd / && exit 0",  # a probe's exit and cd are its own
        "pwd",
    ]
    no_mktemp = "mktemp() { return 1; }\n"  # where no temporary directory can be made
    for prefix, parallel in (("", True), (no_mktemp, True), ("", False)):
        script = prefix + batch_script(commands, "@@M@@", parallel=parallel)
        out = subprocess.run(
            ["sh", "-c", script], capture_output=True, text=True, cwd=tmp_path
        ).stdout
        assert split_batch(out, "@@M@@") == {
            0: (0, "slow"),
            1: (4, "fast"),
            2: (0, "err"),
            3: (0, ""),
            4: (0, ""),
            5: (0, str(tmp_path)),
        }


# -- held checks -----------------------------------------------------------------------

RECIPE = """\
name: held
summary: two guarded shell steps, each with one check
platforms:
  - {distro: debian, version: ">=10"}
steps:
  - name: first
    shell: {run: "make first", creates: /first}
    verify:
      - command: {run: "check first"}
  - name: second
    shell: {run: "make second", creates: /second}
    verify:
      - command: {run: "check second"}
  - name: third
    shell: {run: "make third", creates: /third}
    verify:
      - command: {run: "check third"}
"""


class StandInEngine:
    """Records the batches of checks and the changes, in order; nothing runs."""

    def __init__(self, changes: set[str], failing: set[str]) -> None:
        self.changes, self.failing = changes, failing
        self.events: list[str] = []

    def run_action(self, conn: Any, action: Any, dry: bool, progress: Any = None,
                   before_change: Any = None) -> ActionOutcome:  # fmt: skip
        run = action.kwargs["run"]
        if run not in self.changes:
            return ActionOutcome(False)
        if before_change is not None and not before_change():
            return HELD
        self.events.append(run)
        return ActionOutcome(True)

    def run_probes(self, conn: Any, commands: list[str]) -> list[tuple[int, str]]:
        if commands:
            self.events.append(" + ".join(commands))
        return [(1 if c in self.failing else 0, "") for c in commands]


class Conn:
    name = "target"


def apply(tmp_path: Path, changes: set[str], failing: set[str]) -> tuple[list[str], list[str]]:
    (tmp_path / "recipe.yaml").write_text(RECIPE)
    recipe = load_recipe(str(tmp_path / "recipe.yaml"))
    target = {"distro": "debian", "version": "12", "arch": "amd64", "user": "root"}
    engine = StandInEngine(changes, failing)
    held = HeldChecks(engine, Conn(), Silent(), "apply")  # type: ignore[arg-type]
    reports = []
    for prepared in prepare(recipe, "apply", {}, target):
        report = StepReport(prepared.step.name, prepared.description)
        reports.append(report)
        if run_step(held, "held", prepared, report):
            break
    held.flush()
    return engine.events, [f"{r.name}: {r.status} {r.verify}" for r in reports]


def test_converged_steps_are_checked_in_one_batch(tmp_path: Path) -> None:
    events, steps = apply(tmp_path, changes=set(), failing=set())
    assert events == ["check first + check second + check third"]
    assert steps == ["first: unchanged ok", "second: unchanged ok", "third: unchanged ok"]


def test_held_checks_run_before_the_next_change(tmp_path: Path) -> None:
    events, steps = apply(tmp_path, changes={"make third"}, failing=set())
    assert events == ["check first + check second", "make third", "check third"]
    assert steps == ["first: unchanged ok", "second: unchanged ok", "third: changed ok"]


def test_a_held_failure_stops_the_run_before_anything_changes(tmp_path: Path) -> None:
    events, steps = apply(tmp_path, changes={"make third"}, failing={"check first"})
    assert events == ["check first + check second"]  # "make third" never ran
    assert steps == ["first: unchanged failed", "second: not run None", "third: not run None"]

"""``envsetup plan | apply | verify | remove``: build a request, run it, return the report."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from envsetup.catalog import load_recipe, load_requested
from envsetup.commands.ahead import Ahead
from envsetup.errors import UsageError
from envsetup.known_targets import KnownTargets
from envsetup.report import RunReport
from envsetup.runner import Request, run, run_commands
from envsetup.stepping import Listener, Mode
from envsetup.targets import TargetSpec, parse_target
from envsetup.variables import parse_assignments, resolve_overrides


def build_request(
    mode: Mode,
    recipes: Sequence[str],
    targets: Sequence[str] = (),
    inventory: str | None = None,
    assignments: Sequence[str] = (),
    sudo_password: str | None = None,
    ask_password: Callable[[str], str | None] | None = None,
    verbose: bool = False,
    assume_wsl: bool = False,
    purge: bool = False,
    ahead: Ahead | None = None,
) -> Request:
    """Load and validate everything before anything runs on a target.

    ``ahead``: the engine already connecting to the one target (see ``commands.ahead``).
    """
    if not recipes:
        raise UsageError("name at least one recipe", fix="see `envsetup list`")
    if inventory and targets:
        raise UsageError("use either -t TARGET or -i INVENTORY, not both")
    if inventory and not os.path.isfile(inventory):
        raise UsageError(f"inventory file {inventory} does not exist")
    if mode == "remove" and len(recipes) != 1:
        raise UsageError("remove takes exactly one recipe")
    if mode == "remove":
        loaded = [load_recipe(recipes[0])]
        wanted = frozenset({loaded[0].name})
    else:
        loaded, wanted = load_requested(list(recipes))
    overrides = resolve_overrides(loaded, parse_assignments(assignments))
    if purge:
        if "purge" not in loaded[0].vars:
            raise UsageError(f"{loaded[0].name} keeps no data that --purge would delete")
        overrides[loaded[0].name]["purge"] = True
    specs = [parse_target(t) for t in targets] or ([] if inventory else [TargetSpec("@local")])
    return Request(
        loaded,
        overrides,
        specs,
        inventory,
        sudo_password,
        ask_password,
        verbose,
        assume_wsl,
        wanted=wanted,
        known=ahead.known if ahead else KnownTargets(),
        opened=ahead.engine if ahead else None,
        read_only=mode == "verify",
    )


def execute(mode: Mode, request: Request, listener: Listener | None = None) -> RunReport:
    return run(mode, request, listener)


def restart(request: Request, report: RunReport) -> dict[str, list[tuple[int, str]]]:
    """Run the restart commands that pending checks wait for (``apply --restart``)."""
    commands = {t.target: [r["run"] for r in t.restarts] for t in report.targets if t.restarts}
    return run_commands(request, commands) if commands else {}

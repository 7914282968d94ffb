"""Connecting to a run's one remembered target while envsetup loads the recipes.

Importing pyinfra is most of a run's start-up, and an SSH handshake mostly waits on
the target. Where a run's one target is an SSH target reached as root before (its
info is remembered, so the handshake is all that connecting does), the connection is
started as soon as pyinfra is imported, and is made while the rest of envsetup is
imported and the recipes are loaded and checked. Nothing runs on the target before
they are: a bad recipe or variable still ends the run with the target untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from envsetup.engine import Engine
from envsetup.errors import EnvsetupError
from envsetup.known_targets import KnownTargets
from envsetup.targets import parse_target


@dataclass(frozen=True)
class Ahead:
    """An engine for the run's one target, connecting already; what is known of targets."""

    engine: Engine
    known: KnownTargets


def connect_ahead(
    targets: Sequence[str],
    inventory: str | None,
    sudo_password: str | None,
    ask_password: Callable[[str], str | None] | None,
    verbose: bool,
    read_only: bool = False,
) -> Ahead | None:
    """Start connecting where the run's one target is remembered as root; else None."""
    if inventory or len(targets) != 1:
        return None
    try:
        spec = parse_target(targets[0])
    except EnvsetupError:
        return None  # reported where the request is built
    known = KnownTargets()
    engine = Engine([spec], None, sudo_password, ask_password, verbose, known.get, read_only)
    if engine.connect_ahead():
        return Ahead(engine, known)
    engine.close()
    return None

"""Reading the facts of many pyinfra operations in one round trip instead of one each.

pyinfra runs one command per fact an operation reads. Before a run the engine asks
the operations ahead which facts they read (their generators run first on default
values, then on the values read so far), reads all of them in one shell script,
and answers the operations' own reads from there. A fact is kept as the lines its
command printed, and each read processes them again, so every read gets a fresh
value, as from pyinfra. Whatever does not fit a batch (a fact that failed, has a
precondition, its own shell or stdin) is left to pyinfra to read as usual. The
engine forgets everything read once a step changed something on the target.

The first batch can carry other read-only commands (the engine's read-ahead: the
target's info, preflight checks, checks); they run at the same time as the facts.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from inspect import getcallargs
from typing import Any

from pyinfra.api import FactBase, ShortFactBase, State, StringCommand
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS, pop_global_arguments
from pyinfra.api.host import Host

from envsetup.probes import batch_script, split_lines, stdout_only

# what pyinfra prints for a fact whose ``requires_command`` is missing on the target
MISSING_COMMAND = "##PYINFRA_NOCMD##"
ROUNDS = 2  # batches at most: what the defaults asked for, then what the answers led to
CHECK_TIMEOUT = 900  # seconds: checks in a batch may run long (a model's smoke test)


@dataclass(frozen=True)
class FactRead:
    """One fact read: the fact, its arguments, and how its command runs (sudo, user, ...)."""

    cls: type[FactBase[Any]]
    kwargs: dict[str, Any]
    executor: dict[str, Any]

    @property
    def how(self) -> str:
        """How its command runs, as a key: reads that agree on it share a batch."""
        return repr(sorted(self.executor.items()))

    @property
    def key(self) -> str:
        return repr((self.cls, sorted(self.kwargs.items()), self.how))

    def value(self, lines: list[str]) -> Any:
        """The fact from what its command printed, as pyinfra makes it."""
        fact = self.cls()
        return fact.process(lines) if lines else fact.default()

    def command(self) -> str:
        fact = self.cls()
        command = _text(_call(fact.command, self.kwargs))
        requires = _call(fact.requires_command, self.kwargs)
        if requires:
            return (
                f"if command -v {_text(requires)} >/dev/null 2>&1; then ( {command}\n); "
                f"else echo '{MISSING_COMMAND}'; fi"
            )
        return command


class FactCache:
    """Facts of one host read in batches; installed as that host's ``get_fact``."""

    def __init__(self, state: State, host: Host) -> None:
        self.state = state
        self.host = host
        self.lines: dict[str, list[str]] = {}
        self.recording: dict[str, FactRead] | None = None
        self.defaults: dict[str, Any] | None = None  # global arguments outside operations
        self.pyinfra_get_fact = host.get_fact
        # an instance attribute: every ``host.get_fact`` of an operation comes here
        host.get_fact = self.get

    def get(self, cls: Any, *args: Any, **kwargs: Any) -> Any:
        if issubclass(cls, ShortFactBase):
            return self.pyinfra_get_fact(cls, *args, **kwargs)
        read = self._read(cls, args, kwargs)
        lines = self.lines.get(read.key)
        if lines is not None:
            return read.value(lines)
        if self.recording is not None:
            self.recording[read.key] = read
            return cls().default()
        return self.pyinfra_get_fact(cls, *args, **kwargs)

    def forget(self) -> None:
        self.lines.clear()

    def prefetch(
        self,
        generators: Iterable[Callable[[], Iterable[Any]]],
        extra: Sequence[str] = (),
        privileges: dict[str, Any] | None = None,
    ) -> list[tuple[int, list[str]] | None]:
        """Read in batches every fact the given operation generators ask for.

        ``extra`` commands run in the first batch, at the same time as the facts, with
        ``privileges`` (as ``run_shell_command`` takes them); their exit status and
        output lines are returned in order (None: the batch did not run).
        """
        calls = list(generators)
        tried: set[str] = set()
        extra_results: list[tuple[int, list[str]] | None] = [None] * len(extra)
        for round_number in range(ROUNDS):
            new = [read for key, read in self._record(calls).items() if key not in tried]
            tried.update(read.key for read in new)
            groups: dict[str, list[FactRead]] = {}
            for read in new:
                if self._batchable(read):
                    groups.setdefault(read.how, []).append(read)
            if round_number == 0 and extra:
                # as a fact read with these privileges runs: the facts read so share it
                executor = self._read(FactBase, (), dict(privileges or {})).executor
                reads = groups.pop(FactRead(FactBase, {}, executor).how, [])
                timed = {**executor, "_timeout": CHECK_TIMEOUT}  # checks may run long
                extra_results = self._read_group(reads, timed, extra)
            elif not new:
                break
            for reads in groups.values():
                self._read_group(reads, reads[0].executor)
        return extra_results

    def _record(self, calls: list[Callable[[], Iterable[Any]]]) -> dict[str, FactRead]:
        """Run the operation generators, noting every fact they read that is not known yet."""
        self.recording = {}
        try:
            for call in calls:
                try:
                    for _command in call():
                        pass
                except Exception:  # noqa: S112 - a default value an operation cannot use
                    continue
            return self.recording
        finally:
            self.recording = None

    def _read(
        self, cls: type[FactBase[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> FactRead:
        """The fact's arguments and its command's execution arguments, split as pyinfra does."""
        global_kwargs = self._global_arguments(kwargs)
        fact_kwargs = {key: value for key, value in kwargs.items() if key not in global_kwargs}
        if args or fact_kwargs:
            fact_kwargs = getcallargs(cls().command, *args, **fact_kwargs)
            fact_kwargs.pop("self", None)
        executor = {k: v for k, v in global_kwargs.items() if k in CONNECTOR_ARGUMENT_KEYS}
        return FactRead(cls, fact_kwargs, executor)

    def _global_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The global arguments a fact read runs with, as pyinfra's ``get_fact`` finds them.

        pyinfra works them out anew on every read (a costly ``get_type_hints`` each time);
        they only differ from the running operation's (or, outside one, this host's
        defaults) when the read passes some itself, as the engine does with sudo.
        """
        current = self.host.current_op_global_arguments
        if not any(key.startswith("_") for key in kwargs):
            if current is not None:
                return dict(current)
            if self.defaults is None:
                self.defaults, _ = pop_global_arguments(self.state, self.host, {})
            return dict(self.defaults)
        context = dict(current or {})
        context.update(kwargs)
        global_kwargs, _ = pop_global_arguments(self.state, self.host, context)
        return dict(global_kwargs)

    def _batchable(self, read: FactRead) -> bool:
        fact = read.cls()
        if fact.shell_executable or read.executor.get("_stdin") or read.executor.get("_get_pty"):
            return False
        return not fact.check_preconditions(self.state, self.host)

    def _read_group(
        self, reads: list[FactRead], executor: dict[str, Any], extra: Sequence[str] = ()
    ) -> list[tuple[int, list[str]] | None]:
        """Read these facts (and run ``extra``) in one command; the results of ``extra``."""
        marker = f"@@envsetup-fact-{secrets.token_hex(6)}@@"
        # facts print on stdout only: their stderr is dropped, as pyinfra ignores it
        commands = [stdout_only(read.command()) for read in reads] + list(extra)
        script = batch_script(commands, marker, parallel=bool(extra))
        results: dict[int, tuple[int, list[str]]] = {}
        try:
            ok, output = self.host.run_shell_command(
                StringCommand("sh", "-c", shlex.quote(script)), **executor
            )
            if ok:
                results = split_lines(output.stdout_lines, marker)
        except Exception:  # noqa: BLE001, S110 - pyinfra reads each fact itself then, and reports
            pass
        for index, read in enumerate(reads):
            status, lines = results.get(index, (255, []))
            if status != 0 or lines == [MISSING_COMMAND]:
                continue  # pyinfra reads it again, and reports the failure its own way
            try:
                read.value(lines)  # a fact pyinfra could not process is left to pyinfra
            except Exception:  # noqa: BLE001, S112 - likewise
                continue
            self.lines[read.key] = lines
        return [results.get(len(reads) + index) for index in range(len(extra))]


def _call(command: Any, kwargs: dict[str, Any]) -> Any:
    return command(**kwargs) if callable(command) else command


def _text(command: Any) -> str:
    return command.get_raw_value() if isinstance(command, StringCommand) else str(command)

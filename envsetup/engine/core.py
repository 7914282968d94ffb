"""The engine: inventory, state, connecting, running actions and probes through pyinfra."""

from __future__ import annotations

import contextlib
import difflib
import importlib
import logging
import posixpath
import secrets
import shlex
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import gevent
from gevent import monkey
from pyinfra import logger as pyinfra_logger
from pyinfra.api import Config, FactBase, Inventory, State, StringCommand
from pyinfra.api.arguments import pop_global_arguments
from pyinfra.api.exceptions import ConnectError, PyinfraError
from pyinfra.api.host import Host
from pyinfra.api.operations import run_host_op
from pyinfra.connectors.ssh import SSHConnector
from pyinfra.context import ctx_host, ctx_state

from envsetup import ops
from envsetup.editors import EditRefused
from envsetup.engine import sudo
from envsetup.engine.facts import CHECK_TIMEOUT, FactCache
from envsetup.engine.failures import (
    HOST_KEYS,
    explain_connect_error,
    explain_failure,
    quiet_libraries,
)
from envsetup.engine.lines import LINES, streamed
from envsetup.errors import TargetError
from envsetup.fetch import FetchError, checksum_from_list, discard, fetch, obtain, read_small
from envsetup.kinds import Action, Fetch, FileEdit, Op, Stream, Unpack
from envsetup.platforms import TARGET_INFO_COMMAND, parse_target_info
from envsetup.probes import batch_script, gate, needs_root, split_batch, stdout_only
from envsetup.target_files import FileRefused
from envsetup.targets import TargetSpec

T = TypeVar("T")


@dataclass
class Connection:
    """A connected target: its pyinfra host and the privilege arguments for every command."""

    name: str
    host: Host
    facts: FactCache
    info: dict[str, str] = field(default_factory=dict)
    privileges: dict[str, Any] = field(default_factory=dict)
    # False while ``info`` is what the target was last time, not yet read this run
    confirmed: bool = True
    # probe results read ahead (see ``Engine.read_ahead``), by command
    answers: dict[str, tuple[int, str]] = field(default_factory=dict)
    # read-only runs: how probes that need root run (None: not asked yet; {}: they cannot)
    root: dict[str, Any] | None = None

    def forget(self) -> None:
        """Drop what was read ahead: the target changed, or was not what it seemed."""
        self.facts.forget()
        self.answers.clear()


@dataclass(frozen=True)
class ActionOutcome:
    changed: bool
    diff: str | None = None
    error: str | None = None
    held: bool = False  # it would change something, but ``before_change`` said no


HELD = ActionOutcome(False, held=True)


def quiet_pyinfra(verbose: bool) -> None:
    """pyinfra logs through the 'pyinfra' logger; envsetup prints its own report."""
    pyinfra_logger.propagate = False
    pyinfra_logger.handlers[:] = []
    if verbose:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("    pyinfra: %(message)s"))
        pyinfra_logger.addHandler(handler)
        pyinfra_logger.setLevel(logging.INFO)
    else:
        pyinfra_logger.addHandler(HOST_KEYS)  # only notes accepted host keys
        pyinfra_logger.setLevel(logging.WARNING)
    quiet_libraries(verbose)
    HOST_KEYS.hosts.clear()  # this run's


class _State(State):
    """envsetup reports each host's failures itself: a failed fact or operation must not
    drop the host from pyinfra's active hosts, nor end the run for the others."""

    def fail_hosts(self, hosts_to_fail: Any, activated_count: Any = None) -> None:
        self.failed_hosts.update(hosts_to_fail)


def disconnect(host: Host) -> None:
    with contextlib.suppress(Exception):  # best effort on the way out
        host.disconnect()
        # pyinfra's SSH disconnect leaves the session open until exit; end it now
        client = getattr(host.connector, "client", None)
        if client is not None:
            client.close()


class _Ahead(threading.Thread):
    """A connection being made while the caller goes on (see ``Engine.connect_ahead``)."""

    def __init__(self, connect: Callable[[], Connection]) -> None:
        super().__init__(name="envsetup-connect-ahead", daemon=True)
        self.connect = connect
        self.outcome: Connection | Exception | None = None
        self.lock = threading.Lock()
        self.done = self.abandoned = False

    def run(self) -> None:
        try:
            self.outcome = self.connect()
        except Exception as exc:  # reported by ``Engine.connect``, as for other hosts
            self.outcome = exc
        with self.lock:
            self.done = True
            if self.abandoned and isinstance(self.outcome, Connection):
                disconnect(self.outcome.host)

    def finish_or_abandon(self) -> bool:
        """True where the connection is made (or failed); otherwise it is left to close
        itself, so that an early exit never waits for a slow or unreachable target."""
        with self.lock:
            self.abandoned = not self.done
            return self.done


class Engine:
    """Connects to targets and runs actions and probes on them through pyinfra."""

    def __init__(
        self,
        targets: list[TargetSpec],
        inventory_file: str | None = None,
        sudo_password: str | None = None,
        ask_password: Callable[[str], str | None] | None = None,
        verbose: bool = False,
        known_info: Callable[[str], dict[str, str] | None] | None = None,
        read_only: bool = False,
    ) -> None:
        quiet_pyinfra(verbose)
        # verify and doctor: a non-root login runs every probe as itself, and only those
        # that say they need root (``probes.root_gate``) through sudo, where it can
        self.read_only = read_only
        self.sudo_password = sudo_password
        self.ask_password = ask_password
        # a target's info from an earlier run: confirmed in the first round trip instead
        # of being read in one of its own (see ``read_ahead``)
        self.known_info = known_info or (lambda _name: None)
        if inventory_file:
            from pyinfra_cli.inventory import make_inventory_from_files

            try:
                with ctx_state.use(State()):  # pyinfra's loader records the file on a state
                    inventory = make_inventory_from_files(inventory_file)
            except Exception as exc:  # pyinfra raises a variety of errors for bad files
                raise TargetError(
                    f"cannot read inventory {inventory_file}: {exc}",
                    fix="an inventory is a pyinfra inventory file (e.g. hosts = ['a', 'b'])",
                ) from None
        else:
            inventory = Inventory(([(t.name, t.data) for t in targets], {}))
        self.state = _State(inventory, Config(CONNECT_TIMEOUT=10, FAIL_PERCENT=None))
        self._ahead: _Ahead | None = None
        # the targets whose sudo takes a password from a private file (see ``_elevate``)
        self._sudo: dict[str, sudo.PasswordSudo] = {}
        # pyinfra's state context is one global, not per greenlet: set it for the whole
        # run, so that hosts running concurrently never see it reset by another host's
        # ``ctx_state.use`` ending (ctx_host is per greenlet already)
        ctx_state.set(self.state)

    # -- connecting -------------------------------------------------------

    def connect_ahead(self) -> bool:
        """Start connecting to a lone target remembered as root, in a thread of its own.

        The SSH handshake mostly waits on the target; meanwhile the caller can go on
        (import the rest of envsetup, load the recipes). ``connect`` takes the result.
        Nothing runs on the target: its info is remembered, and root needs no sudo.
        False (nothing started) for several targets, a target not remembered as root,
        where gevent patched threads (such a thread would wait for the caller), and for
        other connectors than SSH (``@local`` has nothing to wait for, and ``@chroot``
        starts processes through gevent, which only the main thread may do).
        """
        hosts = list(self.state.inventory)
        if (
            len(hosts) != 1
            or not isinstance(hosts[0].connector, SSHConnector)
            or monkey.is_module_patched("threading")
        ):
            return False
        if self._known_root(hosts[0].name) is None:
            return False
        self._ahead = _Ahead(lambda: self._connect_one(hosts[0]))
        self._ahead.start()
        return True

    def connect(self) -> tuple[list[Connection], dict[str, str]]:
        """Connect to every host in parallel; return the connections and per-host errors."""
        hosts = list(self.state.inventory)
        if self._ahead is not None:
            self._ahead.join()
            results = [self._ahead.outcome]
        else:
            results = self.each(hosts, self._connect_one)
        connections: list[Connection] = []
        errors: dict[str, str] = {}
        for host, result in zip(hosts, results):
            if isinstance(result, Connection):
                connections.append(result)
            else:
                errors[host.name] = str(result) or f"{type(result).__name__} while connecting"
        return connections, errors

    def _connect_one(self, host: Host) -> Connection:
        try:
            host.connect(show_errors=False, raise_exceptions=True)
        except ConnectError as exc:
            raise TargetError(explain_connect_error(host.name, str(exc), host.data)) from None
        except Exception as exc:  # paramiko and OS errors
            raise TargetError(explain_connect_error(host.name, str(exc), host.data)) from None
        self.state.activate_host(host)
        conn = Connection(host.name, host, FactCache(self.state, host))
        known = self._known_root(host.name)
        if known is not None:  # root needs no sudo: nothing else to learn
            conn.info, conn.confirmed = dict(known), False
        else:
            self._learn(conn, self._read_info(conn))
        return conn

    def _known_root(self, name: str) -> dict[str, str] | None:
        """The target's info from an earlier run, where it logged in as root."""
        known = self.known_info(name)
        return known if known and known.get("uid") == "0" else None

    def _fact(self, conn: Connection, cls: type[FactBase[Any]], **kwargs: Any) -> Any:
        """One fact of this target, read as pyinfra reads it (answered from what was read
        ahead where it was)."""
        with ctx_state.use(self.state), ctx_host.use(conn.host):
            return conn.host.get_fact(cls, **kwargs)

    def _read_info(self, conn: Connection) -> dict[str, str]:
        info: dict[str, str] = self._fact(conn, ops.TargetInfo)
        return info

    def _learn(self, conn: Connection, info: dict[str, str]) -> None:
        """Take the target's info as read this run, and elevate where the login is not root."""
        conn.info, conn.confirmed, conn.privileges = info, True, {}
        if not info.get("uid"):
            raise TargetError(f"{conn.name}: connected, but could not run commands there")
        if info["uid"] != "0" and not self.read_only:
            conn.privileges = self._elevate(conn)

    def confirm(self, conn: Connection, info: dict[str, str] | None = None) -> bool:
        """Take the target's info (as read already, or read now) where it is only known
        from last time; True: it was the same. Otherwise what was read is dropped."""
        if conn.confirmed:
            return True
        known = conn.info
        self._learn(conn, info if info and info.get("uid") else self._read_info(conn))
        if conn.info == known:
            return True
        conn.forget()
        return False

    def _elevate(self, conn: Connection, required: bool = True) -> dict[str, Any]:
        """Use sudo for a non-root login, asking for a password once if sudo needs one.

        With a password, sudo gets it from a private file on the target, never from a
        command line or an environment (see ``envsetup.engine.sudo``). Where there is
        no password and it is not ``required``: {} (nothing runs with root's rights).
        """
        # exit 0 either way: pyinfra would otherwise see sudo's prompt line and ask itself
        probe = StringCommand("sudo -n true 2>/dev/null && echo yes || echo no")
        _, output = conn.host.run_shell_command(probe)
        if output.stdout_lines[-1:] == ["yes"]:
            return {"_sudo": True}
        password = self.sudo_password
        if password is None and self.ask_password is not None:
            password = self.ask_password(f"sudo password for {self.login_name(conn)}: ")
            self.sudo_password = password
        if password is None and not required:
            return {}
        if password is None:
            raise TargetError(
                f"{conn.name}: {conn.info['user']} is not root and sudo needs a password",
                fix="run from a terminal to be asked, or pass --sudo-password-stdin",
            )
        try:
            wrapper = sudo.install(conn.host, password)
        except sudo.SudoSetupError as exc:
            raise TargetError(
                f"{conn.name}: could not make a private directory for the sudo password: {exc}",
                fix="check that mktemp works there and the temporary directory is writable",
            ) from None
        self._sudo[conn.name] = wrapper
        if not wrapper.accepted():
            raise TargetError(
                f"{conn.name}: sudo refused the password for {conn.info['user']}",
                fix="check the password, and that the user may use sudo",
            )
        return {"_sudo": True}

    @staticmethod
    def login_name(conn: Connection) -> str:
        """Who is logged in where, as the user wrote the target: ``dev@host``, ``dev on @local``."""
        user = conn.info.get("user", "?")
        if conn.name.startswith("@"):
            return f"{user} on {conn.name}"
        port = conn.host.data.get("ssh_port")
        return f"{user}@{conn.name}" + (f":{port}" if port else "")

    def close(self) -> None:
        # a connection still being made ahead closes itself once made
        if self._ahead is None or self._ahead.finish_or_abandon():
            for wrapper in self._sudo.values():
                with contextlib.suppress(Exception):  # best effort on the way out
                    wrapper.remove()
            self._sudo.clear()
            for host in list(self.state.activated_hosts):
                disconnect(host)
        if ctx_state.get() is self.state:
            ctx_state.reset()

    # -- running ----------------------------------------------------------

    def each(self, items: list[T], fn: Callable[[T], Any]) -> list[Any]:
        """Run ``fn`` for every item concurrently; an exception is returned as the result."""

        def guarded(item: T) -> Any:
            try:
                return fn(item)
            except Exception as exc:  # reported per host, never taking the others down
                return exc

        greenlets = [self.state.pool.spawn(guarded, item) for item in items]
        gevent.joinall(greenlets)
        return [g.value for g in greenlets]

    def read_ahead(
        self, conn: Connection, actions: list[Action], probes: list[tuple[str, str | None]]
    ) -> bool:
        """Read what the coming steps will ask, in one round trip before any of them runs.

        That is the facts these actions read (see ``facts``) and the results of these
        read-only probes, each ``(command, condition)``: with a condition, the command
        runs only where that shell condition holds (a probe not run is left out, to be
        run when asked for). Later ``run_probes`` are answered from here until the
        target changes. Where the target's info is only known from last time, it is
        read in the same round trip; False when it turned out different (then nothing
        read is kept, and ``conn.info`` is the target's now).
        """
        skipped = f"@@envsetup-not-run-{secrets.token_hex(6)}@@"
        probes = list(dict.fromkeys(probes))  # two steps may check the same thing
        commands = [
            command if condition is None else gate(command, condition, skipped)
            for command, condition in probes
        ]
        if not conn.confirmed:
            commands.append(stdout_only(TARGET_INFO_COMMAND))
        with ctx_state.use(self.state), ctx_host.use(conn.host):
            results = conn.facts.prefetch(
                (self._fact_reads(conn, action) for action in actions), commands, conn.privileges
            )
        if not conn.confirmed:
            read = results.pop()  # the info, last; None where the batch did not run
            info = parse_target_info(read[1]) if read and read[0] == 0 else None
            if not self.confirm(conn, info):
                return False
        for (command, _), result in zip(probes, results):
            if result is not None and result[1] != [skipped]:
                conn.answers[command] = (result[0], "\n".join(result[1]))
        return True

    def _fact_reads(self, conn: Connection, action: Action) -> Callable[[], Iterable[Any]]:
        """A call that reads what ``action`` reads first, yielding its would-be commands."""
        host, privileges = conn.host, conn.privileges
        if isinstance(action, Fetch):
            return lambda: [self._installed_sha256(conn, action)]
        if isinstance(action, Unpack):
            return lambda: [self._unpacked(conn, action)]
        if isinstance(action, Stream):
            return lambda: []
        op_func, kwargs = _resolve(action)

        def generate() -> Iterator[Any]:
            options = {**kwargs, **privileges}
            # as pyinfra does when it runs the operation: its facts run with these arguments
            global_arguments, _ = pop_global_arguments(self.state, host, options)
            host.current_op_global_arguments = global_arguments
            try:
                yield from op_func._inner(**options)
            finally:
                host.current_op_global_arguments = None

        return generate

    def run_action(
        self,
        conn: Connection,
        action: Action,
        dry: bool,
        progress: Callable[[str], None] | None = None,
        before_change: Callable[[], bool] | None = None,
    ) -> ActionOutcome:
        """Run (or, when ``dry``, only evaluate) one step's action.

        ``before_change`` is asked right before the target is changed; when it says
        False, nothing is changed and the outcome is ``held``.
        """
        go_ahead = before_change or (lambda: True)
        if isinstance(action, Fetch):
            outcome = self._run_fetch(conn, action, dry, go_ahead)
        elif isinstance(action, Unpack):
            outcome = self._run_unpack(conn, action, dry, go_ahead)
        elif isinstance(action, Stream):
            outcome = self._run_stream(conn, action, dry, progress or (lambda _t: None), go_ahead)
        else:
            outcome = self._run_op(conn, action, dry, go_ahead, progress)
        if not dry and (outcome.changed or outcome.error):
            conn.forget()  # what was read before may be out of date now
        return outcome

    def _run_unpack(
        self, conn: Connection, action: Unpack, dry: bool, go_ahead: Callable[[], bool]
    ) -> ActionOutcome:
        """Check the archive here first, upload it, check it again there, then unpack it."""
        stamp = self._unpacked(conn, action)
        if stamp is not None and stamp.split(" ")[0] == action.source:
            return ActionOutcome(False)
        proof = action.checksums or f"sha256 {action.sha256}"
        if dry:
            replaced = ", ".join(action.replace) or "nothing"
            return ActionOutcome(
                True,
                diff=(
                    f"fetch {action.source}\ncheck its SHA-256 against {proof} "
                    f"before anything is unpacked\n"
                    "refuse it if a member is a device, FIFO, setuid or setgid file, an "
                    f"absolute or '..' path, a link out of {action.dest}, or outside "
                    f"{', '.join((*action.creates, *action.replace))}\n"
                    f"unpack it into a new private directory in {action.dest}, check it again\n"
                    f"remove {replaced} under {action.dest}\n"
                    f"move it into {action.dest} (never through a symbolic link there)\n"
                ),
            )
        if not go_ahead():
            return HELD
        name = posixpath.basename(action.source)
        try:
            sha256 = action.sha256
            if sha256 is None:
                assert action.checksums is not None
                sha256 = checksum_from_list(read_small(action.checksums), name, action.checksums)
            local, temporary = obtain(action.source, sha256)
        except FetchError as exc:
            return ActionOutcome(False, error=str(exc))
        upload = f"/var/cache/envsetup/{name}"
        try:
            put = {"src": str(local), "dest": upload, "sha256": sha256, "mode": "0600"}
            outcome = self._run_op(conn, Op("envsetup.ops.put_verified", put), False)
        finally:
            if temporary:
                discard(local)
        if outcome.error:
            return outcome
        kwargs = {
            "archive": upload,
            "dest": action.dest,
            "stamp": action.stamp,
            "record": f"{action.source} {sha256}",
            "sha256": sha256,
            "replace": list(action.replace),
            "owned": [*action.creates, *action.replace],
        }
        return self._run_op(conn, Op("envsetup.ops.unpack_archive", kwargs), False)

    def _run_stream(
        self,
        conn: Connection,
        action: Stream,
        dry: bool,
        progress: Callable[[str], None],
        go_ahead: Callable[[], bool],
    ) -> ActionOutcome:
        """Run a long command, telling ``progress`` what its output lines say as they come."""
        if action.unless and self.run_probes(conn, [action.unless])[0][0] == 0:
            return ActionOutcome(False)
        if dry:
            return ActionOutcome(True, diff=f"run on the target: {action.run}\n")
        if not go_ahead():
            return HELD
        reader = action.reader()

        def on_line(line: str) -> None:
            text = reader.feed(line)
            if text:
                progress(text)

        command = StringCommand("sh", "-c", shlex.quote(action.run))
        try:
            with LINES.routed(conn.host, on_line):
                ok, output = conn.host.run_shell_command(
                    command, print_output=True, print_input=False, **conn.privileges
                )
        except Exception as exc:
            return ActionOutcome(False, error=f"{type(exc).__name__}: {exc}")
        failure = reader.error()
        if not ok:
            text = "\n".join(line.line for line in output)
            return ActionOutcome(False, error=failure or explain_failure(text[-1500:]))
        return ActionOutcome(True, error=failure)

    def _run_fetch(
        self, conn: Connection, action: Fetch, dry: bool, go_ahead: Callable[[], bool]
    ) -> ActionOutcome:
        """Download and check on this machine; upload, check again and rename on the target."""
        if self._installed_sha256(conn, action) == action.sha256:
            return ActionOutcome(False)
        if dry:
            return ActionOutcome(
                True,
                diff=(
                    f"download {action.url}\ncheck sha256 {action.sha256} before use\n"
                    f"install at {action.path} (mode {action.mode})\n"
                ),
            )
        if not go_ahead():
            return HELD
        try:
            local = fetch(action.url, action.sha256)
        except FetchError as exc:
            return ActionOutcome(False, error=str(exc))
        try:
            kwargs = {
                "src": str(local),
                "dest": action.path,
                "sha256": action.sha256,
                "mode": action.mode,
            }
            return self._run_op(conn, Op("envsetup.ops.put_verified", kwargs), False)
        finally:
            discard(local)

    def _unpacked(self, conn: Connection, action: Unpack) -> str | None:
        """What the stamp says was unpacked, when every ``creates`` path is there too."""
        paths = [posixpath.join(action.dest, path) for path in action.creates]
        stamp: str | None = self._fact(
            conn, ops.Unpacked, stamp=action.stamp, paths=paths, **conn.privileges
        )
        return stamp

    def _installed_sha256(self, conn: Connection, action: Fetch) -> str | None:
        """The SHA-256 of the file a download step puts in place (None: absent)."""
        current: str | None = self._fact(conn, ops.FileSha256, path=action.path, **conn.privileges)
        return current

    def _run_op(
        self,
        conn: Connection,
        action: Op | FileEdit,
        dry: bool,
        go_ahead: Callable[[], bool] = lambda: True,
        progress: Callable[[str], None] | None = None,
    ) -> ActionOutcome:
        op_func, kwargs = _resolve(action)
        try:
            with ctx_state.use(self.state), ctx_host.use(conn.host):
                meta = op_func(**kwargs, **conn.privileges)
                will_change = bool(meta.will_change)
                if dry:
                    diff = self._diff(conn, action) if will_change else None
                    return ActionOutcome(will_change, diff)
                if not will_change:
                    return ActionOutcome(False)
                if not go_ahead():
                    return HELD
                diff = self._diff(conn, action)  # what the file was, before it changes
                with streamed(conn, action, progress) as reader:
                    ok = run_host_op(self.state, conn.host, meta._hash)
                left = None
                if reader is not None:  # an apt run says what it repaired, or left
                    diff, left = reader.repair_note(), reader.left_behind()
        except (PyinfraError, FileRefused, EditRefused) as exc:
            return ActionOutcome(False, error=str(exc))
        except Exception as exc:  # a fact that failed to parse, an editor that refused
            return ActionOutcome(False, error=f"{type(exc).__name__}: {exc}")
        if not ok:
            output = "\n".join((meta.stderr_lines or meta.stdout_lines)[-15:])
            if not output and meta._commands:  # e.g. a file upload, which prints nothing
                output = f"this failed, with no output: {meta._commands[-1]}"
            if left:
                output += f"\nIt left {left}"
            return ActionOutcome(False, error=explain_failure(output))
        return ActionOutcome(meta.did_change(), diff)

    def _diff(self, conn: Connection, action: Action) -> str | None:
        if not isinstance(action, FileEdit):
            return None
        found = self._fact(conn, ops.RawFile, path=action.path, **conn.privileges)
        old = ops.decode(found)
        new = action.edit(old)
        real = found.real if found.real == action.path else f"{found.real} (via {action.path})"
        lines = difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            fromfile=f"{real} (now)" if old is not None else "/dev/null",
            tofile=f"{real} (after apply)",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def run_probes(
        self, conn: Connection, commands: list[str], parallel: bool = True
    ) -> list[tuple[int, str]]:
        """Run commands in one round trip; return (exit status, output) for each.

        Read-only probes run at the same time; ``parallel=False`` runs them in order.
        Those read ahead (see ``read_ahead``) are answered from there.
        """
        known = [conn.answers.get(command) for command in commands]
        missing = [command for command, answer in zip(commands, known) if answer is None]
        fresh = iter(self._run_batch(conn, missing, parallel, conn.privileges))
        results = [answer if answer is not None else next(fresh) for answer in known]
        refused = [i for i, (_, output) in enumerate(results) if needs_root(output) is not None]
        if refused and conn.info.get("uid") != "0" and not conn.privileges:
            root = self._root_for_probes(conn)
            if root:  # the probes the login could not answer, again with root's rights
                again = self._run_batch(conn, [commands[i] for i in refused], parallel, root)
                for index, result in zip(refused, again):
                    results[index] = result
        return results

    def _root_for_probes(self, conn: Connection) -> dict[str, Any]:
        """Read-only runs: sudo for the probes that need root, once per target, where it
        needs no password or one is given (or asked for); {} where there is none."""
        if conn.root is None:
            try:
                conn.root = self._elevate(conn, required=False)
            except TargetError:  # a wrong password: those probes stay skipped
                conn.root = {}
        return conn.root

    def _run_batch(
        self, conn: Connection, commands: list[str], parallel: bool, privileges: dict[str, Any]
    ) -> list[tuple[int, str]]:
        if not commands:
            return []
        marker = f"@@envsetup-check-{secrets.token_hex(6)}@@"
        script = batch_script(commands, marker, parallel)
        command = StringCommand("sh", "-c", shlex.quote(script))
        try:
            ok, output = conn.host.run_shell_command(command, _timeout=CHECK_TIMEOUT, **privileges)
        except Exception as exc:
            return [(255, f"could not run the check: {exc}")] * len(commands)
        # Only stdout: every check's own stderr is in its output already (the batch runs
        # each with 2>&1). What the batch's stderr carries is the wrapper's own (sudo's
        # "unable to resolve host", its lecture), and where it fell among stdout lines
        # depends on how the two streams were read: one after the other without gevent's
        # patches, interleaved as they came with them (a terminal, several targets), where
        # it ran into the first check's output and turned a pass into a failure.
        results = split_batch(output.stdout, marker)
        text = "\n".join(line.line for line in output)
        missing = (255, f"the check did not run: {text.strip()[-300:]}")
        return [results.get(index, missing) for index in range(len(commands))]


def _resolve(action: Op | FileEdit) -> tuple[Any, dict[str, Any]]:
    if isinstance(action, Op):
        module_name, _, func_name = action.name.rpartition(".")
        module = (
            ops
            if module_name == "envsetup.ops"
            else importlib.import_module(f"pyinfra.operations.{module_name}")
        )
        return getattr(module, func_name), dict(action.kwargs)
    kwargs = {
        "path": action.path,
        "edit": action.edit,
        "mode": action.mode,
        "owner": action.owner,
        "group": action.group,
        "create_mode": action.create_mode,
    }
    return ops.edit_file, kwargs

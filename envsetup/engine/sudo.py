"""sudo with a password that no other process on the target can read.

pyinfra gives sudo its password through the environment of the command it runs:
``env SUDO_ASKPASS=... PYINFRA_SUDO_PASSWORD=<password> sudo -H -A -k sh -c ...``
(``pyinfra.connectors.util.make_unix_command``). That command line is in
``/proc/PID/cmdline`` of the ``env`` process, which every local user of the
target can read, for every command of a run (pyinfra masks it in its own logs
only). pyinfra (3.x, as pinned in pyproject.toml) has no argument to give the
password any other way, so for a login that needs a password the engine wraps
the host's connector in :class:`PasswordSudo`, by one explicit call
(``install``) per host, and never passes ``_sudo_password`` to pyinfra at all.
``tests/unit/test_sudo_wrapper.py`` notices when pyinfra stops putting the
password on the command line, and this module can go.

- once per connection, the password goes over the connection's stdin (the SSH
  channel, or a local process's pipe; never an argument) into a file of a
  private directory (``mktemp -d`` under
  ``$XDG_RUNTIME_DIR`` or ``/tmp``, mode 0700, the file 0600), beside an askpass
  helper that prints that file;
- every command with ``_sudo`` runs as ``env SUDO_ASKPASS=DIR/askpass sudo -H
  -A -k sh -c ...``: the command line names the helper, not the password;
- uploads and downloads with ``_sudo`` go through a temporary file as pyinfra's
  connectors do, the copy being made through the same sudo;
- the directory is removed when the engine closes the connection.

Everything else is pyinfra's own: the wrapper builds the inner command with
pyinfra's ``make_unix_command`` (environment, directory, ``su``, shell) and
hands the result to the wrapped connector with ``_shell_executable=None``, so
it runs as it is. rsync with sudo is not supported through the wrapper
(envsetup does not use it).
"""

from __future__ import annotations

import shlex
from typing import Any

from pyinfra.api import QuoteString, StringCommand
from pyinfra.api.host import Host
from pyinfra.connectors.util import extract_control_arguments, make_unix_command

# Arguments that say how to elevate; the wrapper handles them, pyinfra never sees them.
_SUDO_KEYS = ("_sudo", "_sudo_user", "_use_sudo_login", "_preserve_sudo_env", "_sudo_password")
_AUTH_KEYS = (*_SUDO_KEYS, "_su_user", "_chdir")

# Reads the password from stdin into a private directory; prints that directory.
SETUP = r"""umask 077
d=$(mktemp -d "${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/envsetup-sudo-XXXXXXXXXX") || exit 1
cat >"$d/password" || { rm -rf "$d"; exit 1; }
printf '#!/bin/sh\nexec cat "${0%%/*}/password"\n' >"$d/askpass"
chmod 700 "$d/askpass"
printf '%s\n' "$d"
"""


def underlying(connector: Any) -> Any:
    """The connector pyinfra made, under a ``PasswordSudo`` wrapper where there is one."""
    return connector.inner if isinstance(connector, PasswordSudo) else connector


class SudoSetupError(Exception):
    """The private directory for the password could not be made on the target."""


def install(host: Host, password: str) -> PasswordSudo:
    """Put the password in a private directory on the target; wrap the host's connector.

    Raises ``SudoSetupError`` where the directory cannot be made. The caller
    checks that sudo takes the password (``PasswordSudo.accepted``) and removes the
    directory (``PasswordSudo.remove``) at the end.
    """
    ok, output = host.run_shell_command(StringCommand(SETUP), _stdin=password)
    directory = output.stdout_lines[-1] if ok and output.stdout_lines else ""
    if not directory.startswith("/"):
        raise SudoSetupError(output.stderr.strip()[-300:] or "no directory was made")
    wrapper = PasswordSudo(host.connector, directory)
    host.connector = wrapper
    return wrapper


class PasswordSudo:
    """A host's connector whose sudo gets its password from a private askpass helper."""

    def __init__(self, inner: Any, directory: str) -> None:
        self.inner = inner
        self.directory = directory
        self.askpass = f"{directory}/askpass"

    def __getattr__(self, name: str) -> Any:
        # connect, disconnect, data, client, ...: the wrapped connector's own
        return getattr(self.inner, name)

    def accepted(self) -> bool:
        """True where sudo takes the password (a wrong one makes ``sudo true`` fail)."""
        ok, _ = self.run_shell_command(StringCommand("true"), _sudo=True)
        return bool(ok)

    def remove(self) -> None:
        """Remove the password's directory from the target (best effort)."""
        self.inner.run_shell_command(StringCommand("rm", "-rf", QuoteString(self.directory)))

    def elevate(self, command: StringCommand, arguments: dict[str, Any]) -> StringCommand:
        """The command as sudo runs it with the askpass helper (``arguments`` as pyinfra's)."""
        rest = {key: value for key, value in arguments.items() if key not in _SUDO_KEYS}
        bits: list[Any] = [
            "env",
            StringCommand("SUDO_ASKPASS=", QuoteString(self.askpass), _separator=""),
            "sudo",
            "-H",
            "-A",
            "-k",
        ]
        if arguments.get("_use_sudo_login"):
            bits.append("-i")
        if arguments.get("_preserve_sudo_env"):
            bits.append("-E")
        if arguments.get("_sudo_user"):
            bits += ["-u", QuoteString(arguments["_sudo_user"])]
        return StringCommand(*bits, make_unix_command(command, **rest))

    def run_shell_command(
        self,
        command: StringCommand,
        print_output: bool = False,
        print_input: bool = False,
        **arguments: Any,
    ) -> Any:
        if not arguments.get("_sudo"):
            return self.inner.run_shell_command(command, print_output, print_input, **arguments)
        arguments = dict(arguments)
        control = extract_control_arguments(arguments)  # timeout, stdin, pty: the connector's
        return self.inner.run_shell_command(
            self.elevate(command, arguments),
            print_output,
            print_input,
            _shell_executable=None,  # the command is complete: run it as it is
            **control,
        )

    def put_file(
        self,
        filename_or_io: Any,
        remote_filename: str,
        remote_temp_filename: str | None = None,
        print_output: bool = False,
        print_input: bool = False,
        **arguments: Any,
    ) -> bool:
        """Upload as the login user to a temporary file, then copy it in place through sudo."""
        if not arguments.get("_sudo"):
            return bool(
                self.inner.put_file(
                    filename_or_io,
                    remote_filename,
                    remote_temp_filename,
                    print_output,
                    print_input,
                    **arguments,
                )
            )
        plain = {key: value for key, value in arguments.items() if key not in _AUTH_KEYS}
        temp = remote_temp_filename or self.inner.host.get_temp_filename(remote_filename)
        if not self.inner.put_file(filename_or_io, temp, None, print_output, print_input, **plain):
            return False
        other = arguments.get("_sudo_user") or arguments.get("_su_user")
        try:
            if other:  # that user must be able to read the upload, as pyinfra's connectors do
                ok, _ = self.inner.run_shell_command(
                    StringCommand("setfacl", "-m", f"u:{other}:r", QuoteString(temp)), **plain
                )
                if not ok:
                    return False
            copy = StringCommand("cp", QuoteString(temp), QuoteString(remote_filename))
            ok, _ = self.run_shell_command(copy, print_output, print_input, **arguments)
            return bool(ok)
        finally:
            self.inner.run_shell_command(StringCommand("rm", "-f", QuoteString(temp)), **plain)

    def get_file(
        self,
        remote_filename: str,
        filename_or_io: Any,
        remote_temp_filename: str | None = None,
        print_output: bool = False,
        print_input: bool = False,
        **arguments: Any,
    ) -> bool:
        """Copy through sudo to a temporary file the login user owns, then download that."""
        if not arguments.get("_sudo"):
            return bool(
                self.inner.get_file(
                    remote_filename,
                    filename_or_io,
                    remote_temp_filename,
                    print_output,
                    print_input,
                    **arguments,
                )
            )
        plain = {key: value for key, value in arguments.items() if key not in _AUTH_KEYS}
        temp = remote_temp_filename or self.inner.host.get_temp_filename(remote_filename)
        quoted = shlex.quote(temp)
        # $SUDO_UID: the login user, as sudo tells the command it runs
        copy = StringCommand(
            "cp", QuoteString(remote_filename), quoted, "&&", "chown", '"$SUDO_UID"', quoted
        )
        try:
            ok, _ = self.run_shell_command(copy, print_output, print_input, **arguments)
            if not ok:
                return False
            return bool(
                self.inner.get_file(temp, filename_or_io, None, print_output, print_input, **plain)
            )
        finally:
            self.inner.run_shell_command(StringCommand("rm", "-f", QuoteString(temp)), **plain)

"""sudo's command lines through the password wrapper: the helper's path, never a password."""

from __future__ import annotations

from pyinfra.api import StringCommand

from envsetup.engine.sudo import PasswordSudo

SECRET = "hunter2-not-here"


def test_elevated_command_names_the_helper_never_a_password() -> None:
    wrapper = PasswordSudo(None, "/tmp/envsetup-sudo-abc")
    command = wrapper.elevate(
        StringCommand("id", "-u"),
        {"_sudo": True, "_sudo_password": SECRET, "_sudo_user": "bob", "_chdir": "/srv"},
    )
    assert command.get_raw_value() == (
        "env SUDO_ASKPASS=/tmp/envsetup-sudo-abc/askpass sudo -H -A -k -u bob "
        "sh -c 'cd /srv && id -u'"
    )
    assert SECRET not in command.get_raw_value() and SECRET not in str(command)


def test_elevated_command_keeps_pyinfras_environment_and_login_options() -> None:
    wrapper = PasswordSudo(None, "/run/user/1000/envsetup-sudo-x y")
    command = wrapper.elevate(
        StringCommand("printenv", "A"),
        {"_sudo": True, "_use_sudo_login": True, "_preserve_sudo_env": True, "_env": {"A": "1"}},
    )
    assert command.get_raw_value() == (
        "env SUDO_ASKPASS='/run/user/1000/envsetup-sudo-x y/askpass' sudo -H -A -k -i -E "
        "sh -c 'export A=1 && printenv A'"
    )

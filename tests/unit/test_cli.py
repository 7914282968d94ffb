"""The CLI through click's CliRunner: each command reaches its function, exact messages."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from tests.helpers import envsetup


def test_help_explains_exit_codes_and_targets() -> None:
    result = envsetup("apply", "--help")
    assert result.exit_code == 0
    assert "2  invalid input (usage, recipe, variable) or unsupported platform" in result.stdout
    assert "@chroot/PATH" in result.stdout and "--sudo-password-stdin" in result.stdout


def test_list_and_show() -> None:
    result = envsetup("list", "--json")
    entries = {e["name"]: e for e in json.loads(result.stdout)}
    assert entries["ubuntu-java17"]["platforms"] == [
        "Ubuntu >=22.04",
        "Debian ==12",
        "not Debian >=13",
    ]
    assert entries["ubuntu-java17"]["error"] is None
    shown = envsetup("show", "ubuntu-java17")
    assert "platforms: Ubuntu >=22.04, Debian ==12" in shown.stdout
    assert "  headless (bool, default False)" in shown.stdout


def test_unknown_recipe_exit_2_with_fix() -> None:
    result = envsetup("apply", "no-such-recipe")
    assert result.exit_code == 2
    assert result.stderr == (
        "envsetup: error: unknown recipe 'no-such-recipe'\n"
        "Fix: available: hf-transformers, ollama-llama3, ubuntu-java17, wsl-systemd "
        "(see `envsetup list`)\n"
    )
    assert result.stdout == ""


def test_wrong_variable_exit_2_before_connecting() -> None:
    result = envsetup(
        "apply", "ubuntu-java17", "-t", "never-resolved.invalid", "--set", "headles=1"
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "envsetup: error: unknown variable 'headles', did you mean 'headless'?",
        "Fix: variables you can set: ubuntu-java17.headless, ubuntu-java17.java_home, "
        "ubuntu-java17.jinfo, ubuntu-java17.login_user",
    ]
    bad_type = envsetup("plan", "ubuntu-java17", "--set", "headless=maybe")
    assert bad_type.exit_code == 2
    assert bad_type.stderr == (
        "envsetup: error: headless: expected a boolean (true/false), got 'maybe'\n"
    )


def test_bad_target_and_json_error_document() -> None:
    result = envsetup("verify", "ubuntu-java17", "-t", "@lxd/box", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "ok": False,
        "exit_code": 2,
        "error": "unknown connector '@lxd' in target '@lxd/box'",
        "fix": "use @local, @chroot/PATH, @docker/NAME, @vagrant/NAME or "
        "[ssh://][USER@]HOST[:PORT]",
    }


def test_unreachable_host_exit_3() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = envsetup("verify", "ubuntu-java17", "-t", f"ssh://root@127.0.0.1:{port}", "--json")
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    error = doc["targets"][0]["error"]
    assert error.startswith(f"cannot connect to root@127.0.0.1:{port}: ")
    assert "[Errno" not in error
    assert error.endswith("(check that the host is up and that sshd listens on that port)")


def test_module_and_console_script_entry_points() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "envsetup", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "envsetup, version 0.1.0"


def test_missing_inventory_file_is_a_usage_error() -> None:
    result = envsetup("plan", "ubuntu-java17", "-i", "no-such-inventory.py")
    assert result.exit_code == 2
    assert result.stderr == "envsetup: error: inventory file no-such-inventory.py does not exist\n"

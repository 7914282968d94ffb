"""`envsetup apply wsl-systemd` on real Debian 12 roots prepared as WSL root filesystems.

WSL itself cannot run here. The chroot and SSH tests use `--assume-wsl` (the
documented way to prepare a WSL root offline); the booted test runs a real
Debian 12 root with systemd as PID 1 in its own PID namespace, which is what a
restarted WSL distro looks like from the inside.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import envsetup, run_json, steps_by_name, write_ssh_alias
from tests.integration.roots import DebianRoot, booted_root

WSL_CONF = """\
# /etc/wsl.conf, written by hand
[automount]
enabled = true
options = "metadata,umask=22,fmask=11"

[network]
generateResolvConf = false
hostname = devbox

[Boot]
command = service cron start ; echo started
Systemd=false
# systemd=true below is a later duplicate: WSL ignores it
systemd = true

[interop]
appendWindowsPath = false

[user]
default = dev
"""
# the occurrence WSL reads is changed in place; the later duplicate, which WSL ignores, stays
EXPECTED = WSL_CONF.replace("Systemd=false\n", "Systemd=true\n")
STEP = "[boot] systemd=true in /etc/wsl.conf"


def checks(doc: dict, step: str = STEP) -> list[tuple[str, str]]:
    return [(c["kind"], c["status"]) for c in steps_by_name(doc)[step]["checks"]]


def test_chroot_apply_is_pending_until_restart_and_idempotent(bookworm: DebianRoot) -> None:
    conf = bookworm.file("/etc/wsl.conf")
    conf.write_text(WSL_CONF)
    conf.chmod(0o600)
    target = ("-t", f"@chroot{bookworm.path}", "--assume-wsl")

    code, doc, _ = run_json("apply", "wsl-systemd", *target)
    assert code == 0, doc
    assert conf.read_text() == EXPECTED
    assert conf.stat().st_mode & 0o777 == 0o600  # an existing file keeps its mode
    assert steps_by_name(doc)[STEP]["changed"] is True
    assert steps_by_name(doc)[STEP]["verify"] == "pending"
    assert checks(doc) == [
        ("ini", "ok"),
        ("file", "ok"),
        ("command", "pending"),
        ("file", "pending"),
        ("command", "pending"),
    ]
    assert doc["targets"][0]["restarts"][0]["run"].startswith("name='<distro>'\n")

    code, doc, _ = run_json("apply", "wsl-systemd", *target)
    assert (code, doc["changed"]) == (0, 0)
    assert conf.read_text() == EXPECTED

    # PID 1 of a chroot is not systemd: systemctl fails with the error from the note
    out = bookworm.run("systemctl status", check=False)
    assert "System has not been booted with systemd as init system (PID 1). Can't operate." in (
        out.stderr
    )
    explained = envsetup("doctor", "--explain", out.stderr)
    assert explained.exit_code == 0
    # --explain reads this machine's facts: not WSL here, so the container answer
    assert "systemd is not PID 1 here" in explained.stdout

    # --restart says what it will do, then tries; no wsl.exe in this root: it says so
    # and what to run from Windows instead
    restarted = envsetup("apply", "wsl-systemd", *target, "--restart")
    assert restarted.exit_code == 0
    assert "for wsl-systemd: WSL must restart for systemd to become PID 1" in restarted.stderr
    assert "running: the restart script of wsl-systemd" in restarted.stderr
    assert (
        "envsetup cannot restart WSL from here: wsl.exe is neither on PATH nor at "
        "/mnt/c/Windows/System32/wsl.exe (is C: mounted? [automount] root is /mnt/)."
        in restarted.stderr
    )
    assert "From Windows (PowerShell or cmd) run:  wsl.exe --terminate <distro>" in (
        restarted.stderr
    )
    assert "the restart command failed" not in restarted.stderr

    code, doc, _ = run_json("remove", "wsl-systemd", *target)
    assert code == 0
    assert conf.read_text() == EXPECTED.replace("Systemd=true", "Systemd=false")


def test_refused_without_assume_wsl(bookworm: DebianRoot) -> None:
    before = bookworm.digest("/etc/wsl.conf", "/var/lib/dpkg/status")
    code, doc, _ = run_json("apply", "wsl-systemd", "-t", f"@chroot{bookworm.path}")
    assert code == 2
    assert "wsl-systemd needs WSL 2, but" in doc["targets"][0]["error"]
    assert "is not running under WSL" in doc["targets"][0]["error"]
    assert bookworm.digest("/etc/wsl.conf", "/var/lib/dpkg/status") == before


def test_mask_binfmt_over_ssh(
    bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    key, public = keypair
    bookworm.file("/etc/wsl.conf").write_text(WSL_CONF)
    write_ssh_alias(isolated_home, "wsl-root", bookworm.start_sshd(public), "root", key)
    args = ("apply", "wsl-systemd", "-t", "wsl-root", "--assume-wsl", "--set", "mask_binfmt=true")
    code, doc, _ = run_json(*args)
    assert code == 0, doc
    mask = "Mask systemd-binfmt.service where WSL does not protect WSLInterop"
    assert steps_by_name(doc)[mask]["verify"] == "ok"
    assert doc["targets"][0]["warnings"] == [
        w for w in doc["targets"][0]["warnings"] if "mask_binfmt is not needed" not in w
    ]
    assert (
        str(bookworm.file("/etc/systemd/system/systemd-binfmt.service").readlink()) == "/dev/null"
    )
    code, doc, _ = run_json(*args)
    assert (code, doc["changed"]) == (0, 0)


def test_booted_root_verifies_ok(
    tmp_path: Path, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    key, public = keypair
    with booted_root(tmp_path / "booted", public) as root:
        root.file("/etc/wsl.conf").write_text(WSL_CONF)
        write_ssh_alias(isolated_home, "booted", root.port, "root", key)
        code, doc, _ = run_json("apply", "wsl-systemd", "-t", "booted", "--assume-wsl")
        assert code == 0, doc
        assert checks(doc) == [
            ("ini", "ok"),
            ("file", "ok"),
            ("command", "ok"),
            ("file", "ok"),
            ("command", "ok"),
        ]
        assert doc["targets"][0]["restarts"] == []
        code, doc, _ = run_json("verify", "wsl-systemd", "-t", "booted", "--assume-wsl")
        assert code == 0 and doc["summary"]["verify_pending"] == 0


# TEST FIXTURE, NOT wsl.exe: a stand-in at the path WSL mounts C: under, answering as
# wsl.exe does (UTF-16LE output, as the real one writes to a pipe) and logging its
# calls. WSL itself cannot run on the test machines.
STANDIN_WSL_EXE = """#!/bin/sh
# TEST FIXTURE (tests/integration/test_wsl_systemd.py): not wsl.exe
echo "$* WSL_INTEROP=${WSL_INTEROP:-}" >> /var/log/standin-wsl-exe.log
u16() { printf "$1" | iconv -f utf-8 -t utf-16le; }
case "$1" in
  --version) u16 "WSL version: @VERSION@\\r\\nKernel version: 6.6.87.2-1\\r\\n" ;;
  --list) u16 "Debian\\r\\n" ;;
  --terminate) exit 0 ;;
  *) u16 "Invalid command line option: $1\\r\\n"; exit 1 ;;
esac
"""


def install_standin_wsl(root: DebianRoot, windows: str, version: str = "2.3.26.0") -> None:
    """wsl.exe at WINDOWS/System32, a WSLInterop registration (a tmpfs over the root's
    /proc/sys/fs/binfmt_misc, so the host's kernel is untouched) and an interop socket
    path under /run/WSL: the pieces the restart looks for. All TEST FIXTURES."""
    system32 = root.file(f"{windows}/System32")
    system32.mkdir(parents=True)
    if version == "inbox":  # the Windows 10 inbox wsl.exe, older than 0.67.6: no --version
        text = STANDIN_WSL_EXE.replace("  --version)", "  --old-version)")
    else:
        text = STANDIN_WSL_EXE.replace("@VERSION@", version)
    (system32 / "wsl.exe").write_text(text)
    (system32 / "wsl.exe").chmod(0o755)
    root._mount(["-t", "tmpfs", "binfmt-fixture"], "proc/sys/fs/binfmt_misc")
    root.file("/proc/sys/fs/binfmt_misc/WSLInterop").write_text("enabled\ninterpreter /init\n")
    root.file("/run/WSL").mkdir(parents=True, exist_ok=True)
    root.file("/run/WSL/4242_interop").write_text("")  # stands in for the socket


def test_restart_through_sudo_over_ssh_finds_wsl_exe_under_automount_root(
    bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    """sudo: secure_path has no Windows directory and WSL_DISTRO_NAME is dropped; SSH:
    no interop server in the session's parents. [automount] root is /windir/."""
    key, public = keypair
    bookworm.file("/etc/wsl.conf").write_text(
        WSL_CONF.replace("enabled = true\n", "enabled = true\nroot = /windir/\n", 1)
    )
    install_standin_wsl(bookworm, "/windir/c/Windows")
    bookworm.add_user("dev", "dev-password", public, sudo_nopasswd=True)
    write_ssh_alias(isolated_home, "wsl-dev", bookworm.start_sshd(public), "dev", key)
    result = envsetup(
        "apply", "wsl-systemd", "-t", "wsl-dev", "--assume-wsl", "--restart", "--json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["targets"][0]["warnings"] == []  # WSL 2.3.26.0 >= 0.67.6: the preflight passed
    assert "the restart command failed" not in result.stderr
    assert "cannot restart" not in result.stderr
    calls = bookworm.file("/var/log/standin-wsl-exe.log").read_text().splitlines()
    assert calls[-3:] == [
        "--version WSL_INTEROP=/run/WSL/4242_interop",
        "--list --running --quiet WSL_INTEROP=/run/WSL/4242_interop",
        "--terminate Debian WSL_INTEROP=/run/WSL/4242_interop",
    ]


def test_restart_says_what_to_run_from_windows_when_it_cannot(bookworm: DebianRoot) -> None:
    target = ("-t", f"@chroot{bookworm.path}", "--assume-wsl")
    conf = bookworm.file("/etc/wsl.conf")
    conf.write_text(WSL_CONF.replace("appendWindowsPath = false", "enabled = false"))
    install_standin_wsl(bookworm, "/mnt/c/Windows", version="inbox")

    # interop disabled in wsl.conf: wsl.exe is not even tried
    result = envsetup("apply", "wsl-systemd", *target, "--restart", "--json")
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["targets"][0]["warnings"]
    assert len(warnings) == 1 and "not asked: [interop] enabled=false" in warnings[0]
    assert (
        "envsetup cannot restart WSL from here: Windows interop is disabled "
        "([interop] enabled=false in /etc/wsl.conf)." in result.stderr
    )
    assert "wsl.exe --terminate <distro>   (or: wsl.exe --shutdown" in result.stderr
    assert not bookworm.file("/var/log/standin-wsl-exe.log").exists()

    # interop on, but no interop server reachable (as in an SSH session)
    conf.write_text(WSL_CONF)
    bookworm.file("/run/WSL/4242_interop").unlink()
    result = envsetup("apply", "wsl-systemd", *target, "--restart")
    assert "no WSL interop server is reachable from this session" in result.stderr
    assert not bookworm.file("/var/log/standin-wsl-exe.log").exists()

    # with a server: an inbox wsl.exe (no --version) is too old for systemd: preflight says so
    bookworm.file("/run/WSL/4242_interop").write_text("")
    result = envsetup("apply", "wsl-systemd", *target, "--json")
    warnings = json.loads(result.stdout)["targets"][0]["warnings"]
    assert len(warnings) == 1, warnings
    assert "wsl.exe does not know --version: WSL is older than 0.67.6" in warnings[0]
    assert "wsl --update" in warnings[0]


def test_mask_binfmt_is_not_done_where_wsl_protects_interop(bookworm: DebianRoot) -> None:
    """WSL 2.8.10+ locks binfmt_misc/status (/run/wsl/binfmt-status-lock): no mask."""
    target = ("-t", f"@chroot{bookworm.path}", "--assume-wsl", "--set", "mask_binfmt=true")
    bookworm.file("/etc/wsl.conf").write_text(WSL_CONF)
    bookworm.file("/run/wsl").mkdir(parents=True)
    bookworm.file("/run/wsl/binfmt-status-lock").write_text("enabled\n")  # TEST FIXTURE
    code, doc, _ = run_json("apply", "wsl-systemd", *target)
    assert code == 0, doc
    mask = steps_by_name(doc)["Mask systemd-binfmt.service where WSL does not protect WSLInterop"]
    assert (mask["status"], mask["verify"]) == ("unchanged", "ok")
    assert mask["checks"][0]["description"] == (
        "systemd-binfmt.service is masked, or WSL protects WSLInterop itself"
    )
    assert not bookworm.file("/etc/systemd/system/systemd-binfmt.service").is_symlink()
    (warning,) = [w for w in doc["targets"][0]["warnings"] if "mask_binfmt" in w]
    assert "mask_binfmt is not needed here, and is not done" in warning
    assert "qemu-user" in warning

    # [boot] protectBinfmt=false: WSL leaves it to us, and the mask is made
    bookworm.file("/etc/wsl.conf").write_text(
        WSL_CONF.replace("[Boot]\n", "[Boot]\nprotectBinfmt = false\n")
    )
    code, doc, _ = run_json("apply", "wsl-systemd", *target)
    assert code == 0, doc
    assert not [w for w in doc["targets"][0]["warnings"] if "mask_binfmt" in w]
    link = bookworm.file("/etc/systemd/system/systemd-binfmt.service")
    assert str(link.readlink()) == "/dev/null"

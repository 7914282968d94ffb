"""`envsetup apply wsl-systemd` on real Debian 12 roots prepared as WSL root filesystems.

WSL itself cannot run here. The chroot and SSH tests use `--assume-wsl` (the
documented way to prepare a WSL root offline); the booted test runs a real
Debian 12 root with systemd as PID 1 in its own PID namespace, which is what a
restarted WSL distro looks like from the inside.
"""

from __future__ import annotations

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
    assert doc["targets"][0]["restarts"][0]["run"] == "wsl.exe --terminate '<distro>'"

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
    assert "fix: envsetup apply wsl-systemd --restart" in explained.stdout

    # --restart says what it will do, then runs the restart (no wsl.exe in this root)
    restarted = envsetup("apply", "wsl-systemd", *target, "--restart")
    assert restarted.exit_code == 0
    assert "for wsl-systemd: WSL must restart for systemd to become PID 1" in restarted.stderr
    assert "running: wsl.exe --terminate '<distro>'" in restarted.stderr
    assert "the restart command failed (127)" in restarted.stderr

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
    mask = "Mask systemd-binfmt.service (keeps Windows .exe interop working)"
    assert steps_by_name(doc)[mask]["verify"] == "ok"
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

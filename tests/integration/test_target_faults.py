"""Target faults on real Debian 12 roots: a wrong SSH key, a changed host key, a
read-only filesystem, a full disk and no network to the package archive. Each gives
one clear message with the cause and the fix, its documented exit code, and leaves
the target as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import run_json, write_ssh_alias
from tests.integration.roots import DebianRoot, debian_root, make_keypair

RECIPE = str(Path(__file__).parent.parent / "fixtures" / "recipes" / "hostile" / "recipe.yaml")
WATCHED = ("/var/lib/dpkg/status", "/etc/environment")


def test_wrong_ssh_key_exit_3(
    bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path, tmp_path: Path
) -> None:
    _, public = keypair
    other_key, _ = make_keypair(tmp_path)
    write_ssh_alias(isolated_home, "box", bookworm.start_sshd(public), "root", other_key)
    code, doc, _ = run_json("verify", "ubuntu-java17", "-t", "box")
    assert code == 3
    error = doc["targets"][0]["error"]
    assert error.startswith("cannot connect to box: Authentication error")
    assert error.endswith("(check the user and the SSH key (ssh -v box tells more))")


def test_changed_host_key_exit_3(
    bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path, tmp_path: Path
) -> None:
    key, public = keypair
    port = bookworm.start_sshd(public)
    _, impostor = make_keypair(tmp_path)  # a host key that is not the server's
    ssh = isolated_home / ".ssh"
    ssh.mkdir(mode=0o700)
    (ssh / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(impostor.split()[:2])}\n")
    (ssh / "config").write_text(
        f"Host box\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {key}\n"
        f"  StrictHostKeyChecking yes\n  UserKnownHostsFile {ssh / 'known_hosts'}\n"
    )
    code, doc, _ = run_json("verify", "ubuntu-java17", "-t", "box")
    assert code == 3
    error = doc["targets"][0]["error"]
    assert error.startswith("cannot connect to box: Host key for 127.0.0.1 does not match.")
    assert f'ssh-keygen -R "[127.0.0.1]:{port}" and connect again' in error


def test_read_only_filesystem(bookworm: DebianRoot) -> None:
    bookworm.file("/etc/environment").write_text('PATH="/usr/bin:/bin"\n')
    etc = str(bookworm.file("/etc"))
    subprocess.run(["mount", "--bind", etc, etc], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", etc], check=True)
        before = bookworm.digest(*WATCHED)
        code, doc, _ = run_json("apply", RECIPE, "-t", f"@chroot{bookworm.path}")
    finally:
        subprocess.run(["umount", etc], check=True)
    assert code == 1
    step = doc["targets"][0]["recipes"][0]["steps"][1]
    assert step["status"] == "failed"
    assert "Read-only file system" in step["error"]
    assert step["error"].endswith(
        "Fix: the target's filesystem is mounted read-only: remount it "
        "read-write (mount -o remount,rw MOUNTPOINT) and apply again"
    )
    assert bookworm.digest(*WATCHED) == before


def test_full_disk(tmp_path: Path) -> None:
    with debian_root("bookworm", tmp_path / "root", shared_apt_cache=False) as root:
        archives = root.file("/var/cache/apt/archives")
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(archives)], check=True
        )
        try:
            before = root.digest(*WATCHED)
            code, doc, _ = run_json(
                "apply", "ubuntu-java17", "-t", f"@chroot{root.path}", "--set", "headless=true"
            )
        finally:
            subprocess.run(["umount", str(archives)], check=True)
        assert code == 1
        step = doc["targets"][0]["recipes"][0]["steps"][0]
        assert step["status"] == "failed"
        assert "free space" in step["error"]
        assert step["error"].endswith(
            "Fix: the target's disk is full: free space (df -h) and apply again"
        )
        assert root.digest(*WATCHED) == before


def test_no_network_to_the_archive(tmp_path: Path) -> None:
    with debian_root("bookworm", tmp_path / "root", shared_apt_cache=False) as root:
        root.file("/etc/resolv.conf").write_text("nameserver 127.0.0.9\n")  # nothing answers
        before = root.digest(*WATCHED)
        code, doc, _ = run_json(
            "apply", "ubuntu-java17", "-t", f"@chroot{root.path}", "--set", "headless=true"
        )
        assert code == 1
        step = doc["targets"][0]["recipes"][0]["steps"][0]
        assert step["status"] == "failed"
        assert step["error"].endswith(
            "Fix: the target cannot reach the package archive: check "
            "its network, DNS and apt proxy settings"
        )
        assert root.digest(*WATCHED) == before

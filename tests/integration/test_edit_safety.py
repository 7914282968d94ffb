"""Attacks on file edits, on real Debian 12 roots: symlinked files, links planted by a user
or by a hostile root filesystem, backup names crafted to mislead pruning, and two applies
at once. Each asserts that the intended file is right and nothing else changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import run_json, steps_by_name
from tests.integration.roots import DebianRoot

JH = "/usr/lib/jvm/java-17-openjdk-amd64"


def recipe(directory: Path, steps: str, name: str = "edits") -> str:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "recipe.yaml").write_text(f"name: {name}\nsummary: file edits\nsteps:\n{steps}")
    return str(directory / "recipe.yaml")


def env_step(key: str = "JAVA_HOME", value: str = JH, path: str = "/etc/environment") -> str:
    step = f"{{path: {path}, key: {key}, value: '{value}'}}"
    return f"  - name: {key}\n    env_file: {step}\n    verify:\n      - env_file: {step}\n"


def ini_step(path: str) -> str:
    step = f"{{path: {path}, section: boot, key: systemd, value: 'true'}}"
    return f"  - name: ini\n    ini: {step}\n    verify:\n      - ini: {step}\n"


def digest_tree(*tops: Path) -> dict[str, str]:
    """SHA-256 of every regular file (and the target of every link) under ``tops``."""
    out = {}
    for top in tops:
        for dirpath, dirs, files in os.walk(top):
            for name in files + dirs:
                path = Path(dirpath) / name
                if path.is_symlink():
                    out[str(path)] = "-> " + os.readlink(path)
                elif path.is_file():
                    out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_a_symlinked_environment_file_is_edited_where_it_leads(
    bookworm: DebianRoot, tmp_path: Path
) -> None:
    real = bookworm.file("/etc/default/environment")
    real.write_text('PATH="/usr/bin:/bin"\n')
    real.chmod(0o640)
    link = bookworm.file("/etc/environment")
    link.unlink()
    link.symlink_to("default/environment")
    shadow = bookworm.file("/etc/shadow").read_bytes()
    path = recipe(tmp_path, env_step())

    code, plan, _ = run_json("plan", path, "-t", f"@chroot{bookworm.path}")
    diff = steps_by_name(plan)["JAVA_HOME"]["diff"]
    assert "/etc/default/environment (via /etc/environment) (now)" in diff
    code, doc, _ = run_json("apply", path, "-t", f"@chroot{bookworm.path}")
    assert code == 0, doc
    assert link.is_symlink() and os.readlink(link) == "default/environment"
    assert real.read_text() == f'PATH="/usr/bin:/bin"\nJAVA_HOME="{JH}"\n'
    assert real.stat().st_mode & 0o7777 == 0o640  # the file's own mode, not the link's 0777
    code, again, _ = run_json("apply", path, "-t", f"@chroot{bookworm.path}")
    assert code == 0 and again["summary"]["changed"] == 0
    assert bookworm.file("/etc/shadow").read_bytes() == shadow


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/dev/null", "leads to /dev/null, which is not a file envsetup edits"),
        ("/etc/nowhere", "is a link to /etc/nowhere, which does not exist"),
        ("/etc/ssh", "leads to /etc/ssh, which is not a regular file"),
    ],
)
def test_links_to_what_is_not_a_file_are_refused(
    bookworm: DebianRoot, tmp_path: Path, target: str, message: str
) -> None:
    link = bookworm.file("/etc/environment")
    link.unlink()
    link.symlink_to(target)
    before = digest_tree(bookworm.file("/etc"))
    code, doc, _ = run_json("apply", recipe(tmp_path, env_step()), "-t", f"@chroot{bookworm.path}")
    assert code == 1
    assert message in steps_by_name(doc)["JAVA_HOME"]["error"]
    after = digest_tree(bookworm.file("/etc"))
    assert {k: v for k, v in after.items() if "/var/lib/envsetup" not in k} == before


def test_root_never_works_through_links_a_user_planted(
    bookworm: DebianRoot, tmp_path: Path
) -> None:
    bookworm.run("useradd -m alice")
    config = bookworm.file("/home/alice/.config")
    config.mkdir()
    # the link the recipe's file is, and the temporary name the old code used
    (config / "wsl.conf").symlink_to("/etc/shadow")
    (config / ".wsl.conf.envsetup-new").symlink_to("/etc/passwd")
    bookworm.run("chown -h -R alice:alice /home/alice/.config")
    before = digest_tree(bookworm.file("/etc"))
    path = recipe(tmp_path, ini_step("/home/alice/.config/wsl.conf"))

    code, plan, _ = run_json("plan", path, "-t", f"@chroot{bookworm.path}")
    step = steps_by_name(plan)["ini"]
    assert "root:" not in (step.get("diff") or "")  # /etc/shadow is never shown
    assert "/etc/shadow cannot be read" in step["error"]
    code, doc, _ = run_json("apply", path, "-t", f"@chroot{bookworm.path}")
    assert code == 1 and "/etc/shadow cannot be read" in steps_by_name(doc)["ini"]["error"]
    assert digest_tree(bookworm.file("/etc")) == before

    # a link to the user's own file: followed, and written as the user
    (config / "wsl.conf").unlink()
    (config / "wsl.conf").symlink_to("real.conf")
    (config / "real.conf").write_text("[user]\ndefault=alice\n")
    bookworm.run("chown -h alice:alice /home/alice/.config/wsl.conf /home/alice/.config/real.conf")
    code, doc, _ = run_json("apply", path, "-t", f"@chroot{bookworm.path}")
    assert code == 0, doc
    assert (config / "real.conf").read_text() == "[user]\ndefault=alice\n\n[boot]\nsystemd=true\n"
    owner = bookworm.run("stat -c %U /home/alice/.config/real.conf").stdout.strip()
    assert owner == "alice"
    assert digest_tree(bookworm.file("/etc")) == before


def test_a_hostile_root_cannot_make_a_chroot_apply_write_on_the_host(
    bookworm: DebianRoot, tmp_path: Path
) -> None:
    host = tmp_path / "host"  # a folder of the host, beside the root (not inside it)
    host.mkdir()
    canary = host / "canary"
    canary.write_text("the host's own file\n")
    etc = bookworm.file("/etc")
    # names the old code used, pointing at an absolute host path
    (etc / ".wsl.conf.envsetup-new").symlink_to(str(canary))
    (etc / ".environment.envsetup-new").symlink_to(str(canary))
    bookworm.file("/etc/wsl.conf").symlink_to(str(canary))  # resolved inside the root: absent
    host_before = digest_tree(host)
    code, doc, _ = run_json(
        "apply",
        recipe(tmp_path / "r", env_step() + ini_step("/etc/hostile.conf")),
        "-t",
        f"@chroot{bookworm.path}",
    )
    assert code == 0, doc
    assert digest_tree(host) == host_before
    assert canary.read_text() == "the host's own file\n"
    code, doc, _ = run_json(
        "apply", recipe(tmp_path / "w", ini_step("/etc/wsl.conf")), "-t", f"@chroot{bookworm.path}"
    )
    assert code == 1
    assert f"is a link to {canary}, which does not exist" in steps_by_name(doc)["ini"]["error"]
    assert digest_tree(host) == host_before


def test_backup_names_cannot_mislead_pruning(bookworm: DebianRoot, tmp_path: Path) -> None:
    etc = bookworm.file("/etc")
    for day in range(1, 7):
        (etc / f"environment.envsetup-2000010{day}T000000").write_text("old\n")
    (etc / "environment.envsetup-20000101T000001").symlink_to("/etc/shadow")
    bookworm.file("/keep-me").write_text("in root's working directory\n")
    (etc / "environment.envsetup-2000\n..\n..\nkeep-me").write_text("a crafted name\n")
    shadow = bookworm.file("/etc/shadow").read_bytes()
    code, doc, _ = run_json("apply", recipe(tmp_path, env_step()), "-t", f"@chroot{bookworm.path}")
    assert code == 0, doc
    assert bookworm.file("/keep-me").exists()
    assert bookworm.file("/etc/shadow").read_bytes() == shadow
    assert (etc / "environment.envsetup-20000101T000001").is_symlink()
    backups = [p for p in etc.glob("environment.envsetup-*") if not p.is_symlink()]
    assert len(backups) == 5  # the newest five regular files: this run's backup among them


def test_two_applies_at_once_lose_nothing(bookworm: DebianRoot, tmp_path: Path) -> None:
    sleep = (
        "  - name: slow\n    shell: {run: sleep 3, unless: 'false'}\n"
        "    verify:\n      - command: {run: 'true'}\n"
    )
    first = recipe(tmp_path / "a", env_step("FIRST", "1") + sleep, "first")
    second = recipe(tmp_path / "b", env_step("SECOND", "2") + sleep, "second")
    command = [sys.executable, "-m", "envsetup", "apply", "-t", f"@chroot{bookworm.path}"]
    runs = [subprocess.Popen([*command, path]) for path in (first, second)]
    started = time.monotonic()
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    assert time.monotonic() - started >= 6  # one waited for the other's lock
    text = bookworm.file("/etc/environment").read_text()
    assert 'FIRST="1"\n' in text and 'SECOND="2"\n' in text


def test_a_held_lock_is_waited_for_then_refused_with_who_holds_it(
    bookworm: DebianRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bookworm.run(
        "mkdir -p /var/lib/envsetup && echo 'envsetup on elsewhere' > /var/lib/envsetup/apply.owner"
    )
    holder = subprocess.Popen(
        ["chroot", str(bookworm.path), "flock", "/var/lib/envsetup/apply.lock", "sleep", "30"]
    )
    try:
        time.sleep(0.5)
        monkeypatch.setenv("ENVSETUP_LOCK_WAIT", "2")
        before = bookworm.file("/etc/environment").read_bytes()
        started = time.monotonic()
        code, doc, _ = run_json(
            "apply", recipe(tmp_path, env_step()), "-t", f"@chroot{bookworm.path}"
        )
        assert 2 <= time.monotonic() - started < 20
        assert code == 3
        error = doc["targets"][0]["error"]
        assert "another run holds the apply lock" in error and "envsetup on elsewhere" in error
        assert bookworm.file("/etc/environment").read_bytes() == before
    finally:
        holder.kill()
        holder.wait()

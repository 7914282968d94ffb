"""`envsetup apply ubuntu-java17` on real Debian roots: chroot, SSH, sudo, Debian 13.

These build real roots with debootstrap and install the real OpenJDK 17 from
Debian's archive. Most use the headless JDK (the same steps, fewer downloads);
the SSH test installs the recipe's default, openjdk-17-jdk.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envsetup.engine import Engine
from tests.helpers import envsetup, run_json, steps_by_name, write_ssh_alias
from tests.integration.roots import DebianRoot

JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
EXISTING_ENV = (
    "# /etc/environment: system-wide variables (pam_env)\n"
    'PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n'
    "\n"
    "# corporate proxy\n"
    'http_proxy="http://proxy.example:3128"\n'
    'JAVA_HOME="/opt/old-jdk"\n'
    "LANG=C.UTF-8\n"
    'JAVA_HOME="/opt/duplicate"\n'
)
HEADLESS = ("--set", "headless=true")


def chroot(root: DebianRoot) -> tuple[str, str]:
    return ("-t", f"@chroot{root.path}")


def test_apply_reapply_verify_remove_in_chroot(bookworm: DebianRoot) -> None:
    bookworm.file("/etc/environment").write_text(EXISTING_ENV)

    code, doc, _ = run_json("apply", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert code == 0, doc
    assert doc["ok"] is True
    steps = steps_by_name(doc)
    assert steps["Install OpenJDK 17"]["changed"] is True
    assert steps["JAVA_HOME in /etc/environment"]["changed"] is True
    assert {s["verify"] for s in steps.values()} == {"ok"}
    # the definition pam_env obeys (the last) replaced in place; every other byte kept
    assert bookworm.file("/etc/environment").read_text() == EXISTING_ENV.replace(
        'JAVA_HOME="/opt/duplicate"', f'JAVA_HOME="{JAVA_HOME}"'
    )
    assert bookworm.run("java -version").stderr.startswith('openjdk version "17.')
    assert bookworm.run("su - root -c 'echo $JAVA_HOME'").stdout.strip() == JAVA_HOME

    before = bookworm.digest("/var/lib/dpkg/status", "/etc/environment")
    code, doc, _ = run_json("apply", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert (code, doc["changed"]) == (0, 0)
    assert all(
        s["status"] == "unchanged" and s["verify"] == "ok" for s in steps_by_name(doc).values()
    )
    assert bookworm.digest("/var/lib/dpkg/status", "/etc/environment") == before

    human = envsetup("apply", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert human.exit_code == 0
    assert "3 steps: 0 changed, 3 unchanged, 0 failed" in human.stdout
    assert "No changes: everything was already in place." in human.stdout

    code, doc, _ = run_json("verify", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert code == 0 and doc["summary"]["verify_ok"] == 3

    code, doc, _ = run_json("remove", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert code == 0, doc
    assert (
        bookworm.run(
            "dpkg-query -W -f='${db:Status-Status}' openjdk-17-jdk-headless", check=False
        ).stdout
        != "installed"
    )
    assert bookworm.file("/etc/environment").read_text() == (
        EXISTING_ENV.replace('JAVA_HOME="/opt/old-jdk"\n', "").replace(
            'JAVA_HOME="/opt/duplicate"\n', ""
        )
    )
    # verify now fails, naming what is missing
    code, doc, _ = run_json("verify", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert code == 1
    details = [c["detail"] for s in steps_by_name(doc).values() for c in s["checks"]]
    assert "openjdk-17-jdk-headless is not installed" in details


def test_plan_changes_nothing(bookworm: DebianRoot) -> None:
    bookworm.file("/etc/environment").write_text(EXISTING_ENV)
    lists = bookworm.file("/var/lib/apt/lists")
    lists_before = sorted((p.name, p.stat().st_mtime) for p in lists.iterdir())
    before = bookworm.digest(
        "/var/lib/dpkg/status", "/etc/environment", "/var/lib/apt/periodic/update-success-stamp"
    )
    result = envsetup("plan", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert result.exit_code == 0, result.output
    assert "Plan: 3 of 3 steps would change; nothing was changed." in result.stdout
    assert f'+JAVA_HOME="{JAVA_HOME}"' in result.stdout
    assert '-JAVA_HOME="/opt/duplicate"' in result.stdout
    assert (
        bookworm.digest(
            "/var/lib/dpkg/status", "/etc/environment", "/var/lib/apt/periodic/update-success-stamp"
        )
        == before
    )
    assert sorted((p.name, p.stat().st_mtime) for p in lists.iterdir()) == lists_before


def test_debian13_is_refused_before_any_change(trixie: DebianRoot) -> None:
    trixie.file("/etc/environment").write_text(EXISTING_ENV)
    before = trixie.digest("/var/lib/dpkg/status", "/etc/environment")
    result = envsetup("apply", "ubuntu-java17", *chroot(trixie))
    assert result.exit_code == 2
    assert (
        "envsetup: error: " not in result.stdout
        and "ubuntu-java17 does not support Debian GNU/Linux 13 (trixie) (debian 13) on "
        f"@chroot{trixie.path}: Debian 13 and later package no OpenJDK 17 (openjdk-21-jdk is "
        "their JDK); install openjdk-21-jdk, or a JDK 17 from another vendor (e.g. Eclipse "
        "Temurin's repository); supported: Ubuntu >=22.04, Debian ==12. Nothing was changed"
        in result.stdout
    )
    assert trixie.digest("/var/lib/dpkg/status", "/etc/environment") == before


def test_apply_over_ssh_alias_full_jdk(
    bookworm: DebianRoot,
    keypair: tuple[Path, str],
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, public = keypair
    port = bookworm.start_sshd(public)
    write_ssh_alias(isolated_home, "java-box", port, "root", key)
    # and an alias whose address comes from a `Match exec` block, as OpenSSH applies it
    # (written first: pyinfra reads ~/.ssh/config once per process)
    with open(isolated_home / ".ssh" / "config", "a") as config:
        config.write(
            f"Host matched-box\n  User root\n  IdentityFile {key}\n"
            "  StrictHostKeyChecking no\n"
            f"  UserKnownHostsFile {isolated_home / '.ssh' / 'known_hosts'}\n\n"
            f'Match host matched-box exec "test -d /"\n  HostName 127.0.0.1\n  Port {port}\n'
        )
    connected_ahead: list[bool] = []
    original = Engine.connect_ahead

    def recorded(engine: Engine) -> bool:
        connected_ahead.append(original(engine))
        return connected_ahead[-1]

    monkeypatch.setattr(Engine, "connect_ahead", recorded)

    code, doc, _ = run_json("apply", "ubuntu-java17", "-t", "java-box")
    assert code == 0, doc
    assert doc["targets"][0]["target"] == "java-box"
    assert (
        bookworm.run("dpkg-query -W -f='${db:Status-Status}' openjdk-17-jdk").stdout == "installed"
    )
    code, doc, _ = run_json("apply", "ubuntu-java17", "-t", "java-box")
    assert (code, doc["changed"]) == (0, 0)
    assert {s["verify"] for s in steps_by_name(doc).values()} == {"ok"}
    # the second run knew the target (root): connected while the recipe loaded (in this
    # process, before the inventory test below imports pyinfra_cli, which patches it for
    # gevent and so turns connecting ahead off)
    assert connected_ahead == [False, True]

    code, doc, _ = run_json("verify", "ubuntu-java17", "-t", "matched-box")
    assert (code, doc["ok"]) == (0, True), doc["targets"]  # verified through the Match block


@pytest.mark.parametrize("nopasswd", [False, True], ids=["sudo-password", "sudo-nopasswd"])
def test_non_root_user_with_sudo(
    bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path, nopasswd: bool
) -> None:
    key, public = keypair
    bookworm.add_user("dev", "s3cret-pw", public, sudo_nopasswd=nopasswd)
    port = bookworm.start_sshd(public)
    write_ssh_alias(isolated_home, "dev-box", port, "dev", key)
    stdin = None if nopasswd else "s3cret-pw\n"
    extra = () if nopasswd else ("--sudo-password-stdin",)

    code, doc, stderr = run_json(
        "apply", "ubuntu-java17", "-t", "dev-box", *HEADLESS, *extra, input=stdin
    )
    assert code == 0, (doc["targets"][0]["error"], stderr)
    checks = [c for s in steps_by_name(doc).values() for c in s["checks"]]
    assert {"kind": "login_env", "status": "ok"}.items() <= next(
        c for c in checks if c["kind"] == "login_env"
    ).items()
    assert "login session of dev sees JAVA_HOME" in str(checks)
    assert "s3cret-pw" not in str(doc) + stderr
    code, doc, _ = run_json(
        "apply", "ubuntu-java17", "-t", "dev-box", *HEADLESS, *extra, input=stdin
    )
    assert (code, doc["changed"]) == (0, 0)


def test_wrong_sudo_password_is_refused_with_exit_3(
    bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    key, public = keypair
    bookworm.add_user("dev", "right-pw", public, sudo_nopasswd=False)
    port = bookworm.start_sshd(public)
    write_ssh_alias(isolated_home, "dev-box", port, "dev", key)
    before = bookworm.digest("/var/lib/dpkg/status", "/etc/environment")
    result = envsetup(
        "apply", "ubuntu-java17", "-t", "dev-box", "--sudo-password-stdin", input="wrong-pw\n"
    )
    assert result.exit_code == 3
    assert "dev-box: sudo refused the password for dev" in result.stdout
    assert "wrong-pw" not in result.output
    assert bookworm.digest("/var/lib/dpkg/status", "/etc/environment") == before


def test_inventory_runs_hosts_in_parallel_and_reports_the_unreachable(
    bookworm: DebianRoot, tmp_path: Path
) -> None:
    from tests.integration.roots import debian_root, free_port

    with debian_root("bookworm", tmp_path / "second") as second:
        closed = free_port()
        inventory = tmp_path / "inventory.py"
        inventory.write_text(
            f"hosts = ['@chroot{bookworm.path}', '@chroot{second.path}', "
            f"('127.0.0.1', {{'ssh_port': {closed}, 'ssh_user': 'root'}})]\n"
        )
        # a process of its own: an inventory imports pyinfra_cli, which patches the whole
        # process for gevent, and pexpect's spawn in later tests hangs under those patches
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "envsetup",
                "plan",
                "ubuntu-java17",
                "-i",
                str(inventory),
                *HEADLESS,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        code, doc = done.returncode, json.loads(done.stdout)
    assert code == 3
    by_target = {t["target"]: t for t in doc["targets"]}
    assert set(by_target) == {f"@chroot{bookworm.path}", f"@chroot{second.path}", "127.0.0.1"}
    for root in (bookworm, second):
        report = by_target[f"@chroot{root.path}"]
        assert report["error"] is None
        assert [s["status"] for s in report["recipes"][0]["steps"]] == ["would change"] * 3, report
    error = by_target["127.0.0.1"]["error"]
    assert error.startswith(f"cannot connect to root@127.0.0.1:{closed}: ")


def test_sudo_password_needed_but_not_given_exit_3(
    bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    key, public = keypair
    bookworm.add_user("dev", "right-pw", public, sudo_nopasswd=False)
    write_ssh_alias(isolated_home, "dev-box", bookworm.start_sshd(public), "dev", key)
    before = bookworm.digest("/var/lib/dpkg/status", "/etc/environment")
    result = envsetup("apply", "ubuntu-java17", "-t", "dev-box")  # no TTY, no --sudo-password-stdin
    assert result.exit_code == 3
    assert "dev-box: dev is not root and sudo needs a password" in result.stdout
    assert "Fix: run from a terminal to be asked, or pass --sudo-password-stdin" in result.stdout
    assert bookworm.digest("/var/lib/dpkg/status", "/etc/environment") == before


# TEST FIXTURE, NOT A JDK: Debian 12's archive has no second JDK (no openjdk-21 in
# bookworm), so a stand-in "JDK 21" is registered the way Ubuntu 24.04's default JDK
# 21 is: every tool through update-alternatives at priority 2111 (17's is 1711).
FIXTURE_JDK = "/usr/lib/jvm/fixture-jdk-21"
# the tools Debian 12's openjdk-17-jdk-headless lists in its .jinfo (hl, jdkhl lines)
JDK_TOOLS = [
    "java",
    "jpackage",
    "keytool",
    "rmiregistry",
    "jar",
    "jarsigner",
    "javac",
    "javadoc",
    "javap",
    "jcmd",
    "jdb",
    "jdeprscan",
    "jdeps",
    "jfr",
    "jimage",
    "jinfo",
    "jlink",
    "jmap",
    "jmod",
    "jps",
    "jrunscript",
    "jshell",
    "jstack",
    "jstat",
    "jstatd",
    "serialver",
    "jhsdb",
]
FIXTURE_TOOL = """#!/bin/sh
# TEST FIXTURE (tests/integration/test_java17.py): not a JDK tool
name=$(basename "$0")
case "$name" in
  java) echo 'openjdk version "21.0.99" (test fixture)' >&2 ;;
  jlink) echo 21.0.99 ;;
  *) echo "$name 21.0.99" ;;
esac
"""


def install_fixture_jdk(root: DebianRoot) -> None:
    bin_dir = root.file(f"{FIXTURE_JDK}/bin")
    bin_dir.mkdir(parents=True)
    for tool in JDK_TOOLS:
        (bin_dir / tool).write_text(FIXTURE_TOOL)
        (bin_dir / tool).chmod(0o755)
        root.run(
            f"update-alternatives --install /usr/bin/{tool} {tool} {FIXTURE_JDK}/bin/{tool} 2111"
        )


def tool_targets(root: DebianRoot) -> dict[str, str]:
    return {
        tool: root.run(f"readlink /etc/alternatives/{tool}").stdout.strip() for tool in JDK_TOOLS
    }


def test_every_jdk_tool_moves_to_17_and_back(tmp_path: Path) -> None:
    """With a higher-priority JDK registered, every tool 17 registers moves to 17.

    Its own apt cache: the shared one's lock is often held by other tests' installs,
    and apt-get does not wait for that lock."""
    from tests.integration.roots import debian_root

    with debian_root("bookworm", tmp_path / "root", shared_apt_cache=False) as root:
        every_jdk_tool_moves_to_17_and_back(root)


def every_jdk_tool_moves_to_17_and_back(bookworm: DebianRoot) -> None:
    install_fixture_jdk(bookworm)
    on_fixture = {tool: f"{FIXTURE_JDK}/bin/{tool}" for tool in JDK_TOOLS}
    on_17 = {tool: f"{JAVA_HOME}/bin/{tool}" for tool in JDK_TOOLS}
    assert tool_targets(bookworm) == on_fixture

    code, doc, _ = run_json("apply", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert code == 0, [s["error"] for s in steps_by_name(doc).values() if s["status"] == "failed"]
    step = steps_by_name(doc)["Make 17 the default for every JDK tool"]
    assert (step["status"], step["verify"]) == ("changed", "ok"), step
    assert tool_targets(bookworm) == on_17
    # through PATH, as a user runs them: the real JDK 17 answers
    assert bookworm.run("jshell --version").stdout.startswith("jshell 17.")
    assert bookworm.run("jar --version").stdout.startswith("jar 17.")
    assert bookworm.run("jlink --version").stdout.startswith("17.")
    assert "fixture" not in bookworm.run("keytool -help 2>&1", check=False).stdout

    # back to auto mode: the fixture's 2111 wins again, and verify names the tools
    for tool in JDK_TOOLS:
        bookworm.run(f"update-alternatives --auto {tool}")
    assert tool_targets(bookworm) == on_fixture
    code, doc, _ = run_json("verify", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert code == 1
    checks = steps_by_name(doc)["Make 17 the default for every JDK tool"]["checks"]
    failed = " ".join(c["detail"] for c in checks if c["status"] == "failed")
    # the whole list names the tools left behind (the last ones shown), and the
    # sampled tools report the other JDK's version
    assert f"jhsdb -> {FIXTURE_JDK}/bin/jhsdb" in failed
    assert failed.count("version 21.0.99 does not satisfy >=17,<18") == 6  # java ... jlink

    code, doc, _ = run_json("apply", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert code == 0, doc
    assert steps_by_name(doc)["Make 17 the default for every JDK tool"]["status"] == "changed"
    assert tool_targets(bookworm) == on_17
    code, doc, _ = run_json("apply", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert (code, doc["changed"]) == (0, 0), doc

    # remove: the JDK package unregisters its tools and the other JDK takes them back;
    # the JRE's (java, keytool, ...) stay with openjdk-17-jre-headless, which apt
    # leaves installed (until autoremove). No link points at a removed file.
    code, doc, _ = run_json("remove", "ubuntu-java17", *chroot(bookworm), *HEADLESS)
    assert code == 0, doc
    after = tool_targets(bookworm)
    for tool in ("javac", "jar", "jshell", "javadoc", "jlink"):
        assert after[tool] == on_fixture[tool]
    for tool, path in after.items():
        assert path in (on_fixture[tool], on_17[tool]) and bookworm.file(path).exists(), tool

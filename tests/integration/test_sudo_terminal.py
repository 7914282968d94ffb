"""envsetup as a user with a sudo password, on a real terminal, over SSH: same answers as root.

Each run is a new process on a pseudo-terminal (pexpect), as a user runs it: the
live progress line then switches on gevent's patches, as several targets do. A
sudo password is typed into envsetup's prompt, or piped in with
``--sudo-password-stdin``. Meanwhile an unprivileged user polls every process's
``/proc/PID/cmdline`` and ``environ`` for the password.

Regression: under gevent the check batches' output came interleaved with sudo's
own stderr ("sudo: unable to resolve host ..."), which ran into the first check's
output: a package that was installed read "not installed", on every run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import write_ssh_alias
from tests.integration.roots import CACHE, DebianRoot, debian_root

pexpect = pytest.importorskip("pexpect")

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Tr0ub4dor-s3cret"
LIGHT = str(REPO / "tests" / "fixtures" / "recipes" / "sudo-light" / "recipe.yaml")
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
NOBODY = 65534

# Runs as an unprivileged user until SIGTERM: every process's command
# line and environment it may read, checked for the password. It also counts the
# sudo command lines it saw, which shows that it was watching while envsetup ran.
WATCHER = r"""
import json, os, signal, sys
secret, stop = sys.stdin.readline().rstrip("\n").encode(), []  # not in its own argv
signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
found, sudo_seen, rounds = {}, 0, 0
while not stop:
    rounds += 1
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for name in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if secret in data:
                shown = data.replace(bytes(1), b" ")[:300]
                found[f"{pid}/{name}"] = repr(shown)
            if name == "cmdline" and b"sudo" + bytes(1) + b"-H" in data:
                sudo_seen += 1
print(json.dumps({"found": sorted(found.items()), "sudo_seen": sudo_seen, "rounds": rounds}))
"""


@contextmanager
def password_watch() -> Iterator[dict[str, object]]:
    """Poll /proc as user nobody while the block runs; the result is filled in afterwards."""
    watcher = subprocess.Popen(
        # the system's Python: this one may live where user nobody cannot reach
        ["/usr/bin/python3", "-c", WATCHER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        user=NOBODY,
        group=NOBODY,
        cwd="/",
    )
    assert watcher.stdin is not None
    watcher.stdin.write(PASSWORD + "\n")
    watcher.stdin.close()
    result: dict[str, object] = {}
    try:
        yield result
    finally:
        watcher.terminate()
        assert watcher.stdout is not None
        out = watcher.stdout.read()
        watcher.wait(timeout=60)
        result.update(json.loads(out))


def sudo_box(root: DebianRoot, home: Path, alias: str, public: str, key: Path) -> None:
    """A login ``dev`` whose sudo needs a password, reached over SSH as ``alias``."""
    root.add_user("dev", PASSWORD, public, sudo_nopasswd=False)
    write_ssh_alias(home, alias, root.start_sshd(public), "dev", key)


def root_box(root: DebianRoot, home: Path, alias: str, public: str, key: Path) -> None:
    write_ssh_alias(home, alias, root.start_sshd(public), "root", key)


def on_terminal(
    home: Path, args: list[str], typed: str | None = None, stdin: Path | None = None
) -> tuple[int, str]:
    """Run envsetup on a pseudo-terminal; type ``typed`` at its sudo prompt if it asks, or
    feed ``stdin`` (a file) as its standard input. Returns the exit status and the
    transcript (where it asked, the prompt is in it)."""
    argv = [sys.executable, "-m", "envsetup", *args]
    command = " ".join(map(shell_quote, argv))
    if stdin is not None:
        command += f" <{shell_quote(str(stdin))}"
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", f"exec {command}"],
        env=os.environ | {"HOME": str(home), "TERM": "xterm"},
        cwd=str(REPO),
        encoding="utf-8",
        codec_errors="replace",
        timeout=900,
        dimensions=(60, 200),
    )
    transcript = ""
    prompts = [pexpect.EOF] + ([r"sudo password for [^\r\n]*: "] if typed is not None else [])
    while child.expect(prompts) == 1:  # each time it asks
        transcript += child.before + child.after
        child.sendline(typed)
    transcript += child.before
    child.close()
    assert child.exitstatus is not None, transcript
    return child.exitstatus, ANSI.sub("", transcript).replace("\r", "")


def shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def table(transcript: str) -> dict[str, list[tuple[str, ...]]]:
    """The report's rows (recipe, step, change, verify), by target."""
    rows: dict[str, list[tuple[str, ...]]] = {}
    target = ""
    for line in transcript.splitlines():
        header = re.match(r"^(\S+)  \[", line)
        if header:
            target = header.group(1)
            rows[target] = []
            continue
        cells = re.split(r"\s{2,}", line.strip())
        header_row = cells[0] == "RECIPE" or set(cells[0]) <= {"-"}
        if target and line.startswith("  ") and len(cells) == 4 and not header_row:
            rows[target].append(tuple(cells))
    return rows


def summary(transcript: str) -> str:
    lines = [line for line in transcript.splitlines() if re.match(r"^\d+ (steps?|checks?)\b", line)]
    return lines[-1] if lines else transcript[-2000:]


@contextmanager
def own_apt_cache_root(where: Path, seed: str = "*.deb") -> Iterator[DebianRoot]:
    """A bookworm root with an apt cache of its own, seeded with the shared cache's
    packages matching ``seed``: another run's apt holding the shared cache's lock cannot
    fail a step here (what is not in the shared cache is downloaded as usual)."""
    with debian_root("bookworm", where, shared_apt_cache=False) as root:
        archives = root.file("/var/cache/apt/archives")
        archives.mkdir(parents=True, exist_ok=True)
        for deb in (CACHE / "apt-archives").glob(seed):
            shutil.copy(deb, archives / deb.name)
        yield root


def test_java17_with_a_typed_sudo_password(
    keypair: tuple[Path, str], isolated_home: Path, tmp_path: Path
) -> None:
    """The real ubuntu-java17 (openjdk-17-jdk) through sudo, the password typed at the prompt."""
    key, public = keypair
    with own_apt_cache_root(tmp_path / "root") as bookworm:
        java_through_sudo(bookworm, public, key, isolated_home)


def java_through_sudo(bookworm: DebianRoot, public: str, key: Path, isolated_home: Path) -> None:
    sudo_box(bookworm, isolated_home, "java-box", public, key)
    target = ["-t", "dev@java-box"]
    with password_watch() as watched:
        code, out = on_terminal(isolated_home, ["apply", "ubuntu-java17", *target], PASSWORD)
        assert "sudo password for dev@java-box: " in out  # as the target was written
        assert code == 0, out
        # the only JDK there is the default already: the alternatives step changes nothing
        assert summary(out) == (
            "3 steps: 2 changed, 1 unchanged, 0 failed; verify: 3 ok, 0 failed, 0 pending."
        ), out
        installed = bookworm.run("dpkg-query -W -f='${db:Status-Status}' openjdk-17-jdk")
        assert installed.stdout == "installed"
        assert f'JAVA_HOME="{JAVA_HOME}"' in bookworm.file("/etc/environment").read_text()

        code, out = on_terminal(isolated_home, ["apply", "ubuntu-java17", *target], PASSWORD)
        assert (code, summary(out)) == (
            0,
            "3 steps: 0 changed, 3 unchanged, 0 failed; verify: 3 ok, 0 failed, 0 pending. "
            "No changes: everything was already in place.",
        ), out

        # every check of this recipe is one the login may answer itself: no password asked
        code, out = on_terminal(isolated_home, ["verify", "ubuntu-java17", *target], PASSWORD)
        assert "sudo password" not in out
        assert code == 0, out
        assert re.fullmatch(
            r"(\d+) checks of 3 steps: \1 ok, 0 failed, 0 pending; nothing was changed\.",
            summary(out),
        ), out

        code, out = on_terminal(isolated_home, ["remove", "ubuntu-java17", *target], PASSWORD)
        assert (code, summary(out)) == (
            0,
            "2 steps: 2 changed, 0 unchanged, 0 failed; verify: 2 ok, 0 failed, 0 pending.",
        ), out
    assert watched["found"] == [], watched["found"]
    assert watched["sudo_seen"], "the watcher saw no sudo command: it watched nothing"
    assert "JAVA_HOME" not in bookworm.file("/etc/environment").read_text()
    assert_no_password_left(isolated_home, bookworm)


@pytest.mark.parametrize("given", ["stdin", "typed"])
def test_same_answers_as_root_on_a_terminal_with_two_targets(
    keypair: tuple[Path, str], isolated_home: Path, tmp_path: Path, given: str
) -> None:
    """Two sudo targets (the password piped in, or typed once for both) and a root target:
    each phase the same."""
    key, public = keypair
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    with (
        own_apt_cache_root(tmp_path / "first", "hello_*.deb") as first,
        own_apt_cache_root(tmp_path / "second", "hello_*.deb") as second,
        own_apt_cache_root(tmp_path / "third", "hello_*.deb") as third,
    ):
        sudo_box(first, isolated_home, "box-a", public, key)
        sudo_box(second, isolated_home, "box-b", public, key)
        root_box(third, isolated_home, "root-box", public, key)
        # (phase, exit status, sudo password prompts): a verify asks only for the check
        # that needs root (a file only root may read), none once that file is gone; the
        # last verify fails, as everything was removed
        phases = [
            ("apply", 0, 1),
            ("apply", 0, 1),
            ("verify", 0, 1),
            ("remove", 0, 1),
            ("verify", 1, 0),
        ]
        targets = ["-t", "dev@box-a", "-t", "dev@box-b"]
        with password_watch() as watched:
            for phase, expected, prompts in phases:
                code, out = on_terminal(isolated_home, [phase, LIGHT, "-t", "root-box"])
                assert code == expected, (phase, out)
                reference = table(out)["root-box"]
                if given == "stdin":
                    code_sudo, out_sudo = on_terminal(
                        isolated_home,
                        [phase, LIGHT, *targets, "--sudo-password-stdin"],
                        stdin=password_file,
                    )
                else:
                    code_sudo, out_sudo = on_terminal(
                        isolated_home, [phase, LIGHT, *targets], typed=PASSWORD
                    )
                    asked = re.findall(r"sudo password for (\S+): ", out_sudo)
                    assert len(asked) == prompts, (phase, out_sudo)
                    assert set(asked) <= {"dev@box-a", "dev@box-b"}
                rows = table(out_sudo)
                assert rows == {"dev@box-a": reference, "dev@box-b": reference}, (
                    phase,
                    out,
                    out_sudo,
                )
                assert code_sudo == code, (phase, out, out_sudo)
                assert PASSWORD not in out_sudo
        assert watched["found"] == [], watched["found"]
        assert watched["sudo_seen"], "the watcher saw no sudo command: it watched nothing"
        for root in (first, second):
            assert "GREETING" not in root.file("/etc/environment").read_text()
            assert not root.file("/etc/sudo-light.conf").exists()
            assert_no_password_left(isolated_home, root)


def assert_no_password_left(home: Path, root: DebianRoot) -> None:
    """Nothing envsetup wrote here (cache, known targets) or left on the target holds it."""
    for base, where in ((home, "this machine's HOME"), (root.file("/tmp"), "the target's /tmp")):
        for path in base.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert PASSWORD.encode() not in path.read_bytes(), f"{path} in {where}"
    leftovers = [p.name for p in root.file("/tmp").iterdir() if p.name.startswith("envsetup-sudo")]
    assert leftovers == [], leftovers

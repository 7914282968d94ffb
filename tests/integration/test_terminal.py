"""What a person sees on a real terminal: envsetup on a pseudo-terminal (pexpect) at 120
and 60 columns, colour on and off, applying to a real Debian 12 root.

The live apt progress must appear and move while apt really downloads, unpacks and
configures packages from Debian's archive; the diff of an edited file must show;
every line must fit the width, wrapped between words.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import envsetup, write_ssh_alias
from tests.integration.roots import DebianRoot, debian_root

pexpect = pytest.importorskip("pexpect")

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ENVSETUP = str(Path(sys.executable).with_name("envsetup"))


@pytest.fixture
def fresh_bookworm(tmp_path: Path) -> Iterator[DebianRoot]:
    """A Debian 12 root with its own apt cache: packages really come from the archive."""
    with debian_root("bookworm", tmp_path / "r", shared_apt_cache=False) as root:
        yield root


def write_recipe(directory: Path, package: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    step = "{path: /etc/greeting.env, key: GREETING, value: hello}"
    (directory / "recipe.yaml").write_text(
        "name: term\nsummary: a package and a file\nsteps:\n"
        f"  - name: Install {package} from Debian's archive, with its dependencies\n"
        f"    apt: {{packages: [{package}], cache_time: 0}}\n"
        f"    verify:\n      - package: {{name: {package}}}\n"
        "  - name: Greeting in /etc/greeting.env\n"
        f"    env_file: {step}\n"
        f"    verify:\n      - env_file: {step}\n"
    )
    return directory


def screen_lines(raw: str) -> list[str]:
    """The lines left on the screen: each line as its last carriage return left it."""
    lines = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        lines.append(ANSI.sub("", line.split("\r")[-1]))
    return [line for line in lines if line.strip()]


def run_on_pty(
    args: list[str], columns: int, env: dict[str, str], timeout: float = 600
) -> tuple[int, str, list[tuple[float, str]]]:
    """Run envsetup on a pseudo-terminal; return its exit status, everything it wrote,
    and each redraw of the live line with the time it came."""
    child = pexpect.spawn(
        ENVSETUP, args, dimensions=(40, columns), env=env, encoding="utf-8", timeout=timeout
    )
    chunks: list[str] = []
    redraws: list[tuple[float, str]] = []
    while True:
        try:
            chunk = child.read_nonblocking(65536, timeout=timeout)
        except pexpect.EOF:
            break
        chunks.append(chunk)
        for part in chunk.split("\r\x1b[2K")[1:]:
            redraws.append((time.monotonic(), ANSI.sub("", part).split("\n")[0].rstrip("\r")))
    child.close()
    return child.exitstatus, "".join(chunks), redraws


def base_env(recipes: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(recipes),
        "TERM": "xterm-256color",
        "ENVSETUP_RECIPES": str(recipes),
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def test_live_apt_progress_colour_and_diff_at_120_columns(
    fresh_bookworm: DebianRoot, tmp_path: Path
) -> None:
    recipes = write_recipe(tmp_path / "recipes" / "term", "cowsay").parent
    target = f"@chroot{fresh_bookworm.path}"
    status, raw, redraws = run_on_pty(["apply", "term", "-t", target], 120, base_env(recipes))
    assert status == 0, raw

    # the live line showed apt's own progress, and it moved while apt ran
    progress = [text for _, text in redraws if "Install cowsay" in text and "%" in text]
    phases = {m.group(1) for t in progress if (m := re.search(r"\ds  (\w+)", t))}
    assert {"unpacking", "configuring"} <= phases, progress[-5:]
    assert "downloading" in phases or "preparing" in phases, phases
    assert any("8 packages" in text or "packages" in text for text in progress), progress[-3:]
    percents = {m.group(1) for t in progress if (m := re.search(r"(\d+)%$", t.rstrip()))}
    assert len(percents) >= 4, percents
    times = [when for when, text in redraws if text in progress]
    assert times[-1] - times[0] > 0.5  # seen over time, not at once at the end
    assert all(len(text) < 120 for _, text in redraws)

    # colour on a terminal: the status words are painted
    assert "\x1b[33mchanged\x1b[0m" in raw
    assert "\x1b[32m+GREETING=" in raw  # the diff's added line, green

    lines = screen_lines(raw)
    assert all(len(line) <= 120 for line in lines), [line for line in lines if len(line) > 120]
    assert '    +GREETING="hello"' in lines or '    +GREETING="hello"' in lines
    assert lines[-1].startswith("2 steps: 2 changed, 0 unchanged, 0 failed")


def test_narrow_plain_terminal_wraps_between_words(
    fresh_bookworm: DebianRoot, tmp_path: Path
) -> None:
    recipes = write_recipe(tmp_path / "recipes" / "term", "sl").parent
    target = f"@chroot{fresh_bookworm.path}"
    env = base_env(recipes, NO_COLOR="1")
    status, raw, _ = run_on_pty(["apply", "term", "-t", target], 60, env)
    assert status == 0, raw
    assert "\x1b[3" not in raw and "\x1b[1m" not in raw  # NO_COLOR: no colour at all
    lines = screen_lines(raw)
    assert all(len(line) <= 60 for line in lines), [line for line in lines if len(line) > 60]
    table = lines[lines.index(next(x for x in lines if x.lstrip().startswith("RECIPE"))) :]
    words = set(" ".join(table).split())
    # the long step name wrapped between words: every word is whole somewhere
    for word in ["Install", "sl", "from", "Debian's", "archive,", "with", "its", "dependencies"]:
        assert word in words, (word, table)
    assert any(re.search(r"\bchanged\s+ok$", line) for line in table), table

    # the same again changes nothing, and --color always paints even so
    status, raw, _ = run_on_pty(["--color", "always", "apply", "term", "-t", target], 60, env)
    assert status == 0
    assert "\x1b[2munchanged\x1b[0m" in raw
    lines = screen_lines(raw)
    assert all(len(line) <= 60 for line in lines)
    assert " ".join(lines[-3:]).endswith("No changes: everything was already in place.")


def test_a_log_gets_a_few_progress_lines_not_a_flood(
    fresh_bookworm: DebianRoot, tmp_path: Path
) -> None:
    recipes = write_recipe(tmp_path / "recipes" / "term", "cowsay").parent
    result = subprocess.run(
        [ENVSETUP, "apply", "term", "-t", f"@chroot{fresh_bookworm.path}"],
        env=base_env(recipes),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    apt_lines = [line for line in result.stderr.splitlines() if "Install cowsay" in line]
    assert 3 <= len(apt_lines) <= 7, apt_lines
    assert any(": unpacking " in line for line in apt_lines)
    assert "\x1b" not in result.stderr + result.stdout
    assert "█" not in result.stderr  # no bar in a log
    # not a terminal: no diff unless asked
    assert "+GREETING" not in result.stdout


def test_an_interrupted_install_says_what_it_left_and_the_next_apply_repairs_it(
    fresh_bookworm: DebianRoot, tmp_path: Path
) -> None:
    recipes = write_recipe(tmp_path / "recipes" / "term", "cowsay").parent
    target = f"@chroot{fresh_bookworm.path}"
    child = pexpect.spawn(
        ENVSETUP,
        ["apply", "term", "-t", target],
        dimensions=(40, 120),
        env=base_env(recipes),
        encoding="utf-8",
        timeout=600,
    )
    child.expect(r"unpacking libperl5\.36")  # perl's big packages: mid-way through dpkg
    # Ctrl-C reaches apt-get too (the same foreground process group): dpkg stops there
    child.sendintr()
    rest = child.read()
    child.close()
    assert child.exitstatus == 130
    lines = screen_lines(rest)
    text = " ".join(" ".join(lines).split())
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    assert re.search(
        r"It left \d+ packages? unpacked but not configured \([^)]+\); the next apply "
        r"finishes them \(dpkg --configure -a\) before it installs anything",
        text,
    ), text
    audit = fresh_bookworm.run("dpkg --audit", check=False).stdout
    assert "not configured" in audit or "half" in audit or "unpacked" in audit, audit

    # the next apply finishes dpkg's work first and says so
    status, raw, _ = run_on_pty(["apply", "term", "-t", target], 120, base_env(recipes))
    assert status == 0, raw
    text = " ".join(" ".join(screen_lines(raw)).split())
    assert re.search(r"repaired first: an interrupted install had left \d+ packages? ", text)
    assert fresh_bookworm.run("dpkg --audit").stdout == ""


def test_a_new_host_key_accepted_is_said(
    bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    key, public = keypair
    port = bookworm.start_sshd(public)
    ssh = isolated_home / ".ssh"
    ssh.mkdir(mode=0o700)
    (ssh / "config").write_text(
        f"Host box\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {key}\n"
        f"  StrictHostKeyChecking accept-new\n  UserKnownHostsFile {ssh / 'known_hosts'}\n"
    )
    result = envsetup("verify", "ubuntu-java17", "-t", "box")
    assert result.exit_code == 1  # nothing installed there: the checks fail
    notes = [line for line in result.stderr.splitlines() if "host key" in line]
    assert notes == [
        f"Note: accepted the new host key of [127.0.0.1]:{port} and added it to "
        f"~/.ssh/known_hosts (ssh-keygen -F '[127.0.0.1]:{port}' shows it)"
    ], result.stderr
    assert f"[127.0.0.1]:{port}" in (ssh / "known_hosts").read_text()
    # known now: no note the second time (a process of its own: pyinfra keeps the
    # known_hosts it read in memory for the rest of a process)
    again = subprocess.run(
        [ENVSETUP, "verify", "ubuntu-java17", "-t", "box"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(isolated_home), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 1, again.stderr
    assert "host key" not in again.stderr


def test_apt_progress_streams_over_ssh(
    fresh_bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path, tmp_path: Path
) -> None:
    key, public = keypair
    write_ssh_alias(isolated_home, "box", fresh_bookworm.start_sshd(public), "root", key)
    recipes = write_recipe(tmp_path / "recipes" / "term", "sl").parent
    result = subprocess.run(
        [ENVSETUP, "apply", "term", "-t", "box"],
        env={**base_env(recipes), "HOME": str(isolated_home)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    apt_lines = [line for line in result.stderr.splitlines() if line.startswith("box term: Inst")]
    phases = [line.split(": ")[2].split()[0] for line in apt_lines]
    assert phases == ["downloading", "unpacking", "configuring", "changed,"], result.stderr
    assert "(3 packages, " in apt_lines[1]  # sl and its two libraries
    assert fresh_bookworm.run("dpkg -s sl").returncode == 0
    assert not list(fresh_bookworm.file("/tmp").glob("tmp.*"))  # the FIFO's directory is gone


def test_ctrl_c_twice_aborts_at_once_with_one_clean_message(
    bookworm: DebianRoot, tmp_path: Path
) -> None:
    directory = tmp_path / "recipes" / "slow"
    directory.mkdir(parents=True)
    (directory / "recipe.yaml").write_text(
        "name: slow\nsummary: a step that ignores Ctrl-C\nsteps:\n"
        "  - name: Wait\n"
        "    shell: {run: \"trap '' INT; sleep 20; touch /done\", creates: /done}\n"
        "    verify:\n      - file: {path: /done}\n"
    )
    child = pexpect.spawn(
        ENVSETUP,
        ["apply", "slow", "-t", f"@chroot{bookworm.path}"],
        dimensions=(40, 100),
        env=base_env(directory.parent),
        encoding="utf-8",
        timeout=60,
    )
    child.expect("Wait")
    time.sleep(1)
    child.sendintr()  # the first waits for the step (which ignores Ctrl-C) to finish
    child.expect("Ctrl-C again to abort now")
    asked = time.monotonic()
    child.sendintr()  # the second aborts now
    rest = child.read()
    child.close()
    assert child.exitstatus == 130
    assert time.monotonic() - asked < 10  # not after the 20 s step
    assert "KeyboardInterrupt" not in rest and "Traceback" not in rest
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", rest)  # no gevent timestamps
    assert screen_lines(rest)[-1] == (
        "envsetup: interrupted; the step that was running may be incomplete. "
        "Run the same command again to finish."
    )

"""Layout and colour of human output, apt's status lines, and a connection error as a
person sees it on a pseudo-terminal."""

from __future__ import annotations

import io
import re
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from envsetup.apt_progress import AptProgress, bar
from envsetup.output import (
    LineProgress,
    Screen,
    color_wanted,
    for_target,
    render_report,
    table,
)
from envsetup.report import CheckReport, RecipeReport, RunReport, StepReport, TargetReport

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# what apt-get -o APT::Status-Fd=1 install cowsay printed in a Debian 12 root (trimmed)
APT_OUTPUT = """\
The following NEW packages will be installed:
  cowsay libgdbm-compat4 libgdbm6 libperl5.36 libtext-charwidth-perl netbase
dlstatus:1:0.0000:Retrieving file 1 of 8
0 upgraded, 8 newly installed, 0 to remove and 0 not upgraded.
Need to get 7414 kB of archives.
Get:1 http://deb.debian.org/debian bookworm/main amd64 perl-modules-5.36 all [2815 kB]
dlstatus:2:32.8776:Retrieving file 2 of 8
dlstatus:8:100.0000:Retrieving file 8 of 8
pmstatus:dpkg-exec:0.0000:Running dpkg
pmstatus:perl-modules-5.36:0.0000:Preparing perl-modules-5.36 (amd64)
pmstatus:perl-modules-5.36:3.0303:Unpacking perl-modules-5.36 (amd64)
pmstatus:cowsay:45.4545:Unpacking cowsay (amd64)
pmstatus:cowsay:48.4848:Installing cowsay (amd64)
pmstatus:perl-modules-5.36:51.5152:Configuring perl-modules-5.36 (amd64)
"""


def test_apt_status_lines_become_progress() -> None:
    reader = AptProgress()
    texts = [t for line in APT_OUTPUT.splitlines() if (t := reader.feed(line))]
    assert texts[0].startswith("downloading 1/8 ")
    assert any(
        t.startswith("downloading 2/8 (8 packages, 7414 kB to download) ") and t.endswith(" 33%")
        for t in texts
    )
    assert any(t.startswith("unpacking cowsay (8 packages") and t.endswith(" 45%") for t in texts)
    assert texts[-1].startswith("configuring perl-modules-5.36 ")
    # unpacked but not yet configured: what an interruption now would leave
    assert reader.left_behind() == (
        "1 package unpacked but not configured (cowsay); the next apply finishes them "
        "(dpkg --configure -a) before it installs anything"
    )


def test_cached_archives_are_not_announced_as_a_download() -> None:
    reader = AptProgress()
    reader.feed("0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.")
    reader.feed("Need to get 0 B/7414 kB of archives.")
    assert reader.summary() == "1 package"


def test_bar_fills_in_eighths() -> None:
    assert bar(0, 4) == "····"
    assert bar(1, 4) == "████"
    assert bar(0.5, 4) == "██··"
    assert bar(0.3, 4) == "█▎··"  # 9.6 eighths: one cell and two eighths
    assert len(bar(0.37, 20)) == 20


@pytest.mark.parametrize(
    ("choice", "env", "tty", "expected"),
    [
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("auto", {"FORCE_COLOR": "0"}, False, False),
        ("auto", {"TERM": "dumb"}, True, False),
        ("always", {"NO_COLOR": "1"}, False, True),
        ("never", {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_choice(
    choice: str, env: dict[str, str], tty: bool, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    assert color_wanted(choice, Stream()) is expected


def test_table_wraps_the_name_column_between_words() -> None:
    rows = [["ubuntu-java17", "Make 17 the default java and javac", "unchanged", "ok"]]
    lines = table(rows, ["RECIPE", "STEP", "CHANGE", "VERIFY"], Screen(width=60), "  ", (0, 1))
    assert all(len(line) <= 60 for line in lines)
    assert lines[1].split()[-2:] == ["unchanged", "ok"]  # status columns stay whole
    words = " ".join(line[16:].split("unchanged")[0] for line in lines[1:]).split()
    assert words == ["Make", "17", "the", "default", "java", "and", "javac"]


def report(command: str = "apply") -> RunReport:
    failed = CheckReport(
        "version",
        "java -version reports a version >=17,<18",
        "failed",
        "version 21.0.5 does not satisfy >=17,<18",
    )
    steps = [
        StepReport("Install OpenJDK 17", "apt install", "unchanged", []),
        StepReport("Make 17 the default java and javac", "alternatives", "unchanged", [failed]),
    ]
    target = TargetReport("10.0.0.5", "Ubuntu 24.04 (amd64)", label="dev@10.0.0.5:2222")
    target.recipes.append(RecipeReport("ubuntu-java17", steps))
    return RunReport(command, [target])


def test_verify_reads_as_read_only_with_expected_found_and_fix() -> None:
    text = render_report(report("verify"), Screen(width=120))
    assert "CHANGE" not in text and "unchanged" not in text
    assert "dev@10.0.0.5:2222  [Ubuntu 24.04 (amd64)]" in text
    assert "      version 21.0.5 does not satisfy >=17,<18" in text
    assert text.count("fix: envsetup apply ubuntu-java17 -t dev@10.0.0.5:2222") == 1
    assert text.splitlines()[-1] == (
        "1 check of 2 steps: 0 ok, 1 failed, 0 pending; nothing was changed."
    )


def test_a_remote_notice_says_where_it_applies() -> None:
    run = report()
    step = run.targets[0].recipes[0].steps[0]
    step.status, step.notice = "changed", "The current shell sees JAVA_HOME at the next login."
    text = render_report(run, Screen())
    assert "Note: on dev@10.0.0.5:2222: The current shell sees JAVA_HOME" in text
    assert "log in there again" in text


def test_plain_output_has_no_escape_codes_and_colour_has() -> None:
    assert "\x1b[" not in render_report(report(), Screen(color=False))
    assert "\x1b[1;31mfailed\x1b[0m" in render_report(report(), Screen(color=True))


def test_plan_has_no_verify_column_and_fits_60_columns_between_words() -> None:
    run = report("plan")
    for step in run.targets[0].recipes[0].steps:
        step.status, step.checks = "would change", []
    run.targets[0].recipes[0].steps[1].name = "JAVA_HOME in /etc/environment"
    lines = render_report(run, Screen(width=60)).splitlines()
    assert all(len(line) <= 60 for line in lines), lines
    assert "VERIFY" not in lines[1]
    body = " ".join(" ".join(lines).split())
    assert "ubuntu-java17" in body and "/etc/environment" in body  # no word cut in two


def test_singular_and_plural() -> None:
    run = RunReport("apply", [TargetReport("@local", "Debian 12")])
    run.targets[0].recipes.append(RecipeReport("r", [StepReport("s", "d", "changed")]))
    assert render_report(run).splitlines()[-1].startswith("1 step: 1 changed")


def test_a_log_gets_one_line_per_phase() -> None:
    stream = io.StringIO()
    progress = LineProgress(stream)
    reader = AptProgress()
    progress.step_started("h", "r", "s")
    for line in APT_OUTPUT.splitlines():
        if text := reader.feed(line):
            progress.step_progress("h", "r", "s", text)
    phases = [line.split(": ")[2].split()[0] for line in stream.getvalue().splitlines()]
    assert phases == ["downloading", "unpacking", "configuring"]
    assert "█" not in stream.getvalue()


@pytest.fixture
def not_ssh() -> Iterator[int]:
    """A loopback port that answers, but not with SSH (as a web server would)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()


@pytest.mark.parametrize("columns", [120, 60])
def test_a_port_that_is_not_ssh_gives_one_error_line(not_ssh: int, columns: int) -> None:
    pexpect = pytest.importorskip("pexpect")
    envsetup = str(Path(sys.executable).with_name("envsetup"))
    child = pexpect.spawn(
        envsetup,
        ["verify", "ubuntu-java17", "-t", f"dev@127.0.0.1:{not_ssh}"],
        dimensions=(40, columns),
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "TERM": "xterm", "LANG": "C.UTF-8"},
        encoding="utf-8",
        timeout=60,
    )
    output = child.read()
    child.close()
    assert child.exitstatus == 3
    screen = [ANSI.sub("", line.split("\r")[-1]) for line in output.split("\r\n")]
    screen = [line for line in screen if line.strip()]
    assert "Traceback" not in output and "paramiko" not in output and "Errno" not in output
    errors = [line for line in screen if line.lstrip().startswith("✗")]
    assert len(errors) == 1
    assert errors[0].lstrip().startswith(f"✗ cannot connect to dev@127.0.0.1:{not_ssh}: ")
    assert " ".join(" ".join(screen).split()).endswith(
        "it is not an SSH server) Nothing ran: the target could not be used (see above)."
    )
    assert all(len(line) <= columns for line in screen)


@pytest.mark.parametrize(
    ("fix", "target", "expected"),
    [
        (
            "envsetup apply ubuntu-java17",
            "dev@build-1",
            "envsetup apply ubuntu-java17 -t dev@build-1",
        ),
        (
            "envsetup apply wsl-systemd --restart (or, after applying, wsl.exe --shutdown)",
            "dev@box:2222",
            "envsetup apply wsl-systemd --restart -t dev@box:2222 (or, after applying, "
            "wsl.exe --shutdown)",
        ),
        ("envsetup apply ubuntu-java17", None, "envsetup apply ubuntu-java17"),
        ("envsetup apply ubuntu-java17", "@local", "envsetup apply ubuntu-java17"),
        ("sudo systemctl start ollama", "dev@gpu", "sudo systemctl start ollama"),
    ],
)
def test_doctor_fixes_name_the_target_they_are_for(
    fix: str, target: str | None, expected: str
) -> None:
    assert for_target(fix, target) == expected

"""Live progress of apt-get and dpkg, read from their own machine-readable status lines.

apt-get writes ``dlstatus:`` and ``pmstatus:`` lines to the file descriptor named by
``APT::Status-Fd`` (1 here: stdout, streamed back from the target line by line);
its ordinary output says how many packages it installs and how much it downloads.
``AptProgress`` turns those lines into one short progress text (phase first, then
the package and a bar) and remembers what dpkg did, so that an interrupted run can
say which packages were left unpacked but not configured.
"""

from __future__ import annotations

import re
from typing import Any

from pyinfra.api import StringCommand

STATUS_FD = "-o APT::Status-Fd=3"


def with_status_pipe(command: str) -> str:
    """``command`` with its fd 3 (apt's or dpkg's status lines) copied to stdout.

    Not ``3>&1``: apt makes its status descriptor non-blocking, and a duplicate shares
    that flag with stdout, where a maintainer script's ``echo`` then fails with EAGAIN
    ("echo: I/O error", seen with ca-certificates on a busy machine) once the pipe is
    full. A FIFO in a private directory gives apt a descriptor of its own; ``cat``
    copies it to stdout, blocking as stdout should.
    """
    return (
        'd=$(mktemp -d) && mkfifo -m 600 "$d/status" && { cat "$d/status" & } && '
        f'{{ {command} 3>"$d/status"; }}; rc=$?; wait; rm -rf "$d"; exit $rc'
    )

_COUNTS = re.compile(r"^(\d+) upgraded, (\d+) newly installed, (\d+) to remove")
_NEED = re.compile(r"^Need to get ([\d.,]+ [kMG]?B)(?:/([\d.,]+ [kMG]?B))? of archives")
_PHASES = (
    ("Preparing to configure", "configuring"),
    ("Configuring", "configuring"),
    ("Installed", "configuring"),
    ("Running post-installation trigger", "triggers"),
    ("Preparing for removal", "removing"),
    ("Removing", "removing"),
    ("Completely removing", "removing"),
    ("Preparing", "unpacking"),
    ("Unpacking", "unpacking"),
    ("Installing", "unpacking"),
)


class Streamed(StringCommand):  # type: ignore[misc]  # pyinfra's class is untyped here
    """A shell command whose output lines are handed on as they come (``print_output``).

    pyinfra prints a command's lines only where its state says so, for every host;
    this command asks for its own lines alone. The engine routes them (``engine.lines``)
    to a reader such as ``AptProgress`` instead of the terminal.
    """

    def execute(self, state: Any, host: Any, connector_arguments: Any) -> Any:
        connector_arguments.update(self.connector_arguments)
        return host.run_shell_command(
            self, print_output=True, print_input=False, **connector_arguments
        )


def bar(fraction: float, width: int = 20) -> str:
    """A progress bar of ``width`` cells, eighths of a cell filled."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part].strip() if part and full < width else ""
    return "█" * full + partial + "·" * (width - full - len(partial))


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class AptProgress:
    """Reads ``apt-get -o APT::Status-Fd=1`` output: progress to show, and dpkg's state."""

    def __init__(self) -> None:
        self.installing: int | None = None
        self.removing = 0
        self.download: str | None = None
        self.phase: str | None = None
        self.package: str | None = None
        self.percent = 0.0
        self.file: tuple[int, int] | None = None  # downloading file N of M
        self.unpacked: set[str] = set()
        self.configured: set[str] = set()
        self.errors: list[str] = []
        self.repaired: list[str] = []  # configured by dpkg --configure -a, this run

    def summary(self) -> str:
        """How much this run does: '8 packages, 7414 kB to download'."""
        parts = []
        if self.installing:
            parts.append(plural(self.installing, "package"))
        if self.removing:
            parts.append(f"{plural(self.removing, 'package')} to remove")
        if self.download:
            parts.append(f"{self.download} to download")
        return ", ".join(parts)

    def feed(self, line: str) -> str | None:
        line = line.strip()
        if counts := _COUNTS.match(line):
            upgraded, new, removed = (int(n) for n in counts.groups())
            self.installing, self.removing = upgraded + new, removed
            return self.text()
        if need := _NEED.match(line):
            # "A/B": A of the B needed is still to download (the rest is in apt's cache)
            self.download = None if need.group(1).startswith("0 ") else need.group(1)
            return self.text()
        if line.startswith("dlstatus:"):
            _, number, percent, message = (line.split(":", 3) + ["", "", ""])[:4]
            self.phase, self.percent = "downloading", _float(percent)
            if of := re.search(r"(\d+) of (\d+)", message):
                self.file = (int(of.group(1)), int(of.group(2)))
            return self.text()
        if line.startswith("pmstatus:"):
            _, package, percent, message = (line.split(":", 3) + ["", "", ""])[:4]
            if package == "dpkg-exec":
                return None
            phase = next((p for prefix, p in _PHASES if message.startswith(prefix)), None)
            if phase is None:
                return None
            self.phase, self.package, self.percent = phase, package, _float(percent)
            if message.startswith("Unpacking"):
                self.unpacked.add(package)
            elif message.startswith("Installed") or message.startswith("Configuring"):
                self.configured.add(package)
            return self.text()
        if line.startswith("processing: configure: "):  # dpkg --status-fd: a repair
            package = line.split(": ", 2)[2].split(":")[0]
            self.repaired.append(package)
            self.phase, self.package = "repairing", package
            return f"repairing: configuring {package} (left by an interrupted install)"
        if line.startswith("pmerror:"):
            self.errors.append(line.split(":", 3)[-1].strip())
        return None

    def text(self) -> str:
        """The phase first (a log shows a line where it changes), then detail and a bar."""
        summary = self.summary()
        if self.phase is None:
            return f"preparing: {summary}" if summary else "preparing"
        if self.phase == "downloading":
            doing = "downloading" + (f" {self.file[0]}/{self.file[1]}" if self.file else "")
        else:
            doing = f"{self.phase} {self.package}"
        detail = f" ({summary})" if summary else ""
        return f"{doing}{detail} {bar(self.percent / 100)} {self.percent:3.0f}%"

    def left_behind(self) -> str | None:
        """What an interrupted run leaves: packages unpacked but not configured."""
        waiting = sorted(self.unpacked - self.configured)
        if not waiting:
            return None
        shown = ", ".join(waiting[:5]) + (", …" if len(waiting) > 5 else "")
        return (
            f"{plural(len(waiting), 'package')} unpacked but not configured ({shown}); "
            "the next apply finishes them (dpkg --configure -a) before it installs anything"
        )

    def repair_note(self) -> str | None:
        """What this run repaired first, as the next run after an interruption does."""
        if not self.repaired:
            return None
        shown = ", ".join(self.repaired[:5]) + (", …" if len(self.repaired) > 5 else "")
        return (
            f"repaired first: an interrupted install had left "
            f"{plural(len(self.repaired), 'package')} unpacked but not configured ({shown}); "
            "dpkg --configure -a finished them\n"
        )

    def error(self) -> str | None:
        return "; ".join(self.errors) or None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


# the operations whose commands stream apt's status lines, and their readers
READERS = {"envsetup.ops.apt_packages": AptProgress}

# readers of apt runs going on now: an interrupted run says what each left behind
ACTIVE: dict[str, AptProgress] = {}

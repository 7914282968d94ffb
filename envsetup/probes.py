"""Running many read-only probes in one shell round trip, and splitting their output."""

from __future__ import annotations

import re
import shlex


def split_batch(output: str, marker: str) -> dict[int, tuple[int, str]]:
    """Split the output of a batch of checks into {index: (status, output)}."""
    return {
        index: (status, "\n".join(lines))
        for index, (status, lines) in split_lines(output.split("\n"), marker).items()
    }


def split_lines(lines: list[str], marker: str) -> dict[int, tuple[int, list[str]]]:
    """Split a batch's output lines into {index: (status, the lines that command printed)}.

    Each command's output is followed by a newline and its marker line, so an
    output that ended with a newline leaves one empty line before the marker.
    """
    results: dict[int, tuple[int, list[str]]] = {}
    pattern = re.compile(rf"^{re.escape(marker)} (\d+) (\d+)$")
    chunk: list[str] = []
    for line in lines:
        match = pattern.match(line)
        if match:
            if chunk and chunk[-1] == "":
                chunk.pop()
            results[int(match.group(1))] = (int(match.group(2)), chunk)
            chunk = []
        else:
            chunk.append(line)
    return results


def batch_script(commands: list[str], marker: str, parallel: bool = True) -> str:
    """One shell script that runs every check and marks where each one's output ends.

    With ``parallel`` the commands run at the same time (they only read), each into
    its own file of a temporary directory, and their outputs are printed in order;
    where no temporary directory can be made they run one after the other. Each runs
    in a subshell of its own either way (a probe's ``exit`` or ``cd`` stays its own),
    and no process is started per command beyond that: on a target serving many runs
    at once, its forks are what the batch costs.
    """
    functions = [f"envsetup_probe_{i}() {{\n{command}\n}}" for i, command in enumerate(commands)]
    mark = f"printf '\\n{marker} %d %d\\n'"
    indexes = range(len(commands))
    one_by_one = "\n".join(
        f"( envsetup_probe_{i} ) </dev/null 2>&1; {mark} {i} $?" for i in indexes
    )
    if not parallel or len(commands) < 2:
        return "\n".join([*functions, one_by_one])
    return "\n".join(
        [
            *functions,
            "if d=$(mktemp -d 2>/dev/null); then",
            # a job is a subshell: its status comes back through ``wait``
            *(f'envsetup_probe_{i} </dev/null >"$d/{i}" 2>&1 & p{i}=$!' for i in indexes),
            *(f'wait "$p{i}"; {mark} {i} $? >>"$d/{i}"' for i in indexes),
            "cat " + " ".join(f'"$d/{i}"' for i in indexes),
            'rm -rf "$d"',
            "else",
            one_by_one,
            "fi",
        ]
    )


def stdout_only(command: str) -> str:
    """The command with its standard error dropped (a fact's output is its stdout)."""
    return f"{{ {command}\n}} 2>/dev/null"


def gate(command: str, condition: str, otherwise: str) -> str:
    """The command where the shell ``condition`` holds; elsewhere it prints ``otherwise``."""
    return f"if {condition}; then\n{command}\nelse echo '{otherwise}'; fi"


# What a probe prints instead of running where the login cannot answer it without root.
NEEDS_ROOT = "@@envsetup-needs-root@@"


def root_gate(command: str, condition: str, reason: str) -> str:
    """The command, unless the shell ``condition`` holds: then a line saying it needs root.

    As root the condition never holds (root reads everything), so a gated probe is
    the probe itself wherever it runs with root's rights.
    """
    say = f"printf '%s %s\\n' {NEEDS_ROOT} {shlex.quote(reason)}"
    return f"if {condition}; then {say}; else\n{command}\nfi"


def needs_root(output: str) -> str | None:
    """Why a probe did not run (see ``root_gate``), or None where it ran."""
    first = output.lstrip("\n").partition("\n")[0]
    if first.startswith(NEEDS_ROOT):
        return first[len(NEEDS_ROOT) :].strip() or "it needs root"
    return None


def unreadable(path: str, content: bool) -> str:
    """A shell condition: the login cannot tell whether ``path`` exists (a directory on
    the way it may not search) or, with ``content``, cannot read that file.

    It walks up from the path to the nearest part that exists: a missing file in a
    directory the login may search is missing for root too, and stays a failure.
    """
    quoted = shlex.quote(path)
    readable = '[ -f "$p" ] && [ ! -r "$p" ]' if content else "false"
    return (
        f"{{ p={quoted}; "
        f'while [ "$p" != / ] && [ "$p" != . ] && [ ! -e "$p" ] && [ ! -L "$p" ]; '
        f'do p=$(dirname -- "$p"); done; '
        f'if [ "$p" = {quoted} ]; then {readable}; else [ -d "$p" ] && [ ! -x "$p" ]; fi; }}'
    )

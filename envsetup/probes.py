"""Running many read-only probes in one shell round trip, and splitting their output."""

from __future__ import annotations

import re


def split_batch(output: str, marker: str) -> dict[int, tuple[int, str]]:
    """Split the output of a batch of checks into {index: (status, output)}."""
    results: dict[int, tuple[int, str]] = {}
    pattern = re.compile(rf"^{re.escape(marker)} (\d+) (\d+)$")
    chunk: list[str] = []
    for line in output.split("\n"):
        match = pattern.match(line)
        if match:
            text = "\n".join(chunk)
            results[int(match.group(1))] = (int(match.group(2)), text.removesuffix("\n"))
            chunk = []
        else:
            chunk.append(line)
    return results


def batch_script(commands: list[str], marker: str) -> str:
    """One shell script that runs every check and marks where each one's output ends."""
    parts = []
    for index, command in enumerate(commands):
        parts.append(f"( {command}\n) </dev/null 2>&1; printf '\\n{marker} {index} %d\\n' $?")
    return "\n".join(parts)

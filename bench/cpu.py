"""CPU time for the benchmarks: a process's own, and the whole machine's."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

CORES = os.cpu_count() or 1


def machine_cpu_s() -> float:
    """CPU seconds all cores of this machine have spent busy since boot (not idle, not iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(value) for value in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    """User + system seconds of this process's waited-for children (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_counted(argv: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float, float]:
    """``subprocess.run``, with the command's CPU seconds and the machine's during it."""
    machine, own = machine_cpu_s(), children_cpu_s()
    done = subprocess.run(argv, **kwargs)
    return done, children_cpu_s() - own, machine_cpu_s() - machine

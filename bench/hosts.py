"""Many hosts at once: a converged `envsetup apply ubuntu-java17` on 1, 5 and 20 hosts.

Usage (as root): python bench/hosts.py [--counts 1 5 20] [--runs 3] [--lean]
                 [--out bench/results/hosts.json]

Each host is its own sshd instance on a loopback port (all serving one Debian 12 root),
named by a ~/.ssh/config alias and passed with repeated -t. Measured: wall time, the
peak RSS and CPU time of the envsetup process (wait4's rusage), the CPU time the whole
machine spent during the run (/proc/stat: envsetup, the sshd instances and every
command on the "hosts", which all share this machine's cores), and, for scale, how long
the hosts' java/javac checks alone take when run at once in the root. The machine's
CPU time over its core count is a floor no scheduling can beat here. Goals (issue 8):
20 hosts within 3x the wall time of one host; peak RSS of the 20-host run under 200 MB.
With --lean the hosts get the benchmark's fixture recipe instead (contenders/java17-lean:
package, JAVA_HOME line, `java -version` only), to see the engine scale with less of the
targets' own work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cpu import CORES, machine_cpu_s
from java_root import LEAN_RECIPE, REPO, envsetup_command, java_root

HERE = Path(__file__).parent


def jvm_checks_alone(root: Path, count: int, lean: bool) -> float:
    """Wall seconds of ``count`` hosts' `java -version` and `javac -version` checks (lean:
    `java -version`), run at once straight in the root: the part of a run that is the
    targets' own CPU work, which here all share this machine's cores."""
    one = "java -version 2>/dev/null & javac -version >/dev/null 2>&1 & wait"
    if lean:
        one = "java -version 2>/dev/null"
    started = time.perf_counter()
    processes = [subprocess.Popen(["chroot", str(root), "sh", "-c", one]) for _ in range(count)]
    for process in processes:
        process.wait()
    return time.perf_counter() - started


@dataclass
class Run:
    wall_s: float
    peak_rss_kib: int
    envsetup_cpu_s: float  # the envsetup process's user + system time
    machine_cpu_s: float  # every process on this machine during the run


def run_once(argv: list[str], env: dict[str, str]) -> tuple[Run, dict]:
    """One run's figures and its JSON report."""
    busy_before = machine_cpu_s()
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    busy = machine_cpu_s() - busy_before
    process.returncode = os.waitstatus_to_exitcode(status)
    report = json.loads(output)
    if process.returncode != 0 or report["changed"] != 0:
        problems = [t["error"] for t in report["targets"] if t["error"]] + [
            f"{t['target']}: {s['name']}: {s['status']} {s['error'] or ''} "
            + "; ".join(c["detail"] for c in s["checks"] if c["status"] != "ok")
            for t in report["targets"]
            for r in t["recipes"]
            for s in r["steps"]
            if s["status"] not in ("unchanged", "skipped") or s["verify"] not in ("ok", None)
        ]
        raise SystemExit(f"exit {process.returncode}, changed {report['changed']}: {problems[:3]}")
    return Run(elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, busy), report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lean", action="store_true", help="the lean fixture recipe")
    parser.add_argument("--out", default=None, help="default results/hosts[-lean].json")
    args = parser.parse_args()
    recipe = str(LEAN_RECIPE) if args.lean else "ubuntu-java17"
    out = args.out or str(HERE / "results" / ("hosts-lean.json" if args.lean else "hosts.json"))
    results = {}
    with java_root() as bench:
        for count in args.counts:
            aliases = bench.add_sshd(count)
            argv = [*envsetup_command(), "apply", recipe, "--json"]
            for alias in aliases:
                argv += ["-t", alias]
            run_once(argv, bench.env)  # warm-up
            runs = []
            for _ in range(args.runs):
                run, report = run_once(argv, bench.env)
                assert len(report["targets"]) == count
                runs.append(run)
            walls = [run.wall_s for run in runs]
            machine_cpu = statistics.median(run.machine_cpu_s for run in runs)
            floor = statistics.median(
                jvm_checks_alone(bench.root.path, count, args.lean) for _ in range(3)
            )
            results[str(count)] = {
                "wall_s": walls,
                "median_wall_s": statistics.median(walls),
                "peak_rss_mb": max(run.peak_rss_kib for run in runs) / 1024,
                "envsetup_cpu_s": statistics.median(run.envsetup_cpu_s for run in runs),
                "machine_cpu_s": machine_cpu,
                "cpu_floor_s": machine_cpu / CORES,
                "jvm_checks_alone_s": floor,
            }
            print(
                f"{count:3} hosts: median {statistics.median(walls):.2f} s, "
                f"peak RSS {results[str(count)]['peak_rss_mb']:.0f} MB, "
                f"CPU: envsetup {results[str(count)]['envsetup_cpu_s']:.2f} s, "
                f"machine {machine_cpu:.2f} s (/ {CORES} cores = {machine_cpu / CORES:.2f} s); "
                f"the JVM checks alone: {floor:.2f} s",
                file=sys.stderr,
            )
    one, many = results[str(min(args.counts))], results[str(max(args.counts))]
    document = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.node()}: {platform.platform()}, {CORES} CPUs",
        "python": platform.python_version(),
        "runs": args.runs,
        "recipe": "java17-lean (fixture)" if args.lean else "ubuntu-java17",
        "hosts": results,
        "ratio_most_to_one": many["median_wall_s"] / one["median_wall_s"],
        # the most hosts' CPU floor (machine CPU / cores) over one host's wall time
        "cpu_floor_most_to_one": many["cpu_floor_s"] / one["median_wall_s"],
        "goals": {"ratio_20_to_1": 3.0, "peak_rss_mb_20": 200},
    }
    Path(out).write_text(json.dumps(document, indent=2) + "\n")
    print(
        f"{max(args.counts)} hosts / 1 host = {document['ratio_most_to_one']:.2f} (goal <= 3); "
        f"their CPU floor alone = {document['cpu_floor_most_to_one']:.2f}"
    )


if __name__ == "__main__":
    main()

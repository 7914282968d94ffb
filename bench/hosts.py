"""Many hosts at once: a converged `envsetup apply ubuntu-java17` on 1, 5 and 20 hosts.

Usage (as root): python bench/hosts.py [--counts 1 5 20] [--runs 3]
                 [--out bench/results/hosts.json]

Each host is its own sshd instance on a loopback port (all serving one Debian 12 root),
named by a ~/.ssh/config alias and passed with repeated -t. Measured: wall time and the
peak RSS of the envsetup process (wait4's ru_maxrss). Goals (issue 8): 20 hosts within
3x the wall time of one host; peak RSS of the 20-host run under 200 MB.
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
from pathlib import Path

from java_root import REPO, envsetup_command, java_root

HERE = Path(__file__).parent


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS in KiB, and the JSON report of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
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
    return elapsed, usage.ru_maxrss, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "results" / "hosts.json"))
    args = parser.parse_args()
    results = {}
    with java_root() as bench:
        for count in args.counts:
            aliases = bench.add_sshd(count)
            argv = [*envsetup_command(), "apply", "ubuntu-java17", "--json"]
            for alias in aliases:
                argv += ["-t", alias]
            run_once(argv, bench.env)  # warm-up
            walls, rss = [], []
            for _ in range(args.runs):
                wall, peak, report = run_once(argv, bench.env)
                assert len(report["targets"]) == count
                walls.append(wall)
                rss.append(peak)
            results[str(count)] = {
                "wall_s": walls,
                "median_wall_s": statistics.median(walls),
                "peak_rss_mb": max(rss) / 1024,
            }
            print(
                f"{count:3} hosts: median {statistics.median(walls):.2f} s, "
                f"peak RSS {max(rss) / 1024:.0f} MB",
                file=sys.stderr,
            )
    one, many = results[str(min(args.counts))], results[str(max(args.counts))]
    document = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.node()}: {platform.platform()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "runs": args.runs,
        "hosts": results,
        "ratio_most_to_one": many["median_wall_s"] / one["median_wall_s"],
        "goals": {"ratio_20_to_1": 3.0, "peak_rss_mb_20": 200},
    }
    Path(args.out).write_text(json.dumps(document, indent=2) + "\n")
    print(f"{max(args.counts)} hosts / 1 host = {document['ratio_most_to_one']:.2f} (goal <= 3)")


if __name__ == "__main__":
    main()

"""Wall time of the whole local `envsetup doctor`, as a user runs it (a new process each time).

Usage: python bench/doctor_speed.py [--runs N] [--out bench/results/doctor.json]
Goal (issue 3): under 1 second on a machine with Java and Python and no Ollama.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", default="bench/results/doctor.json")
    args = parser.parse_args()
    command = [sys.executable, "-m", "envsetup", "doctor", "--json"]
    subprocess.run(command, capture_output=True, check=False)  # warm the page cache
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
    findings = json.loads(out.stdout)["findings"]
    result = {
        "benchmark": "doctor_speed",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.node()} {platform.machine()}, {platform.python_version()}",
        "runs": args.runs,
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "min_s": round(min(times), 3),
        "findings": {f["id"]: f["status"] for f in findings},
        "goal_s": 1.0,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"doctor: median {result['median_s']} s, max {result['max_s']} s over {args.runs} runs "
        f"(goal < 1 s) -> {args.out}"
    )


if __name__ == "__main__":
    main()

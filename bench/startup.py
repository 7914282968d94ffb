"""CLI start-up: wall time of `envsetup --help` and `envsetup list`, a new process each run.

Usage: python bench/startup.py [--runs N] [--envsetup PATH] [--out bench/results/startup.json]
Goal (issue 8): both under 150 ms. Use the venv's console script (not a pyenv shim,
which adds its own start-up) and an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from java_root import bench_env


def timed(argv: list[str], runs: int, cold_cache: bool = False) -> list[float]:
    """Wall times of ``runs`` new processes; ``cold_cache``: each without envsetup's cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = bench_env(XDG_CACHE_HOME=cache)
        subprocess.run(argv, capture_output=True, check=True, env=env)  # page cache, .pyc
        times = []
        for _ in range(runs):
            if cold_cache:
                shutil.rmtree(Path(cache) / "envsetup", ignore_errors=True)
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True, env=env)
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--envsetup", default=shutil.which("envsetup") or "envsetup")
    parser.add_argument("--out", default="bench/results/startup.json")
    args = parser.parse_args()
    python = Path(args.envsetup).with_name("python")
    results = {}
    for name, argv in {
        "python -c pass": [str(python), "-c", "pass"],
        "envsetup --help": [args.envsetup, "--help"],
        "envsetup list": [args.envsetup, "list"],
        "envsetup list (no cache)": [args.envsetup, "list"],
    }.items():
        times = timed(argv, args.runs, cold_cache=name.endswith("(no cache)"))
        results[name] = {
            "median_s": round(statistics.median(times), 3),
            "max_s": round(max(times), 3),
        }
        print(
            f"{name:<25} median {results[name]['median_s']:.3f} s, "
            f"max {results[name]['max_s']:.3f} s ({args.runs} runs)"
        )
    doc = {
        "benchmark": "startup",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.node()} {platform.machine()}, {platform.python_version()}",
        "goal_s": 0.150,
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""uv against pip: a fresh hf-transformers venv from the same wheels, cold and warm.

Each run makes a new venv and installs torch (the CPU wheel from a find-links
directory) and transformers into it, timed from the venv's creation to the end of
the install. pip: ``python3 -m venv`` + ``pip install``; uv: ``uv venv`` +
``uv pip install``. Cold: an empty cache of the tool's own; warm: the cache the cold
run filled. Everything else (wheels, versions, the index) is the same.

Usage: python bench/uv_vs_pip.py --uv PATH/TO/uv [--find-links /opt/wheels]
       [--torch 2.13.0+cpu] [--transformers 5.24.0] [--runs 3]
Writes bench/results/uv-vs-pip.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def once(tool: str, uv: str, work: Path, cache: Path, args: argparse.Namespace) -> float:
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["PIP_CONFIG_FILE"] = os.devnull  # no pip.conf: the same indexes as uv
    cert = ["--cert", args.cert] if args.cert else []
    wanted = [f"torch=={args.torch}", f"transformers=={args.transformers}"]
    start = time.perf_counter()
    if tool == "pip":
        run([sys.executable, "-m", "venv", str(venv)], env)
        run(
            [
                str(venv / "bin/pip"),
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--cache-dir",
                str(cache),
                "--find-links",
                args.find_links,
                *cert,
                *wanted,
            ],
            env,
        )
    else:
        run([uv, "venv", "-q", "--no-python-downloads", "--python", sys.executable, str(venv)], env)
        run(
            [
                uv,
                "pip",
                "install",
                "-q",
                "--python",
                str(venv / "bin/python"),
                "--cache-dir",
                str(cache),
                "--find-links",
                args.find_links,
                *cert,
                *wanted,
            ],
            env,
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", required=True)
    parser.add_argument("--find-links", default="/opt/wheels")
    parser.add_argument("--cert", default=os.environ.get("PIP_CERT", ""))
    parser.add_argument("--torch", default="2.13.0+cpu")
    parser.add_argument("--transformers", default="5.24.0")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        work = Path(tmp)
        for tool in ("pip", "uv"):
            cold, warm = [], []
            for _ in range(args.runs):
                cache = work / f"cache-{tool}"
                shutil.rmtree(cache, ignore_errors=True)
                cold.append(once(tool, args.uv, work, cache, args))
                warm.append(once(tool, args.uv, work, cache, args))
            results[tool] = {"cold": cold, "warm": warm}
            print(
                f"{tool}: cold median {statistics.median(cold):.1f} s, "
                f"warm median {statistics.median(warm):.1f} s",
                flush=True,
            )
    uv_version = subprocess.run([args.uv, "--version"], capture_output=True, text=True).stdout
    doc = {
        "python": platform.python_version(),
        "uv": uv_version.strip(),
        "cores": os.cpu_count(),
        "wheels": {"torch": args.torch, "transformers": args.transformers},
        "runs": results,
    }
    out = Path(__file__).parent / "results" / "uv-vs-pip.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

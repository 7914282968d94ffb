"""envsetup against a raw pyinfra deploy and ansible-playbook: a converged no-op run of
"OpenJDK 17 + JAVA_HOME + java -version" over SSH to a Debian 12 root on loopback.

Usage (as root, with the python of a venv where envsetup is installed, which brings
pyinfra's CLI): python bench/compare.py [--rounds 7] [--out bench/results/compare.json]

The contenders run side by side in one process, alternating their order every round
(A B C D E, E D C B A, ...), after one warm-up run each: envsetup's ubuntu-java17 (all
its verify checks; the target's info remembered from the run before, as on repeated
runs), the same as a first run (nothing remembered), envsetup on the same work as the
others (contenders/java17-lean, a fixture), the raw pyinfra deploy of the issue's
work (package, JAVA_HOME line, java -version), a raw pyinfra deploy of all that
ubuntu-java17 does and checks (contenders/java17_full_deploy.py: alternatives,
javac -version, the login check as well) and ansible-playbook (ansible-core from PyPI
in its own venv, /var/tmp/envsetup-bench/ansible-venv). Goals (issue 8): envsetup at
most 0.8x pyinfra's wall time and at most 0.3x ansible-playbook's. Also recorded, as
medians per run: each contender's CPU seconds (its processes, from RUSAGE_CHILDREN) and
the whole machine's meanwhile (/proc/stat), which includes sshd and the commands on the
target, since the root shares this machine; CPU time varies less than wall time with
this VM's speed.
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

from cpu import CORES, run_counted
from java_root import LEAN_RECIPE, REPO, JavaRoot, envsetup_command, java_root

HERE = Path(__file__).parent
ANSIBLE_VENV = Path("/var/tmp/envsetup-bench/ansible-venv")


def ansible_playbook() -> tuple[str, str]:
    """The ansible-playbook of the benchmark's own venv, and ansible-core's version."""
    binary = ANSIBLE_VENV / "bin" / "ansible-playbook"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
        subprocess.run(
            [str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", "ansible-core"], check=True
        )
    version = subprocess.run(
        [
            str(ANSIBLE_VENV / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('ansible-core'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return str(binary), version


def contenders(bench: JavaRoot, workdir: Path) -> dict[str, dict]:
    java_home = next(
        line
        for line in bench.root.file("/etc/environment").read_text().splitlines()
        if line.startswith("JAVA_HOME=")
    )
    inventory = workdir / "inventory.ini"
    inventory.write_text(
        f"bench-1 ansible_host=127.0.0.1 ansible_port={bench.ports[0]} ansible_user=root "
        f"ansible_ssh_private_key_file={bench.key} ansible_python_interpreter=/usr/bin/python3 "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n"
    )
    playbook, _ = ansible_playbook()
    pyinfra = str(Path(sys.executable).with_name("pyinfra"))
    no_cache = workdir / "no-cache"
    no_cache.write_text("a file where envsetup's cache directory would be\n")
    env = bench.env | {
        "BENCH_JAVA_HOME_LINE": java_home,
        "BENCH_JAVA_HOME": java_home.split("=", 1)[1].strip('"'),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
    }
    return {
        "envsetup": {
            "argv": [*envsetup_command(), "apply", "ubuntu-java17", "-t", "bench-1", "--json"],
            "env": env,
        },
        # as a first run: nothing remembered of the target (its cache dir is a file, so
        # nothing is read or written), its info read in a round trip of its own
        "envsetup-first": {
            "argv": [*envsetup_command(), "apply", "ubuntu-java17", "-t", "bench-1", "--json"],
            "env": env | {"XDG_CACHE_HOME": str(no_cache)},
        },
        # the same work as the two others (package, line, java -version): the engines alone
        "envsetup-lean": {
            "argv": [*envsetup_command(), "apply", str(LEAN_RECIPE), "-t", "bench-1", "--json"],
            "env": env,
        },
        "pyinfra": {
            "argv": [pyinfra, "-y", "bench-1", str(HERE / "contenders" / "java17_deploy.py")],
            "env": env,
        },
        # what envsetup's ubuntu-java17 does and checks, by hand in pyinfra
        "pyinfra-full": {
            "argv": [pyinfra, "-y", "bench-1", str(HERE / "contenders" / "java17_full_deploy.py")],
            "env": env,
        },
        "ansible": {
            "argv": [
                playbook,
                "-i",
                str(inventory),
                str(HERE / "contenders" / "java17_playbook.yml"),
                "-e",
                json.dumps({"java_home_line": java_home}),
            ],
            "env": env,
        },
    }


def run_once(spec: dict) -> tuple[float, float, float]:
    """Wall seconds of one run, its own CPU seconds, and the whole machine's meanwhile
    (its own, sshd's and the commands' on the target: they share this machine)."""
    started = time.perf_counter()
    done, cpu, machine_cpu = run_counted(
        spec["argv"], env=spec["env"], capture_output=True, text=True, cwd=REPO
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"{spec['argv'][0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    if spec["argv"][-1] == "--json" and json.loads(done.stdout)["changed"] != 0:
        raise SystemExit("envsetup changed something on a converged root")
    return elapsed, cpu, machine_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", default=str(HERE / "results" / "compare.json"))
    args = parser.parse_args()
    _, ansible_version = ansible_playbook()
    with java_root() as bench:
        specs = contenders(bench, bench.home)
        for spec in specs.values():
            run_once(spec)  # warm-up: caches, host keys, pyc files
        times: dict[str, list[float]] = {name: [] for name in specs}
        cpu: dict[str, list[float]] = {name: [] for name in specs}
        machine_cpu: dict[str, list[float]] = {name: [] for name in specs}
        order = list(specs)
        for round_ in range(args.rounds):
            for name in order if round_ % 2 == 0 else list(reversed(order)):
                wall, own, machine = run_once(specs[name])
                times[name].append(wall)
                cpu[name].append(own)
                machine_cpu[name].append(machine)
            print(
                f"round {round_ + 1}: " + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()),
                file=sys.stderr,
            )
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.node()}: {platform.platform()}, {CORES} CPUs",
        "python": platform.python_version(),
        "ansible_core": ansible_version,
        "rounds": args.rounds,
        "seconds": times,
        "median_s": medians,
        # CPU seconds per run: the contender's processes, and the whole machine's
        "median_cpu_s": {name: statistics.median(values) for name, values in cpu.items()},
        "median_machine_cpu_s": {
            name: statistics.median(values) for name, values in machine_cpu.items()
        },
        "ratio_envsetup_to_pyinfra": medians["envsetup"] / medians["pyinfra"],
        "ratio_envsetup_to_ansible": medians["envsetup"] / medians["ansible"],
        "ratio_envsetup_to_pyinfra_full": medians["envsetup"] / medians["pyinfra-full"],
        "ratio_lean_to_pyinfra": medians["envsetup-lean"] / medians["pyinfra"],
        "ratio_lean_to_ansible": medians["envsetup-lean"] / medians["ansible"],
        "ratio_first_to_pyinfra": medians["envsetup-first"] / medians["pyinfra"],
        "ratio_first_to_ansible": medians["envsetup-first"] / medians["ansible"],
        "goals": {"vs_pyinfra": 0.8, "vs_ansible": 0.3},
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for name, median in medians.items():
        low, high = min(times[name]), max(times[name])
        own, machine = result["median_cpu_s"][name], result["median_machine_cpu_s"][name]
        print(
            f"{name:14} median {median:.3f} s  (min {low:.3f}, max {high:.3f}); "
            f"CPU {own:.3f} s, the machine's {machine:.3f} s"
        )
    print(f"envsetup / pyinfra = {result['ratio_envsetup_to_pyinfra']:.2f} (goal <= 0.8)")
    print(f"envsetup / ansible = {result['ratio_envsetup_to_ansible']:.2f} (goal <= 0.3)")
    full = result["ratio_envsetup_to_pyinfra_full"]
    print(f"same work: envsetup / pyinfra-full = {full:.2f}")
    print(f"same work: envsetup-lean / pyinfra = {result['ratio_lean_to_pyinfra']:.2f}, ", end="")
    print(f"/ ansible = {result['ratio_lean_to_ansible']:.2f}")
    print(f"first run: envsetup-first / pyinfra = {result['ratio_first_to_pyinfra']:.2f}, ", end="")
    print(f"/ ansible = {result['ratio_first_to_ansible']:.2f}")


if __name__ == "__main__":
    main()

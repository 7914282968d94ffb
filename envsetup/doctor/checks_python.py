"""Python: version, venv and pipx, PEP 668, and the hf-transformers environment."""

from __future__ import annotations

import re

from packaging.version import Version

from envsetup.doctor.machine import Machine
from envsetup.doctor.model import Finding, Status
from envsetup.platforms import nvidia_driver
from envsetup.pytorch import NEWEST_CUDA, build_of, min_driver

GIB = 1 << 30


def python(machine: Machine) -> list[Finding]:
    python3 = machine.which("python3")
    if not python3:
        return [Finding("python.python3", "skip", "python3 is not installed")]
    real = machine.realpath(python3)
    match = re.search(r"python(3\.\d+)$", real)
    version = match.group(1) if match else None
    if version is None:
        _, out, _ = machine.run(
            [python3, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        )
        version = out.strip()
    findings = [Finding("python.python3", "ok", f"Python {version} ({python3})")]
    stdlib = f"/usr/lib/python{version}"
    if machine.exists(f"{stdlib}/EXTERNALLY-MANAGED"):
        findings.append(
            Finding(
                "python.pep668",
                "ok",
                "system Python is externally managed (PEP 668)",
                "a system-wide `pip install` fails with externally-managed-environment; use a venv",
                "envsetup apply hf-transformers (makes one)",
            )
        )
    if machine.exists(stdlib) and not machine.exists(f"{stdlib}/ensurepip"):
        findings.append(
            Finding(
                "python.venv",
                "warn",
                "python3 -m venv will fail: no ensurepip",
                fix=f"sudo apt-get install python{version}-venv",
            )
        )
    else:
        findings.append(Finding("python.venv", "ok", "venv is available"))
    if machine.which("pipx"):
        findings.append(Finding("python.pipx", "ok", "pipx is available"))
    findings += transformers(machine)
    return findings


def transformers(machine: Machine) -> list[Finding]:
    """The venv made by the hf-transformers recipe (default ~/.venvs/transformers)."""
    venv = f"{machine.home}/.venvs/transformers"
    if not machine.exists(f"{venv}/bin/python"):
        return [
            Finding(
                "python.transformers",
                "skip",
                f"no transformers environment at {venv}",
                fix="envsetup apply hf-transformers",
            )
        ]
    site = next(
        (
            f"{venv}/lib/{d}/site-packages"
            for d in machine.listdir(f"{venv}/lib")
            if d.startswith("python")
        ),
        None,
    )
    installed = {}
    for entry in machine.listdir(site) if site else []:
        if entry.endswith(".dist-info"):
            name, _, rest = entry[: -len(".dist-info")].partition("-")
            installed[name.lower()] = rest
    findings = []
    if "transformers" not in installed:
        findings.append(
            Finding(
                "python.transformers",
                "fail",
                f"{venv} has no transformers",
                fix="envsetup apply hf-transformers",
            )
        )
    else:
        torch = installed.get("torch")
        findings.append(
            Finding(
                "python.transformers",
                "ok" if torch else "fail",
                f"transformers {installed['transformers']}"
                + (
                    f", torch {torch}"
                    if torch
                    else ", but torch is missing (transformers 5 needs it)"
                ),
                fix=None if torch else "envsetup apply hf-transformers",
            )
        )
        if torch:
            findings.append(torch_build(machine, torch))
    cache = machine.env("HF_HOME") or f"{machine.home}/.cache/huggingface"
    free = machine.free_bytes(cache)
    if free is not None:
        status: Status = "ok" if free > 5 * GIB else "warn"
        findings.append(
            Finding("python.hf_cache", status, f"HF cache {cache}: {free / GIB:.1f} GiB free")
        )
    return findings


def nvidia_driver_here(machine: Machine) -> str:
    """The loaded NVIDIA driver's version, from the files uv reads ('' when none)."""
    text = machine.read("/sys/module/nvidia/version")
    if text is not None:
        return nvidia_driver(f"sys {text.strip()}")
    text = machine.read("/proc/driver/nvidia/version")
    return nvidia_driver(f"proc {text.splitlines()[0]}") if text else ""


def torch_build(machine: Machine, version: str) -> Finding:
    """Whether the venv's torch build fits the driver (a CUDA build on no driver, or on
    one too old for it, quietly runs on the CPU)."""
    driver = nvidia_driver_here(machine)
    build = build_of(version)
    here = f"NVIDIA driver {driver}" if driver else "no NVIDIA driver"
    if build == "cpu":
        if driver:
            return Finding(
                "python.torch_build",
                "warn",
                f"torch {version} is the CPU build, on a machine with {here}",
                fix="envsetup apply hf-transformers --set torch=auto",
            )
        return Finding("python.torch_build", "ok", f"torch {version}: CPU build, {here}")
    backend = build if build != "pypi" else NEWEST_CUDA
    need = min_driver(backend)
    if not driver or (need and Version(driver) < Version(need)):
        why = f"needs NVIDIA driver >= {need}" if need else "needs an NVIDIA driver"
        return Finding(
            "python.torch_build",
            "warn",
            f"torch {version} is a CUDA build ({backend}) and {why}; {here}: it runs on the CPU",
            fix="envsetup apply hf-transformers --set torch=auto",
        )
    return Finding("python.torch_build", "ok", f"torch {version}: {backend} build, {here}")

"""Reading a platform from the values a Linux machine exposes.

Pure functions over captured strings, so doctor and the platform check share
them and tests feed them real values.
"""

from __future__ import annotations

import re

SEPARATOR = "@@envsetup@@"
# the NVIDIA driver's version, found where uv's --torch-backend=auto looks, in its order
NVIDIA_DRIVER_PROBE = (
    "if [ -r /sys/module/nvidia/version ]; then echo sys $(cat /sys/module/nvidia/version);"
    " elif [ -r /proc/driver/nvidia/version ];"
    " then printf 'proc %s\\n' \"$(head -n1 /proc/driver/nvidia/version)\";"
    " else echo smi $(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null"
    " | head -n1); fi"
)
_PROBES = (
    "cat /etc/os-release 2>/dev/null",
    "dpkg --print-architecture 2>/dev/null || uname -m",
    'echo "${SUDO_USER:-$(id -un)}"',
    "id -u",
    "uname -r",
    "cat /proc/sys/kernel/osrelease 2>/dev/null",
    'echo "${WSL_DISTRO_NAME:-}"',
    "cat /proc/1/comm 2>/dev/null",
    "if [ -d /run/systemd/system ]; then echo yes; fi",
    'getent passwd "${SUDO_USER:-$(id -un)}" | cut -d: -f6',
    NVIDIA_DRIVER_PROBE,
    # display controllers (PCI class 0x03): their vendor IDs, as Ollama's install.sh
    # asks lspci (-d 10de: NVIDIA, -d 1002: AMD), but read from sysfs, which needs no tool
    "for d in /sys/bus/pci/devices/*; do case $(cat $d/class 2>/dev/null) in"
    " 0x03*) cat $d/vendor;; esac; done 2>/dev/null | sort -u | tr '\\n' ' '; echo",
    # NVIDIA Jetson: the L4T release (R35: JetPack 5, R36: JetPack 6), as install.sh reads it
    "if [ -f /etc/nv_tegra_release ]; then sed -n '1s/^# R\\([0-9]*\\) .*/\\1/p'"
    " /etc/nv_tegra_release; fi",
)
_GPU_VENDORS = {"0x10de": "nvidia", "0x1002": "amd", "0x8086": "intel"}
TARGET_INFO_COMMAND = f"; echo {SEPARATOR}; ".join(_PROBES)


def parse_target_info(output: list[str]) -> dict[str, str]:
    """The facts every run needs about a target, from TARGET_INFO_COMMAND's output."""
    parts: list[list[str]] = [[]]
    for line in output:
        if line == SEPARATOR:
            parts.append([])
        else:
            parts[-1].append(line)
    parts += [[] for _ in range(len(_PROBES) - len(parts))]
    release: dict[str, str] = {}
    for line in parts[0]:
        key, sep, value = line.partition("=")
        if sep:
            release[key.strip()] = value.strip().strip("\"'")

    def first(lines: list[str]) -> str:
        return lines[0].strip() if lines else ""

    return {
        "distro": release.get("ID", "unknown").lower(),
        "version": release.get("VERSION_ID", ""),
        "codename": release.get("VERSION_CODENAME", ""),
        "pretty": release.get("PRETTY_NAME", release.get("ID", "unknown")),
        "arch": first(parts[1]),
        "user": first(parts[2]),
        "uid": first(parts[3]),
        "kernel": first(parts[4]),
        "osrelease": first(parts[5]),
        "wsl_distro": first(parts[6]),
        "pid1": first(parts[7]),
        "systemd_booted": "yes" if first(parts[8]) == "yes" else "",
        "home": first(parts[9]),
        "nvidia": nvidia_driver(first(parts[10])),
        "gpu": " ".join(sorted({_GPU_VENDORS.get(v, v) for v in first(parts[11]).lower().split()})),
        "jetson": first(parts[12]),
    }


_DRIVER = re.compile(r"[0-9]+(?:[.][0-9]+)*")


def nvidia_driver(line: str) -> str:
    """The NVIDIA driver version from the probe's line ('' when there is none).

    ``sys 550.144.03`` (/sys/module/nvidia/version), ``proc NVRM version: NVIDIA UNIX
    Open Kernel Module for x86_64  550.144.03  Release Build ...`` (the version is the
    second field split on two spaces, as uv reads it), ``smi 550.144.03`` (nvidia-smi).
    """
    source, _, rest = line.strip().partition(" ")
    if source == "proc":
        fields = rest.split("  ")
        rest = fields[1] if len(fields) > 1 else ""
    elif source not in ("sys", "smi"):
        return ""
    rest = rest.strip()
    return rest if _DRIVER.fullmatch(rest) else ""


def wsl_version(osrelease: str) -> int:
    """0 for plain Linux, 1 for WSL 1, 2 for WSL 2, from /proc/sys/kernel/osrelease.

    WSL 1 reports the Windows build with "Microsoft" ("4.4.0-19041-Microsoft");
    WSL 2 kernels say "microsoft-standard" ("5.10.16.3-microsoft-standard-WSL2",
    older ones "4.19.104-microsoft-standard").
    """
    lowered = osrelease.strip().lower()
    if "microsoft" not in lowered:
        return 0
    return 2 if ("microsoft-standard" in lowered or "wsl2" in lowered) else 1


def systemd_booted(pid1_comm: str, run_systemd_system: bool) -> bool:
    """systemd is PID 1 and has set up /run/systemd/system (what sd_booted() checks)."""
    return pid1_comm.strip() == "systemd" and run_systemd_system

"""Reading a platform from the values a Linux machine exposes.

Pure functions over captured strings, so doctor and the platform check share
them and tests feed them real values.
"""

from __future__ import annotations


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

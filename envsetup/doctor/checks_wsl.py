"""/etc/wsl.conf as WSL parses it, systemd pending a restart, binfmt wiping WSLInterop."""

from __future__ import annotations

from envsetup.doctor.checks_platform import booted, wsl_of
from envsetup.doctor.machine import Machine
from envsetup.doctor.model import Finding
from envsetup.editors import ini

BOOLEANS = {"true", "false", "1", "0"}
# keys whose values WSL reads as booleans
BOOLEAN_KEYS = {
    ("boot", "systemd"),
    ("automount", "enabled"),
    ("automount", "mountfstab"),
    ("network", "generatehosts"),
    ("network", "generateresolvconf"),
    ("interop", "enabled"),
    ("interop", "appendwindowspath"),
}


def wsl_conf_problems(text: str) -> list[str]:
    """What WSL would stumble on: the line its parser stops at (see
    ``envsetup.editors.ini``); booleans it does not accept."""
    problems = []
    parsed = ini.parse(text)
    if parsed.stopped_at is not None:
        line = ini.physical_lines(text)[parsed.stopped_at].strip()
        problems.append(
            f"line {parsed.stopped_at + 1}: {line!r} is invalid ({parsed.why}); "
            "WSL reads nothing after it"
        )
    for section, key in sorted(BOOLEAN_KEYS):
        value = ini.get_key(text, section, key)
        if value is not None and value.lower() not in BOOLEANS:
            problems.append(f"[{section}] {key}={value} is not true/false/1/0")
    return problems


def wsl(machine: Machine) -> list[Finding]:
    if not wsl_of(machine):
        return []
    text = machine.read("/etc/wsl.conf")
    if text is None:
        return [
            Finding(
                "wsl.conf",
                "warn",
                "/etc/wsl.conf does not exist: systemd is off",
                fix="envsetup apply wsl-systemd",
            )
        ]
    findings = []
    problems = wsl_conf_problems(text)
    if problems:
        findings.append(
            Finding(
                "wsl.conf",
                "fail",
                "/etc/wsl.conf has errors",
                "; ".join(problems),
                "envsetup apply wsl-systemd",
            )
        )
    else:
        findings.append(Finding("wsl.conf", "ok", "/etc/wsl.conf parses"))
    wanted = (ini.get_key(text, "boot", "systemd") or "").strip().lower() in ("true", "1")
    is_booted = booted(machine)
    if wanted and not is_booted:
        findings.append(
            Finding(
                "wsl.systemd",
                "warn",
                "[boot] systemd=true is set but systemd is not PID 1",
                "a restart is pending: WSL reads wsl.conf when the distro starts",
                "from PowerShell: wsl.exe --shutdown (or envsetup apply wsl-systemd --restart)",
            )
        )
    elif not wanted and not is_booted:
        findings.append(
            Finding(
                "wsl.systemd",
                "fail",
                "systemd is off in /etc/wsl.conf",
                fix="envsetup apply wsl-systemd --restart",
            )
        )
    if is_booted and not machine.exists("/proc/sys/fs/binfmt_misc/WSLInterop"):
        findings.append(
            Finding(
                "wsl.interop",
                "fail",
                "Windows .exe files cannot run: WSLInterop is not registered",
                "systemd-binfmt.service wiped the WSLInterop binfmt registration",
                "envsetup apply wsl-systemd --set mask_binfmt=true --restart",
            )
        )
    return findings

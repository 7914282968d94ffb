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
    if is_booted:
        findings.append(interop(machine, text))
    return findings


BINFMT = "/proc/sys/fs/binfmt_misc"


def binfmt_protected(machine: Machine, text: str) -> bool:
    """WSL keeps its own binfmt registration ([boot] protectBinfmt, default true).

    The signs it leaves (microsoft/WSL, src/linux/init/init.cpp): a generated
    systemd-binfmt drop-in that registers WSLInterop-late (2.5.x to 2.6.1) or
    WSLInterop again (2.6.2 on, commit d43b725), or since 2.8.10 (commit f67086e) a
    read-only binfmt_misc/status bind-mounted from /run/wsl/binfmt-status-lock.
    """
    if (ini.get_key(text, "boot", "protectBinfmt") or "").strip().lower() in ("false", "0"):
        return False
    generated = [
        f"{d}/systemd-binfmt.service.d/override.conf"
        for d in ("/run/systemd/generator", "/run/systemd/generator.early")
    ]
    return any(
        machine.exists(path)
        for path in ("/run/wsl/binfmt-status-lock", f"{BINFMT}/WSLInterop-late", *generated)
    )


def interop(machine: Machine, text: str) -> Finding:
    """Windows .exe files can run: WSLInterop (or WSLInterop-late) is registered."""
    registered = [n for n in ("WSLInterop", "WSLInterop-late") if machine.exists(f"{BINFMT}/{n}")]
    if registered:
        return Finding("wsl.interop", "ok", f"Windows interop registered ({', '.join(registered)})")
    if (ini.get_key(text, "interop", "enabled") or "").strip().lower() in ("false", "0"):
        return Finding(
            "wsl.interop",
            "warn",
            "Windows .exe files cannot run: [interop] enabled=false in /etc/wsl.conf",
            "interop is off by choice; `apply --restart` then prints what to run from Windows",
        )
    if binfmt_protected(machine, text):
        return Finding(
            "wsl.interop",
            "fail",
            "Windows .exe files cannot run: WSLInterop is not registered",
            "WSL protects the registration itself here ([boot] protectBinfmt): masking "
            "systemd-binfmt would not help, and would disable qemu-user and other registrations",
            "restart WSL: from PowerShell, wsl.exe --shutdown",
        )
    protect_off = (ini.get_key(text, "boot", "protectBinfmt") or "").strip().lower()
    if protect_off in ("false", "0"):
        why = "[boot] protectBinfmt=false leaves it to systemd-binfmt.service, which wiped it"
        fix = (
            "remove protectBinfmt=false from [boot] in /etc/wsl.conf, or "
            "envsetup apply wsl-systemd --set mask_binfmt=true --restart"
        )
    else:
        why = "systemd-binfmt.service wiped it (this WSL does not protect the registration)"
        fix = (
            "update WSL (wsl --update), which protects it; or "
            "envsetup apply wsl-systemd --set mask_binfmt=true --restart "
            "(also disables qemu-user and other binfmt.d registrations)"
        )
    return Finding(
        "wsl.interop",
        "fail",
        "Windows .exe files cannot run: WSLInterop is not registered",
        why,
        fix,
    )

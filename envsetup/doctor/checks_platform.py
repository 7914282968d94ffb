"""Platform: distro, architecture, kernel, WSL 1 or 2, systemd as PID 1."""

from __future__ import annotations

from envsetup.doctor.machine import Machine
from envsetup.doctor.model import Finding, Status
from envsetup.platforms import systemd_booted, wsl_version


def os_release(machine: Machine) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (machine.read("/etc/os-release") or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    return values


def wsl_of(machine: Machine) -> int:
    version = wsl_version(machine.read("/proc/sys/kernel/osrelease") or "")
    if version == 0 and (machine.env("WSL_DISTRO_NAME") or machine.exists("/run/WSL")):
        return 2 if machine.exists("/run/WSL") else 1
    return version


def booted(machine: Machine) -> bool:
    return systemd_booted(machine.read("/proc/1/comm") or "", machine.exists("/run/systemd/system"))


def platform(machine: Machine) -> list[Finding]:
    release = os_release(machine)
    osrelease = (machine.read("/proc/sys/kernel/osrelease") or "unknown").strip()
    pretty = release.get("PRETTY_NAME", release.get("ID", "unknown Linux"))
    _, arch, _ = machine.run(["uname", "-m"])
    findings = [Finding("platform.os", "ok", f"{pretty}, {arch.strip()}, kernel {osrelease}")]
    wsl = wsl_of(machine)
    if wsl == 1:
        findings.append(
            Finding(
                "platform.wsl",
                "warn",
                "WSL 1: systemd and many Linux tools need WSL 2",
                f"kernel {osrelease} is WSL 1's translation layer",
                "from PowerShell: wsl --set-version <distro> 2",
            )
        )
    elif wsl == 2:
        distro = machine.env("WSL_DISTRO_NAME") or "this distro"
        findings.append(Finding("platform.wsl", "ok", f"WSL 2 ({distro})"))
    pid1 = (machine.read("/proc/1/comm") or "?").strip()
    if booted(machine):
        _, state, _ = machine.run(["systemctl", "is-system-running"])
        state = state.strip() or "unknown"
        status: Status = "ok" if state in ("running", "degraded", "starting") else "warn"
        findings.append(Finding("platform.systemd", status, f"systemd is PID 1 ({state})"))
    elif wsl:
        findings.append(
            Finding(
                "platform.systemd",
                "fail",
                f"systemd is not PID 1 (PID 1 is {pid1})",
                "systemctl fails with 'System has not been booted with systemd as init system'",
                "envsetup apply wsl-systemd --restart",
            )
        )
    else:
        findings.append(
            Finding(
                "platform.systemd",
                "warn",
                f"systemd is not PID 1 (PID 1 is {pid1})",
                "a container or chroot: services cannot be managed with systemctl here",
            )
        )
    return findings


def recipe_refusal(machine: Machine, name: str) -> str | None:
    """Why the built-in recipe ``name`` would refuse this machine's platform, or None.

    The same platform list ``apply`` checks, so doctor never recommends a recipe that
    would refuse to run here.
    """
    from envsetup.catalog import load_recipe  # only when a finding needs a fix

    release = os_release(machine)
    if "ID" not in release:
        return None  # no /etc/os-release: apply reads the platform itself
    distro, version = release["ID"].lower(), release.get("VERSION_ID", "")
    recipe = load_recipe(name)
    matching = [p for p in recipe.platforms if p.matches(distro, version)]
    refused = next((p.unsupported for p in matching if p.unsupported), None)
    if refused:
        return refused
    if recipe.platforms and not matching:
        supported = ", ".join(str(p) for p in recipe.platforms if not p.unsupported)
        pretty = release.get("PRETTY_NAME", distro)
        return f"{pretty} is not among its platforms ({supported})"
    return None

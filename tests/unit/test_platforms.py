"""WSL detection from captured /proc/sys/kernel/osrelease values, and the platform check."""

from __future__ import annotations

from typing import Any

import pytest

from envsetup.catalog import load_recipe
from envsetup.errors import PlatformError
from envsetup.platforms import systemd_booted, wsl_version
from envsetup.variables import check_platform

# Real values of /proc/sys/kernel/osrelease, as reported by each kind of machine.
OSRELEASE = {
    "4.4.0-19041-Microsoft": 1,  # WSL 1, Windows 10 20H1
    "4.4.0-22621-Microsoft": 1,  # WSL 1, Windows 11 22H2
    "4.19.104-microsoft-standard": 2,  # WSL 2, early kernel
    "5.10.16.3-microsoft-standard-WSL2": 2,  # WSL 2, Windows 10 inbox kernel
    "5.15.153.1-microsoft-standard-WSL2": 2,  # WSL 2 from the Store
    "6.6.36.6-microsoft-standard-WSL2": 2,  # WSL 2, 2024 kernel
    "6.1.0-26-amd64": 0,  # Debian 12
    "6.8.0-45-generic": 0,  # Ubuntu 24.04
}


@pytest.mark.parametrize(("osrelease", "version"), OSRELEASE.items())
def test_wsl_version(osrelease: str, version: int) -> None:
    assert wsl_version(osrelease + "\n") == version


def test_systemd_booted() -> None:
    assert systemd_booted("systemd\n", True)
    assert not systemd_booted("init", True)
    assert not systemd_booted("systemd", False)


def target(**overrides: Any) -> dict[str, Any]:
    base = {
        "distro": "ubuntu",
        "version": "24.04",
        "pretty": "Ubuntu 24.04.1 LTS",
        "osrelease": "5.15.153.1-microsoft-standard-WSL2",
        "kernel": "",
        "wsl": 2,
    }
    return base | overrides


def test_wsl_systemd_platforms() -> None:
    recipe = load_recipe("wsl-systemd")
    check_platform(recipe, target(), "@local")
    with pytest.raises(PlatformError) as info:
        check_platform(recipe, target(osrelease="4.4.0-19041-Microsoft", wsl=1), "@local")
    assert info.value.message == (
        "wsl-systemd needs WSL 2, but @local runs under WSL 1 (kernel 4.4.0-19041-Microsoft): "
        "systemd needs WSL 2. Nothing was changed"
    )
    assert info.value.fix == "convert the distro, from PowerShell: wsl --set-version <distro> 2"
    with pytest.raises(PlatformError) as info:
        check_platform(recipe, target(osrelease="6.8.0-45-generic", wsl=0), "box")
    assert info.value.message == (
        "wsl-systemd needs WSL 2, but box is not running under WSL (kernel 6.8.0-45-generic). "
        "Nothing was changed"
    )
    assert "pass --assume-wsl" in (info.value.fix or "")


def test_java_platforms_name_what_was_found() -> None:
    recipe = load_recipe("ubuntu-java17")
    check_platform(recipe, target(wsl=0), "@local")
    check_platform(recipe, target(distro="debian", version="12", wsl=0), "@local")
    with pytest.raises(PlatformError) as info:
        check_platform(
            recipe,
            target(distro="debian", version="13", pretty="Debian GNU/Linux 13 (trixie)", wsl=0),
            "@local",
        )
    assert info.value.message == (
        "ubuntu-java17 does not support Debian GNU/Linux 13 (trixie) (debian 13) on @local: "
        "Debian 13 and later package no OpenJDK 17 (openjdk-21-jdk is their JDK); install "
        "openjdk-21-jdk, or a JDK 17 from another vendor (e.g. Eclipse Temurin's repository); "
        "supported: Ubuntu >=22.04, Debian ==12. Nothing was changed"
    )
    # a platform listed nowhere is refused without a reason
    with pytest.raises(PlatformError) as info:
        check_platform(recipe, target(distro="fedora", version="40", pretty="Fedora", wsl=0), "x")
    assert info.value.message == (
        "ubuntu-java17 does not support Fedora (fedora 40) on x; "
        "supported: Ubuntu >=22.04, Debian ==12. Nothing was changed"
    )


def test_gpu_facts_from_the_target_info() -> None:
    """The last two probes: PCI display vendors (sysfs) and a Jetson's L4T release."""
    from envsetup.platforms import SEPARATOR, TARGET_INFO_COMMAND, parse_target_info

    assert "/sys/bus/pci/devices" in TARGET_INFO_COMMAND
    assert "/etc/nv_tegra_release" in TARGET_INFO_COMMAND
    head = ["ID=debian", SEPARATOR, "amd64"] + [SEPARATOR] * 10
    # an AMD dGPU beside Intel graphics; vendor IDs as sysfs writes them
    info = parse_target_info([*head, "0x1002 0x8086 ", SEPARATOR])
    assert (info["gpu"], info["jetson"]) == ("amd intel", "")
    info = parse_target_info([*head, "0x10de ", SEPARATOR, "36"])
    assert (info["gpu"], info["jetson"]) == ("nvidia", "36")
    info = parse_target_info([*head, "", SEPARATOR, ""])
    assert (info["gpu"], info["jetson"]) == ("", "")
    # an info remembered before these probes existed still parses
    assert parse_target_info(["ID=debian"])["gpu"] == ""


def test_target_info_command_succeeds_without_gpu_or_jetson_files() -> None:
    """Run for real on this machine: a probe that fails would make the whole fact None."""
    import subprocess

    from envsetup.platforms import TARGET_INFO_COMMAND, parse_target_info

    done = subprocess.run(["sh", "-c", TARGET_INFO_COMMAND], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    info = parse_target_info(done.stdout.splitlines())
    assert info["jetson"] == ""
    # this machine's display controllers, read the same way (a VM here: none)
    displays = subprocess.run(
        ["sh", "-c", "grep -l '^0x03' /sys/bus/pci/devices/*/class 2>/dev/null | wc -l"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert (info["gpu"] == "") == (displays == "0")

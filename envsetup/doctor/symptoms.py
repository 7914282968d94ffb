"""Known error messages: what causes them and the fix (``envsetup doctor --explain``).

A symptom may hold only on some machines (``where``): the same systemd message means
one thing on WSL and another in a container. ``explain`` takes the machine's facts
(``Context``, read by ``context_of``) and keeps the symptoms that fit it; without
facts every matching symptom is named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Context:
    """What the machine is, as far as an explanation depends on it."""

    wsl: bool = False
    systemd: bool = True  # systemd is PID 1


def context_of(machine: Any) -> Context:
    """The facts of a doctor ``Machine`` that explanations depend on."""
    from envsetup.doctor.checks_platform import booted, wsl_of

    return Context(wsl=bool(wsl_of(machine)), systemd=booted(machine))


@dataclass(frozen=True)
class Symptom:
    id: str
    pattern: re.Pattern[str]
    cause: str
    fix: str
    where: Callable[[Context], bool] | None = None  # None: on any machine

    def fix_for(self, text: str) -> str:
        """The fix, with the names the message gave (``{1}``: the pattern's group 1)."""
        match = self.pattern.search(text)
        groups = [g or "" for g in match.groups()] if match else []
        try:
            return self.fix.format("", *groups)
        except IndexError:
            return self.fix

    def cause_for(self, text: str) -> str:
        match = self.pattern.search(text)
        groups = [g or "" for g in match.groups()] if match else []
        try:
            return self.cause.format("", *groups)
        except IndexError:
            return self.cause


def _s(
    id: str,
    pattern: str,
    cause: str,
    fix: str,
    where: Callable[[Context], bool] | None = None,
) -> Symptom:
    return Symptom(id, re.compile(pattern, re.IGNORECASE), cause, fix, where)


_NO_SYSTEMD = (
    r"System has not been booted with systemd as init system|"
    r"Failed to connect to bus: (Host is down|No such file or directory)"
)


SYMPTOMS = (
    _s(
        "wsl-no-systemd",
        _NO_SYSTEMD,
        "systemd is not PID 1: WSL starts it only with [boot] systemd=true in /etc/wsl.conf, "
        "read when the distro starts",
        "envsetup apply wsl-systemd --restart (or, after applying, wsl.exe --shutdown "
        "from PowerShell)",
        where=lambda c: c.wsl and not c.systemd,
    ),
    _s(
        "container-no-systemd",
        _NO_SYSTEMD,
        "systemd is not PID 1 here: a container or chroot, where systemctl cannot manage services",
        "start the program directly (e.g. ollama serve &), or use a machine or container "
        "booted with systemd (docker run with --init=/sbin/init is not enough: it needs "
        "systemd as PID 1)",
        where=lambda c: not c.wsl and not c.systemd,
    ),
    _s(
        "systemd-bus",
        r"Failed to connect to bus: (Host is down|No such file or directory)",
        "systemd runs, but this user session has no D-Bus (a su or sudo shell, or no "
        "login session)",
        "use sudo systemctl ... for system services, or log in directly (ssh) instead of su",
        where=lambda c: c.systemd,
    ),
    _s(
        "systemd-unit-missing",
        r"Unit ([\w@.-]+?)(?:\.service)? (?:not found|could not be found)",
        "systemd knows no unit {1}: its package is not installed, or its name differs",
        "systemctl list-unit-files | grep {1}; install it first (for Ollama: envsetup "
        "apply ollama-llama3)",
    ),
    _s(
        "systemd-start-failed",
        r"Job for ([\w@.-]+) failed because",
        "the service {1} started and exited with an error",
        "journalctl -u {1} -n 50 --no-pager shows why",
    ),
    _s(
        "apt-no-package",
        r"E: Unable to locate package ([\w.+:-]+)|"
        r"E: Package '([\w.+:-]+)' has no installation candidate",
        "apt knows no package {1}{2}: the package lists are old or missing (a fresh "
        "container has none), or this release does not have it (Debian 13 has no "
        "openjdk-17-jdk)",
        "sudo apt-get update, then install again; if it is still missing, "
        "apt-cache search {1}{2} shows what this release has",
    ),
    _s(
        "apt-dpkg-error",
        r"Sub-process /usr/bin/dpkg returned an error code|dpkg: error processing package",
        "a package's install script failed, so dpkg stopped",
        "the lines above the error name the package and its script; after fixing the "
        "cause: sudo dpkg --configure -a",
    ),
    _s(
        "apt-no-pubkey",
        r"NO_PUBKEY ([0-9A-F]+)|signatures couldn't be verified",
        "a repository is signed with a key apt does not have",
        "add the repository's key under /etc/apt/keyrings and name it with signed-by= in "
        "its sources entry (apt-key is deprecated)",
    ),
    _s(
        "apt-hash-mismatch",
        r"Hash Sum mismatch|File has unexpected size",
        "a download did not match the archive's index: a proxy or a mirror mid-sync",
        "sudo apt-get clean && sudo apt-get update, then try again (or another mirror)",
    ),
    _s(
        "apt-clock",
        r"Release file for .* is not valid yet",
        "this machine's clock is behind the archive's",
        "fix the clock (timedatectl set-ntp true, or date -s), then sudo apt-get update",
    ),
    _s(
        "pip-no-version",
        r"No matching distribution found for ([\w.\[\]=<>~!,-]+)|"
        r"Could not find a version that satisfies the requirement ([\w.\[\]=<>~!,-]+)",
        "pip found no release of {1}{2} for this Python version and platform (or no network "
        "to PyPI)",
        "check the name and version pin, python3 --version, and pip index versions {1}{2}",
    ),
    _s(
        "venv-missing",
        r"ensurepip is not available|No module named venv|The virtual environment was not "
        r"created successfully",
        "Debian and Ubuntu ship venv support in a separate package",
        "sudo apt-get install python3-venv",
    ),
    _s(
        "sudo-not-sudoer",
        r"([\w.-]+) is not in the sudoers file|([\w.-]+) is not allowed to run sudo",
        "{1}{2} may not use sudo",
        "as root: usermod -aG sudo {1}{2} (then log in again), or run envsetup as root",
    ),
    _s(
        "sudo-no-tty",
        r"sudo: a terminal is required|sudo: no tty present|sudo: a password is required",
        "sudo wants a password and there is no terminal to ask on",
        "run from a terminal, or pass the password with --sudo-password-stdin",
    ),
    _s(
        "pep668",
        r"externally-managed-environment|This environment is externally managed",
        "PEP 668: Debian 12 and Ubuntu 24.04 refuse `pip install` into the system Python",
        "install into a virtual environment: envsetup apply hf-transformers, "
        "or python3 -m venv ~/.venvs/NAME",
    ),
    _s(
        "java-home",
        r"JAVA_HOME is not defined correctly|JAVA_HOME is set to an invalid directory|"
        r"JAVA_HOME environment variable is not defined correctly",
        "JAVA_HOME is unset or points at a directory that is not a JDK",
        "envsetup apply ubuntu-java17, then start a new login (or: set -a; . /etc/environment; "
        "set +a)",
    ),
    _s(
        "apt-lock",
        r"Could not get lock /var/lib/(dpkg|apt)|Unable to acquire the dpkg frontend lock|"
        r"dpkg frontend lock.*is held",
        "another apt or dpkg process (often unattended-upgrades) holds the package lock",
        "wait for it to finish (ps -C apt-get,apt,dpkg,unattended-upgr); never delete the "
        "lock files",
    ),
    _s(
        "dpkg-interrupted",
        r"dpkg was interrupted, you must manually run",
        "an earlier package install was killed half way",
        "sudo dpkg --configure -a, then run the apply again",
    ),
    _s(
        "ollama-down",
        r"(connect: connection refused|connection refused).*11434|11434.*connection refused|"
        r"could not connect to ollama app",
        "nothing listens on Ollama's port: the service is stopped or not installed",
        "sudo systemctl start ollama; to install it: envsetup apply ollama-llama3",
    ),
)


def explain(text: str, context: Context | None = None) -> list[Symptom]:
    """The known symptoms that ``text`` (an error message or a log) shows, on a machine
    like ``context``; where none fits that machine (the message came from another one),
    or without a context, every symptom the text shows."""
    shown = [symptom for symptom in SYMPTOMS if symptom.pattern.search(text)]
    if context is None:
        return shown
    fitting = [s for s in shown if s.where is None or s.where(context)]
    return fitting or shown

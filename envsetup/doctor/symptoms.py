"""Known error messages: what causes them and the fix (``envsetup doctor --explain``)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Symptom:
    id: str
    pattern: re.Pattern[str]
    cause: str
    fix: str


def _s(id: str, pattern: str, cause: str, fix: str) -> Symptom:
    return Symptom(id, re.compile(pattern, re.IGNORECASE), cause, fix)


SYMPTOMS = (
    _s(
        "wsl-no-systemd",
        r"System has not been booted with systemd as init system|"
        r"Failed to connect to bus: Host is down",
        "systemd is not PID 1: WSL starts it only with [boot] systemd=true in /etc/wsl.conf, "
        "read when the distro starts",
        "envsetup apply wsl-systemd --restart (or, after applying, wsl.exe --shutdown "
        "from PowerShell)",
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


def explain(text: str) -> list[Symptom]:
    """The known symptoms that ``text`` (an error message or a log) shows."""
    return [symptom for symptom in SYMPTOMS if symptom.pattern.search(text)]

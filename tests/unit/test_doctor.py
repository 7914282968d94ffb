"""Doctor checks against real inputs: captured /proc and /etc values in a temporary root,
captured command output, and a real HTTP server on loopback standing in for Ollama's API
(test fixture: it answers /api/version and /api/tags like Ollama does)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from envsetup.doctor import checks_java, checks_ollama, checks_platform, checks_wsl
from envsetup.doctor.machine import LocalMachine
from envsetup.doctor.model import Finding
from envsetup.doctor.run import run_checks
from envsetup.doctor.symptoms import Context, context_of, explain
from tests.helpers import build_file_tree, envsetup

# Captured on Debian 12 (this project's CI machine), openjdk-17-jdk 17.0.15+6-1~deb12u1.
DEBIAN12_JAVA_VERSION = (
    'openjdk version "17.0.15" 2025-04-15\n'
    "OpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)\n"
    "OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)\n"
)
DEBIAN12_ALTERNATIVES = """\
Name: java
Link: /usr/bin/java
Slaves:
 java.1.gz /usr/share/man/man1/java.1.gz
Status: auto
Best: /usr/lib/jvm/java-17-openjdk-amd64/bin/java
Value: /usr/lib/jvm/java-17-openjdk-amd64/bin/java

Alternative: /usr/lib/jvm/java-17-openjdk-amd64/bin/java
Priority: 1711
Slaves:
 java.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/java.1.gz
"""
# Ubuntu 24.04 with default-jdk (21) and openjdk-17 installed, as Ubuntu prints it
# (transcribed: no Ubuntu machine or archive is reachable from this project's machines).
UBUNTU2404_ALTERNATIVES = """\
Name: java
Link: /usr/bin/java
Slaves:
 java.1.gz /usr/share/man/man1/java.1.gz
Status: auto
Best: /usr/lib/jvm/java-21-openjdk-amd64/bin/java
Value: /usr/lib/jvm/java-21-openjdk-amd64/bin/java

Alternative: /usr/lib/jvm/java-17-openjdk-amd64/bin/java
Priority: 1711
Slaves:
 java.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/java.1.gz

Alternative: /usr/lib/jvm/java-21-openjdk-amd64/bin/java
Priority: 2111
Slaves:
 java.1.gz /usr/lib/jvm/java-21-openjdk-amd64/man/man1/java.1.gz
"""
UBUNTU2404_JAVA21_VERSION = (
    'openjdk version "21.0.5" 2024-10-15\n'
    "OpenJDK Runtime Environment (build 21.0.5+11-Ubuntu-1ubuntu124.04)\n"
    "OpenJDK 64-Bit Server VM (build 21.0.5+11-Ubuntu-1ubuntu124.04, mixed mode, sharing)\n"
)
DEBIAN12_OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
    'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
)


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    return {f.id: f for f in findings}


def jdk(tree: dict[str, str], major: int, name: str | None = None) -> None:
    home = f"usr/lib/jvm/{name or f'java-{major}-openjdk-amd64'}"
    tree[f"{home}/release"] = f'IMPLEMENTOR="Debian"\nJAVA_VERSION="{major}.0.5"\n'
    tree[f"{home}/bin/java"] = "#!/bin/sh\n"
    tree[f"{home}/bin/javac"] = "#!/bin/sh\n"


def make_machine(
    tmp_path: Path, tree: dict[str, str], links: dict[str, str], env: dict[str, str] | None = None
) -> LocalMachine:
    build_file_tree(tmp_path, tree)
    for path in tree:
        if "/bin/" in path:
            os.chmod(tmp_path / path, 0o755)
    for link, target in links.items():
        (tmp_path / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, tmp_path / link)
    environ = {"PATH": "/usr/bin:/bin", "HOME": "/home/dev", "USER": "dev", **(env or {})}
    return LocalMachine(str(tmp_path), environ)


def java_links(major: int, javac_major: int | None = None) -> dict[str, str]:
    javac = javac_major or major
    return {
        "usr/bin/java": "/etc/alternatives/java",
        "etc/alternatives/java": f"/usr/lib/jvm/java-{major}-openjdk-amd64/bin/java",
        "usr/bin/javac": "/etc/alternatives/javac",
        "etc/alternatives/javac": f"/usr/lib/jvm/java-{javac}-openjdk-amd64/bin/javac",
    }


def test_java_21_with_java_home_at_17_is_a_problem(tmp_path: Path) -> None:
    tree = {"etc/environment": 'PATH="/usr/bin"\nJAVA_HOME="/usr/lib/jvm/java-17-openjdk-amd64"\n'}
    jdk(tree, 17)
    jdk(tree, 21)
    machine = make_machine(tmp_path, tree, java_links(21))
    found = by_id(checks_java.java(machine))
    assert found["java.java"].summary == "java 21 (/usr/lib/jvm/java-21-openjdk-amd64/bin/java)"
    assert found["java.home"] == Finding(
        "java.home",
        "fail",
        "java is 21 but JAVA_HOME points at 17 (/usr/lib/jvm/java-17-openjdk-amd64)",
        "builds use JAVA_HOME, your shell uses java on PATH",
        "envsetup apply ubuntu-java17",
    )
    assert found["java.home.shell"].status == "warn"
    assert found["java.home.shell"].fix == "set -a; . /etc/environment; set +a"


def test_java_converged(tmp_path: Path) -> None:
    home = "/usr/lib/jvm/java-17-openjdk-amd64"
    tree = {"etc/environment": f'JAVA_HOME="{home}"\n'}
    jdk(tree, 17)
    machine = make_machine(tmp_path, tree, java_links(17), {"JAVA_HOME": home})
    statuses = {f.id: f.status for f in checks_java.java(machine)}
    assert statuses["java.java"] == statuses["java.javac"] == statuses["java.home"] == "ok"
    assert "java.home.shell" not in statuses


def test_java_mismatched_javac_duplicates_and_missing_home(tmp_path: Path) -> None:
    tree = {"etc/environment": 'JAVA_HOME="/opt/other"\nJAVA_HOME="/opt/gone"\n'}  # the last wins
    jdk(tree, 17)
    jdk(tree, 21)
    found = by_id(checks_java.java(make_machine(tmp_path, tree, java_links(21, javac_major=17))))
    assert found["java.javac"].summary == "java is 21 but javac is 17"
    assert found["java.home.duplicates"].status == "fail"
    assert found["java.home"].summary == "JAVA_HOME points at /opt/gone, which does not exist"


def test_captured_command_output_parsers() -> None:
    assert checks_java.parse_java_version(DEBIAN12_JAVA_VERSION) == 17
    assert checks_java.parse_java_version(UBUNTU2404_JAVA21_VERSION) == 21
    assert checks_java.parse_java_version('java version "1.8.0_402"') == 8
    assert checks_java.parse_java_version("javac 17.0.15") == 17
    assert checks_java.parse_alternatives(DEBIAN12_ALTERNATIVES) == (
        "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
        ["/usr/lib/jvm/java-17-openjdk-amd64/bin/java"],
    )
    value, choices = checks_java.parse_alternatives(UBUNTU2404_ALTERNATIVES)
    assert value == "/usr/lib/jvm/java-21-openjdk-amd64/bin/java" and len(choices) == 2


def wsl_tree(osrelease: str, pid1: str, wsl_conf: str | None) -> dict[str, str]:
    tree = {
        "proc/sys/kernel/osrelease": osrelease + "\n",
        "proc/1/comm": pid1 + "\n",
        "etc/os-release": DEBIAN12_OS_RELEASE,
    }
    if wsl_conf is not None:
        tree["etc/wsl.conf"] = wsl_conf
    return tree


def test_wsl2_without_systemd_names_the_recipe(tmp_path: Path) -> None:
    machine = make_machine(
        tmp_path,
        wsl_tree("5.15.153.1-microsoft-standard-WSL2", "init", "[automount]\nenabled=true\n"),
        {},
    )
    found = by_id(checks_platform.platform(machine) + checks_wsl.wsl(machine))
    assert found["platform.wsl"].summary == "WSL 2 (this distro)"
    assert found["platform.systemd"].status == "fail"
    assert found["platform.systemd"].fix == "envsetup apply wsl-systemd --restart"
    assert found["wsl.systemd"].summary == "systemd is off in /etc/wsl.conf"


def test_wsl_restart_pending_and_bad_values(tmp_path: Path) -> None:
    conf = "[boot]\nsystemd=true\n[interop]\nappendWindowsPath = yes\n"
    machine = make_machine(
        tmp_path, wsl_tree("5.15.153.1-microsoft-standard-WSL2", "init", conf), {}
    )
    found = by_id(checks_wsl.wsl(machine))
    assert found["wsl.systemd"].summary == "[boot] systemd=true is set but systemd is not PID 1"
    assert found["wsl.conf"].detail == "[interop] appendwindowspath=yes is not true/false/1/0"


def test_wsl_malformed_line_and_wsl1(tmp_path: Path) -> None:
    assert checks_wsl.wsl_conf_problems("[boot]\nsystemd=true\nthis is junk\n") == [
        "line 3: 'this is junk' is invalid (a key is letters and digits (no '_', '.' or '-'), "
        "then '='); WSL reads nothing after it"
    ]
    machine = make_machine(tmp_path, wsl_tree("4.4.0-19041-Microsoft", "init", None), {})
    found = by_id(checks_platform.platform(machine))
    assert found["platform.wsl"].status == "warn"
    assert found["platform.wsl"].fix == "from PowerShell: wsl --set-version <distro> 2"


def interop_finding(tmp_path: Path, conf: str, extra: dict[str, str]) -> Finding:
    tree = wsl_tree("5.15.153.1-microsoft-standard-WSL2", "systemd", conf)
    tree["run/systemd/system/.keep"] = ""
    tree.update(extra)
    return by_id(checks_wsl.wsl(make_machine(tmp_path, tree, {})))["wsl.interop"]


def test_binfmt_wiped_interop(tmp_path: Path) -> None:
    """A WSL that does not protect WSLInterop: masking systemd-binfmt is the way out."""
    found = interop_finding(tmp_path, "[boot]\nsystemd=true\n", {})
    assert found.status == "fail"
    assert found.fix == (
        "update WSL (wsl --update), which protects it; or envsetup apply wsl-systemd "
        "--set mask_binfmt=true --restart (also disables qemu-user and other binfmt.d "
        "registrations)"
    )


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        # WSL 2.5.x-2.6.1 registers a second entry after systemd-binfmt
        ({"proc/sys/fs/binfmt_misc/WSLInterop-late": "enabled\n"}, "ok"),
        ({"proc/sys/fs/binfmt_misc/WSLInterop": "enabled\n"}, "ok"),
        # protected (2.8.10+ status lock; a generated drop-in) but missing: no mask advice
        ({"run/wsl/binfmt-status-lock": "enabled\n"}, "fail"),
        ({"run/systemd/generator/systemd-binfmt.service.d/override.conf": "[Service]\n"}, "fail"),
    ],
)
def test_interop_where_wsl_protects_binfmt(
    tmp_path: Path, extra: dict[str, str], status: str
) -> None:
    found = interop_finding(tmp_path, "[boot]\nsystemd=true\n", extra)
    assert found.status == status
    assert "mask_binfmt" not in (found.fix or "")
    if status == "fail":
        assert found.fix == "restart WSL: from PowerShell, wsl.exe --shutdown"
        assert "masking systemd-binfmt would not help" in (found.detail or "")


def test_interop_off_by_choice_or_protection_off(tmp_path: Path) -> None:
    off = interop_finding(tmp_path / "a", "[boot]\nsystemd=true\n[interop]\nenabled=false\n", {})
    assert (off.status, off.fix) == ("warn", None)
    conf = "[boot]\nsystemd=true\nprotectBinfmt=false\n"
    lock = {"run/wsl/binfmt-status-lock": "enabled\n"}  # ignored: protection is off
    found = interop_finding(tmp_path / "b", conf, lock)
    assert found.fix == (
        "remove protectBinfmt=false from [boot] in /etc/wsl.conf, or "
        "envsetup apply wsl-systemd --set mask_binfmt=true --restart"
    )


class FakeOllama(BaseHTTPRequestHandler):
    """Test fixture: answers like Ollama's /api/version and /api/tags."""

    models: list[dict[str, Any]] = []

    def do_GET(self) -> None:  # noqa: N802
        body = {"/api/version": {"version": "0.5.7"}, "/api/tags": {"models": self.models}}.get(
            self.path
        )
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body or {}).encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def ollama_api() -> Iterator[str]:
    """The fake API, served until the test ends: a loop with a stop flag and a bounded
    join, never ``shutdown()``, which waits forever where ``serve_forever`` never ran
    (it hung the suite once, after a failed request)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOllama)
    server.timeout = 0.05
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            server.handle_request()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    stop.set()
    thread.join(timeout=5)
    server.server_close()


class PatientMachine(LocalMachine):
    """The fake API is a thread of this test process: give it the time a loaded machine
    needs (doctor's own 0.5-1 s timeouts made this test fail about one run in ten)."""

    def http_json(self, url: str, timeout: float = 1.0) -> Any:
        return super().http_json(url, timeout=10)


def test_ollama_api_answers_and_lists_models(tmp_path: Path, ollama_api: str) -> None:
    FakeOllama.models = [{"name": "llama3:latest", "size": 4661224676}]
    machine = make_machine(
        tmp_path,
        {"usr/local/bin/ollama": "#!/bin/sh\n"},
        {},
        {"OLLAMA_HOST": ollama_api, "PATH": "/usr/local/bin"},
    )
    machine = PatientMachine(str(machine.root), machine.environ)
    found = by_id(checks_ollama.ollama(machine))
    assert found["ollama.binary"].summary == "ollama binary: /usr/local/bin/ollama"
    assert found["ollama.api"].summary == f"Ollama 0.5.7 answers at http://{ollama_api}"
    assert found["ollama.models"].summary == "models: llama3:latest"


def test_ollama_installed_but_nothing_answers(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    machine = make_machine(
        tmp_path,
        {"usr/local/bin/ollama": "#!/bin/sh\n"},
        {},
        {"OLLAMA_HOST": f"127.0.0.1:{port}", "PATH": "/usr/local/bin"},
    )
    found = by_id(checks_ollama.ollama(machine))
    assert found["ollama.api"].status == "fail"
    assert found["ollama.api"].summary == f"nothing answers at http://127.0.0.1:{port}"


def test_crashing_and_slow_checks_never_take_the_doctor_down(tmp_path: Path) -> None:
    def crash(machine: Any) -> list[Finding]:
        raise RuntimeError("boom")

    def slow(machine: Any) -> list[Finding]:
        time.sleep(3)
        return []

    def fine(machine: Any) -> list[Finding]:
        return [Finding("fine", "ok", "fine")]

    started = time.monotonic()
    findings = run_checks(
        LocalMachine(str(tmp_path)), {"crash": crash, "slow": slow, "fine": fine}, timeout=0.5
    )
    assert time.monotonic() - started < 2
    found = by_id(findings)
    assert found["crash.error"].summary == "the crash check crashed: RuntimeError: boom"
    assert found["slow.error"].summary == "the slow check timed out"
    assert found["fine"].status == "ok"


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        (
            "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
            "Failed to connect to bus: Host is down",
            "wsl-no-systemd",
        ),
        (
            "error: externally-managed-environment\n\n× This environment is externally managed",
            "pep668",
        ),
        ("ERROR: JAVA_HOME is not defined correctly.", "java-home"),
        (
            "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234 (apt)",
            "apt-lock",
        ),
        (
            'Error: Post "http://127.0.0.1:11434/api/generate": dial tcp 127.0.0.1:11434: '
            "connect: connection refused",
            "ollama-down",
        ),
    ],
)
def test_known_symptoms(text: str, symptom: str) -> None:
    assert [s.id for s in explain(text, Context(wsl=True, systemd=False))] == [symptom]


NO_SYSTEMD = "System has not been booted with systemd as init system (PID 1). Can't operate."


@pytest.mark.parametrize(
    ("context", "ids"),
    [
        (Context(wsl=True, systemd=False), ["wsl-no-systemd"]),
        (Context(wsl=False, systemd=False), ["container-no-systemd"]),
        # systemd runs here: the message came from elsewhere, so every cause is named
        (Context(wsl=False, systemd=True), ["wsl-no-systemd", "container-no-systemd"]),
        (None, ["wsl-no-systemd", "container-no-systemd"]),
    ],
)
def test_systemd_symptom_depends_on_the_machine(context: Context | None, ids: list[str]) -> None:
    assert [s.id for s in explain(NO_SYSTEMD, context)] == ids


@pytest.mark.parametrize(
    ("text", "symptom", "cause", "fix"),
    [
        (
            "E: Unable to locate package openjdk-17-jdk",
            "apt-no-package",
            "apt knows no package openjdk-17-jdk: ",
            "sudo apt-get update, then install again; if it is still missing, "
            "apt-cache search openjdk-17-jdk shows what this release has",
        ),
        (
            "E: Package 'python3-venv' has no installation candidate",
            "apt-no-package",
            "apt knows no package python3-venv: ",
            "sudo apt-get update",
        ),
        (
            "E: Sub-process /usr/bin/dpkg returned an error code (1)",
            "apt-dpkg-error",
            "a package's install script failed",
            "sudo dpkg --configure -a",
        ),
        (
            "W: GPG error: https://x stable InRelease: The following signatures couldn't be "
            "verified because the public key is not available: NO_PUBKEY 0123ABCD",
            "apt-no-pubkey",
            "a repository is signed",
            "signed-by=",
        ),
        (
            "ERROR: No matching distribution found for torch==9.9",
            "pip-no-version",
            "pip found no release of torch==9.9",
            "pip index versions torch==9.9",
        ),
        (
            "The virtual environment was not created successfully because ensurepip is not "
            "available.",
            "venv-missing",
            "Debian and Ubuntu ship venv",
            "sudo apt-get install python3-venv",
        ),
        (
            "dev is not in the sudoers file.  This incident will be reported.",
            "sudo-not-sudoer",
            "dev may not use sudo",
            "usermod -aG sudo dev",
        ),
        (
            "sudo: a terminal is required to read the password; either use the -S option",
            "sudo-no-tty",
            "sudo wants a password",
            "--sudo-password-stdin",
        ),
        (
            "Failed to start ollama.service: Unit ollama.service not found.",
            "systemd-unit-missing",
            "systemd knows no unit ollama:",
            "systemctl list-unit-files | grep ollama",
        ),
        (
            "Job for ollama.service failed because the control process exited with error code.",
            "systemd-start-failed",
            "the service ollama.service started and exited",
            "journalctl -u ollama.service",
        ),
    ],
)
def test_explain_names_the_cause_and_the_exact_fix(
    text: str, symptom: str, cause: str, fix: str
) -> None:
    found = explain(text, Context(wsl=False, systemd=True))
    assert [s.id for s in found] == [symptom]
    assert found[0].cause_for(text).startswith(cause) or cause in found[0].cause_for(text)
    assert fix in found[0].fix_for(text)


def test_doctor_cli_explain_and_json() -> None:
    result = envsetup(
        "doctor",
        "--explain",
        "System has not been booted with systemd as init system (PID 1). Can't operate.",
    )
    assert result.exit_code == 0
    here = context_of(LocalMachine())
    if here.wsl and not here.systemd:
        assert "fix: envsetup apply wsl-systemd --restart" in result.stdout
    elif not here.systemd:  # a container or chroot, as a CI job often is
        assert result.stdout.startswith("✗ container-no-systemd: ")
        assert "wsl" not in result.stdout.lower()
    unknown = envsetup("doctor", "--explain", "something else entirely")
    assert unknown.exit_code == 1
    doc = json.loads(envsetup("doctor", "--json").stdout)
    assert {"id", "status", "summary", "detail", "fix"} <= set(doc["findings"][0])
    assert {f["status"] for f in doc["findings"]} <= {"ok", "warn", "fail", "skip"}


DEBIAN13_OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\n'
    'VERSION_ID="13"\nVERSION="13 (trixie)"\nVERSION_CODENAME=trixie\nID=debian\n'
)
# the first lines of Debian 12's /usr/lib/jvm/.java-1.17.0-openjdk-amd64.jinfo
# (openjdk-17-jdk-headless 17.0.15+6-1~deb12u1), captured on this project's machine
JINFO_17 = """\
name=java-17-openjdk-amd64
alias=java-1.17.0-openjdk-amd64
priority=1711
section=main

hl java /usr/lib/jvm/java-17-openjdk-amd64/bin/java
hl keytool /usr/lib/jvm/java-17-openjdk-amd64/bin/keytool
jdkhl jar /usr/lib/jvm/java-17-openjdk-amd64/bin/jar
jdkhl javac /usr/lib/jvm/java-17-openjdk-amd64/bin/javac
jdkhl jshell /usr/lib/jvm/java-17-openjdk-amd64/bin/jshell
jdk jconsole /usr/lib/jvm/java-17-openjdk-amd64/bin/jconsole
"""


def test_debian13_is_not_sent_to_a_recipe_that_refuses_it(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, {"etc/os-release": DEBIAN13_OS_RELEASE}, {})
    found = by_id(checks_java.java(machine))
    fix = found["java.java"].fix or ""
    assert not fix.startswith("envsetup apply")
    assert fix.startswith("ubuntu-java17 does not support this system: Debian 13 and later")
    assert "openjdk-21-jdk" in fix
    # Debian 12 is sent there
    debian12 = make_machine(tmp_path / "12", {"etc/os-release": DEBIAN12_OS_RELEASE}, {})
    assert by_id(checks_java.java(debian12))["java.java"].fix == "envsetup apply ubuntu-java17"


def test_jdk_tools_left_on_another_jdk(tmp_path: Path) -> None:
    """java on 17 (update-alternatives --set java), jar and jshell still on 21."""
    tree = {
        "etc/os-release": DEBIAN12_OS_RELEASE,
        "usr/lib/jvm/.java-1.17.0-openjdk-amd64.jinfo": JINFO_17,
    }
    jdk(tree, 17)
    jdk(tree, 21)
    for major in (17, 21):
        for tool in ("keytool", "jar", "jshell"):
            tree[f"usr/lib/jvm/java-{major}-openjdk-amd64/bin/{tool}"] = "#!/bin/sh\n"
    links = java_links(17)
    for tool, major in (("keytool", 17), ("jar", 21), ("jshell", 21)):
        links[f"etc/alternatives/{tool}"] = f"/usr/lib/jvm/java-{major}-openjdk-amd64/bin/{tool}"
    machine = make_machine(tmp_path, tree, links)
    value = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
    (finding,) = checks_java.jdk_tools(machine, value)
    assert finding == Finding(
        "java.tools",
        "fail",
        "2 JDK tools are not from java's JDK (java-1.17.0-openjdk-amd64)",
        "jar -> /usr/lib/jvm/java-21-openjdk-amd64/bin/jar; "
        "jshell -> /usr/lib/jvm/java-21-openjdk-amd64/bin/jshell",
        "sudo update-java-alternatives --set java-1.17.0-openjdk-amd64 "
        "(or envsetup apply ubuntu-java17)",
    )
    # jconsole (a GUI tool, not in the headless JDK) is not counted; once jar and
    # jshell move, every tool is on 17
    for tool in ("jar", "jshell"):
        os.remove(tmp_path / f"etc/alternatives/{tool}")
        os.symlink(
            f"/usr/lib/jvm/java-17-openjdk-amd64/bin/{tool}", tmp_path / f"etc/alternatives/{tool}"
        )
    (finding,) = checks_java.jdk_tools(machine, value)
    assert (finding.status, finding.summary) == (
        "ok",
        "every tool of java-1.17.0-openjdk-amd64 is the default",
    )
    assert checks_java.jdk_tools(machine, "/opt/other/bin/java") == []


def test_ollama_server_older_than_the_installed_binary(tmp_path: Path, ollama_api: str) -> None:
    """After an upgrade that did not restart the service: the binary is the stand-in
    Ollama (TEST FIXTURE, tests/fixtures/ollama) of 0.32.15, the server says 0.5.7."""
    standin = Path(__file__).parents[1] / "fixtures" / "ollama" / "standin_ollama.py"
    binary = tmp_path / "bin" / "ollama"
    binary.parent.mkdir()
    binary.write_text(standin.read_text().replace("@VERSION@", "0.32.15"))
    binary.chmod(0o755)
    FakeOllama.models = [{"name": "llama3:latest", "size": 4661224676}]
    environ = {"PATH": f"{binary.parent}:/usr/bin:/bin", "OLLAMA_HOST": ollama_api}
    found = by_id(checks_ollama.ollama(LocalMachine("/", environ)))
    assert found["ollama.upgrade"] == Finding(
        "ollama.upgrade",
        "fail",
        "the server answering is 0.5.7, the installed binary is 0.32.15",
        "an upgrade replaced the files but the old server still runs",
        "sudo systemctl restart ollama (or envsetup apply ollama-llama3)",
    )
    binary.write_text(standin.read_text().replace("@VERSION@", "0.5.7"))
    assert "ollama.upgrade" not in by_id(checks_ollama.ollama(LocalMachine("/", environ)))

"""Java: java/javac on PATH, every JDK tool on one JDK, JAVA_HOME everywhere it is read."""

from __future__ import annotations

import os
import re

from envsetup.doctor.checks_platform import recipe_refusal
from envsetup.doctor.machine import Machine
from envsetup.doctor.model import Finding, Status
from envsetup.editors.envfile import definitions, get_value

FIX = "envsetup apply ubuntu-java17"
JVM = "/usr/lib/jvm"


def java_fix(machine: Machine) -> str:
    """``envsetup apply ubuntu-java17`` where that recipe runs, else why it would refuse."""
    refusal = recipe_refusal(machine, "ubuntu-java17")
    return FIX if refusal is None else f"ubuntu-java17 does not support this system: {refusal}"


_VERSION = re.compile(r'(?:version|javac) "?(\d+)(?:\.(\d+))?')
_RELEASE = re.compile(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', re.MULTILINE)


def _major(match: re.Match[str] | None) -> int | None:
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major  # 1.8 -> 8


def jdk_major(machine: Machine, jdk_dir: str) -> int | None:
    """The major version of a JDK directory, from its ``release`` file (no JVM started)."""
    return _major(_RELEASE.search(machine.read(f"{jdk_dir}/release") or ""))


def parse_java_version(output: str) -> int | None:
    """The major version in ``java -version`` / ``javac -version`` output (1.8 -> 8)."""
    return _major(_VERSION.search(output))


def parse_alternatives(output: str) -> tuple[str | None, list[str]]:
    """``update-alternatives --query``: the current value and every registered path."""
    value = None
    choices = []
    for line in output.splitlines():
        if line.startswith("Value:"):
            value = line.split(":", 1)[1].strip()
        elif line.startswith("Alternative:"):
            choices.append(line.split(":", 1)[1].strip())
    return value, choices


def tool_major(machine: Machine, tool: str) -> tuple[str | None, int | None]:
    """Where ``tool`` (java or javac) resolves on PATH, and its major version."""
    found = machine.which(tool)
    if not found:
        return None, None
    real = machine.realpath(found)
    if real.endswith(f"/bin/{tool}"):
        major = jdk_major(machine, real[: -len(f"/bin/{tool}")])
        if major is not None:
            return real, major
    _, out, err = machine.run([found, "-version"])
    return real, parse_java_version(err + out)


def java(machine: Machine) -> list[Finding]:
    fix = java_fix(machine)
    java_path, java_v = tool_major(machine, "java")
    javac_path, javac_v = tool_major(machine, "javac")
    findings: list[Finding] = []
    if java_path is None:
        findings.append(Finding("java.java", "skip", "java is not installed", fix=fix))
    else:
        findings.append(Finding("java.java", "ok", f"java {java_v} ({java_path})"))
        if javac_path is None:
            findings.append(
                Finding("java.javac", "warn", "javac is missing: a JRE without the JDK", fix=fix)
            )
        elif javac_v != java_v:
            findings.append(
                Finding(
                    "java.javac",
                    "fail",
                    f"java is {java_v} but javac is {javac_v}",
                    f"{java_path} and {javac_path} come from different JDKs",
                    "sudo update-alternatives --config javac"
                    + (f" (or {fix})" if fix == FIX else ""),
                )
            )
        else:
            findings.append(Finding("java.javac", "ok", f"javac {javac_v} ({javac_path})"))
    findings += java_home(machine, java_v, fix)
    return findings


def java_home(machine: Machine, java_v: int | None, fix: str = FIX) -> list[Finding]:
    """JAVA_HOME in /etc/environment, in this process, and in a fresh login session."""
    env_file = machine.read("/etc/environment") or ""
    values = definitions(env_file, "JAVA_HOME")
    seen = get_value(env_file, "JAVA_HOME")  # what a login session gets: the last one
    findings: list[Finding] = []
    if seen is None:
        status: Status = "warn" if java_v is not None else "skip"
        findings.append(
            Finding("java.home", status, "JAVA_HOME is not set in /etc/environment", fix=fix)
        )
        return findings
    if len(values) > 1:
        findings.append(
            Finding(
                "java.home.duplicates",
                "fail",
                f"/etc/environment sets JAVA_HOME {len(values)} times: {', '.join(values)}",
                "pam_env uses the last one; tools that read the file differently may not",
                fix,
            )
        )
    home = seen
    home_v = jdk_major(machine, home)
    if not machine.exists(home):
        findings.append(
            Finding(
                "java.home", "fail", f"JAVA_HOME points at {home}, which does not exist", fix=fix
            )
        )
    elif not machine.exists(f"{home}/bin/javac"):
        findings.append(
            Finding(
                "java.home",
                "fail",
                f"JAVA_HOME={home} holds no bin/javac",
                "a JRE, or not a JDK directory",
                fix,
            )
        )
    elif java_v is not None and home_v is not None and home_v != java_v:
        findings.append(
            Finding(
                "java.home",
                "fail",
                f"java is {java_v} but JAVA_HOME points at {home_v} ({home})",
                "builds use JAVA_HOME, your shell uses java on PATH",
                fix,
            )
        )
    else:
        findings.append(Finding("java.home", "ok", f"JAVA_HOME={home} (JDK {home_v})"))
    current = machine.env("JAVA_HOME")
    if current != home:
        findings.append(
            Finding(
                "java.home.shell",
                "warn",
                f"this shell has JAVA_HOME={current or '(unset)'}, /etc/environment says {home}",
                "the file is read at login",
                "set -a; . /etc/environment; set +a",
            )
        )
    findings.append(login_session(machine, home, fix))
    return findings


def login_session(machine: Machine, expected: str, fix: str = FIX) -> Finding:
    if not machine.is_root:
        return Finding(
            "java.home.login",
            "skip",
            "fresh login session not checked",
            "su - needs root; run envsetup doctor with sudo to check it",
        )
    user = machine.user
    code, out, err = machine.run(["su", "-", user, "-c", 'printf "%s\\n" "${JAVA_HOME-}"'])
    seen = out.strip().splitlines()[-1] if out.strip() else ""
    if code != 0:
        return Finding(
            "java.home.login",
            "warn",
            f"could not start a login session of {user}",
            err.strip()[-200:],
        )
    if seen != expected:
        return Finding(
            "java.home.login",
            "fail",
            f"a login session of {user} sees JAVA_HOME={seen or '(unset)'}",
            f"expected {expected}; is pam_env enabled for su/login?",
            fix,
        )
    return Finding("java.home.login", "ok", f"a login session of {user} sees JAVA_HOME")


def alternatives(machine: Machine) -> list[Finding]:
    if not machine.which("update-alternatives") or not machine.which("java"):
        return []
    code, out, _ = machine.run(["update-alternatives", "--query", "java"])
    value, choices = parse_alternatives(out)
    if code != 0 or value is None:
        return [Finding("java.alternatives", "skip", "java is not managed by update-alternatives")]
    major = jdk_major(machine, os.path.dirname(os.path.dirname(value)))
    others = f"; {len(choices)} JDKs installed" if len(choices) > 1 else ""
    findings = [Finding("java.alternatives", "ok", f"default java: {value} ({major}){others}")]
    return findings + jdk_tools(machine, value)


def jinfo_tools(text: str) -> list[tuple[str, str]]:
    """(name, path) of every tool a JDK's ``.jinfo`` lists (update-java-alternatives' input)."""
    tools = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] in ("hl", "jre", "jrehl", "jdk", "jdkhl"):
            tools.append((fields[1], fields[2]))
    return tools


def jdk_tools(machine: Machine, java_value: str) -> list[Finding]:
    """Every tool the default java's JDK registers points at that JDK (jar, jshell, ...).

    ``update-alternatives --set java`` moves java alone; with a second JDK of higher
    priority the other tools stay on it.
    """
    for name in sorted(machine.listdir(JVM)):
        if not (name.startswith(".") and name.endswith(".jinfo")):
            continue
        tools = jinfo_tools(machine.read(f"{JVM}/{name}") or "")
        if ("java", java_value) not in tools:
            continue
        elsewhere = []
        for tool, path in tools:
            link = f"/etc/alternatives/{tool}"
            now = machine.realpath(link)
            if tool == "java" or not machine.exists(path) or now == link:
                continue  # not part of this JDK flavour, or not registered at all
            if now != machine.realpath(path):
                elsewhere.append(f"{tool} -> {now}")
        alias = name[1 : -len(".jinfo")]
        if not elsewhere:
            return [Finding("java.tools", "ok", f"every tool of {alias} is the default")]
        fix = java_fix(machine)
        return [
            Finding(
                "java.tools",
                "fail",
                f"{len(elsewhere)} JDK tools are not from java's JDK ({alias})",
                "; ".join(elsewhere[:6]) + ("; ..." if len(elsewhere) > 6 else ""),
                f"sudo update-java-alternatives --set {alias}"
                + (f" (or {fix})" if fix == FIX else ""),
            )
        ]
    return []

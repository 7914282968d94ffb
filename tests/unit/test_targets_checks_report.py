"""Target parsing, check kinds' judgements on captured real output, the report."""

from __future__ import annotations

import pytest

from envsetup.checks import CHECK_KINDS
from envsetup.checks.package import upstream_version
from envsetup.errors import UsageError
from envsetup.ops import TargetInfo
from envsetup.probes import batch_script, split_batch
from envsetup.report import CheckReport, RecipeReport, RunReport, StepReport, TargetReport
from envsetup.targets import TargetSpec, parse_target

# `java -version` on Debian 12 (openjdk-17-jdk-headless 17.0.15+6-1~deb12u1), captured
JAVA_VERSION_DEBIAN12 = (
    'openjdk version "17.0.15" 2025-04-15\n'
    "OpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)\n"
    "OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)\n"
)
# `java -version` on Ubuntu 24.04 with default-jdk (21), captured
JAVA_VERSION_UBUNTU2404_21 = (
    'openjdk version "21.0.5" 2024-10-15\n'
    "OpenJDK Runtime Environment (build 21.0.5+11-Ubuntu-1ubuntu124.04)\n"
    "OpenJDK 64-Bit Server VM (build 21.0.5+11-Ubuntu-1ubuntu124.04, mixed mode, sharing)\n"
)


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("@local", TargetSpec("@local")),
        ("@chroot//srv/root", TargetSpec("@chroot/srv/root")),
        ("@docker/web", TargetSpec("@docker/web")),
        ("@vagrant/default", TargetSpec("@vagrant/default")),
        ("box", TargetSpec("box")),
        ("ssh://dev@box:2222", TargetSpec("box", {"ssh_user": "dev", "ssh_port": 2222})),
        ("root@10.1.2.3", TargetSpec("10.1.2.3", {"ssh_user": "root"})),
        ("[::1]:2200", TargetSpec("::1", {"ssh_port": 2200})),
    ],
)
def test_parse_target(text: str, spec: TargetSpec) -> None:
    assert parse_target(text) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@lxd/x", "unknown connector '@lxd' in target '@lxd/x'"),
        ("@chroot", "target '@chroot' needs a name after '@chroot/'"),
        ("host:0", "port 0 in target 'host:0' is out of range"),
        ("a b", "cannot parse target 'a b'"),
        ("", "empty target"),
    ],
)
def test_parse_target_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_target(text)
    assert info.value.message == message


def evaluate(kind: str, args: dict, status: int, output: str) -> tuple[str, str]:
    spec = CHECK_KINDS[kind]
    full = {k: f.default for k, f in spec.fields.items()} | args
    result = spec.evaluate(full, status, output)
    return result.status, result.detail


def test_version_check_on_real_java_output() -> None:
    args = {"run": "java -version", "regex": r'version "([0-9][0-9.]*)', "spec": ">=17,<18"}
    assert evaluate("version", args, 0, JAVA_VERSION_DEBIAN12) == (
        "ok",
        "version 17.0.15 satisfies >=17,<18",
    )
    assert evaluate("version", args, 0, JAVA_VERSION_UBUNTU2404_21) == (
        "failed",
        "version 21.0.5 does not satisfy >=17,<18",
    )
    assert evaluate("version", args, 127, "sh: 1: java: not found") == (
        "failed",
        "expected a version >=17,<18 from `java -version`, found none in its output: "
        "sh: 1: java: not found",
    )


def test_version_check_reads_only_the_chosen_stream() -> None:
    spec = CHECK_KINDS["version"]
    args = {"run": "java -version", "regex": "x", "spec": ">=1", "stream": "stderr"}
    assert spec.command(args) == "{ java -version; } 2>&1 >/dev/null"


def test_package_and_file_and_login_env_checks() -> None:
    assert upstream_version("1:17.0.15+6-1~deb12u1") is not None
    assert str(upstream_version("17.0.15+6-1~deb12u1")) == "17.0.15"
    assert evaluate(
        "package", {"name": "jdk", "version": ">=17,<18"}, 0, "installed 17.0.15+6-1~deb12u1"
    ) == ("ok", "jdk 17.0.15+6-1~deb12u1 is installed")
    assert evaluate("package", {"name": "jdk"}, 0, "") == ("failed", "jdk is not installed")
    assert evaluate("package", {"name": "jdk", "installed": False}, 0, "config-files 17") == (
        "ok",
        "jdk is not installed",
    )
    assert evaluate(
        "file", {"path": "/e", "contains": "^A=1$"}, 0, "exists 644 root\nB=2\nA=1\n"
    ) == ("ok", "/e exists")
    assert evaluate("file", {"path": "/e", "mode": "0600"}, 0, "exists 644 root\n") == (
        "failed",
        "/e has mode 0644, expected 0600",
    )
    assert evaluate("file", {"path": "/e"}, 0, "missing\n") == ("failed", "/e does not exist")
    login = {"user": "dev", "key": "JAVA_HOME", "value": "/jdk"}
    assert evaluate("login_env", login, 0, "motd\nENVSETUP-LOGIN-ENV:/jdk\n") == (
        "ok",
        "a login session of dev sees JAVA_HOME=/jdk",
    )
    assert evaluate("login_env", login, 0, "ENVSETUP-LOGIN-ENV:<unset>\n") == (
        "failed",
        "a login session of dev sees JAVA_HOME=<unset>, expected /jdk",
    )


def test_batch_script_round_trip() -> None:
    import subprocess

    script = batch_script(["echo one; echo err >&2", "exit 3", "printf 'no newline'"], "@@M@@")
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True).stdout
    assert split_batch(out, "@@M@@") == {0: (0, "one\nerr"), 1: (3, ""), 2: (0, "no newline")}


def test_target_info_parses_os_release() -> None:
    output = [
        'PRETTY_NAME="Ubuntu 24.04.1 LTS"',
        "ID=ubuntu",
        'VERSION_ID="24.04"',
        "VERSION_CODENAME=noble",
        "@@envsetup@@",
        "arm64",
        "@@envsetup@@",
        "dev",
        "@@envsetup@@",
        "1000",
        "@@envsetup@@",
        "5.15.153.1-microsoft-standard-WSL2",
        "@@envsetup@@",
        "5.15.153.1-microsoft-standard-WSL2",
        "@@envsetup@@",
        "Ubuntu-24.04",
        "@@envsetup@@",
        "init",
        "@@envsetup@@",
    ]
    assert TargetInfo().process(output) == {
        "distro": "ubuntu",
        "version": "24.04",
        "codename": "noble",
        "pretty": "Ubuntu 24.04.1 LTS",
        "arch": "arm64",
        "user": "dev",
        "uid": "1000",
        "kernel": "5.15.153.1-microsoft-standard-WSL2",
        "osrelease": "5.15.153.1-microsoft-standard-WSL2",
        "wsl_distro": "Ubuntu-24.04",
        "pid1": "init",
        "systemd_booted": "",
        "home": "",
        "nvidia": "",
        "gpu": "",
        "jetson": "",
    }


def test_report_exit_codes_and_json() -> None:
    ok = StepReport("a", "d", "changed", [CheckReport("file", "f", "ok", "x")])
    pending = StepReport("b", "d", "unchanged", [CheckReport("command", "c", "pending", "y")])
    report = RunReport(
        "apply", [TargetReport("t", "Debian", recipes=[RecipeReport("r", [ok, pending])])]
    )
    assert (report.exit_code, report.changed) == (0, 1)
    doc = report.as_json()
    assert doc["ok"] is True and doc["changed"] == 1
    assert [
        (s["name"], s["changed"], s["verify"]) for s in doc["targets"][0]["recipes"][0]["steps"]
    ] == [("a", True, "ok"), ("b", False, "pending")]
    failed = StepReport("c", "d", "unchanged", [CheckReport("file", "f", "failed", "z")])
    assert (
        RunReport("apply", [TargetReport("t", recipes=[RecipeReport("r", [failed])])]).exit_code
        == 1
    )
    unreachable = TargetReport("u", error="cannot connect", error_exit=3)
    invalid = TargetReport("v", error="unsupported", error_exit=2)
    assert RunReport("apply", [unreachable]).exit_code == 3
    assert RunReport("apply", [unreachable, invalid]).exit_code == 2

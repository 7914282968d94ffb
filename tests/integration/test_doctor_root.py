"""`envsetup doctor -t` against a real Debian 12 root, before and after `apply ubuntu-java17`.

The root starts as images often do: JAVA_HOME is already in /etc/environment, but no
JDK is installed. The Java checks go from ✗ to ✓.
"""

from __future__ import annotations

from tests.helpers import envsetup
from tests.integration.roots import DebianRoot

JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"


def statuses(doc: dict) -> dict[str, str]:
    return {f["id"]: f["status"] for f in doc["findings"]}


def test_doctor_java_goes_from_fail_to_ok(bookworm: DebianRoot) -> None:
    bookworm.file("/etc/environment").write_text(f'JAVA_HOME="{JAVA_HOME}"\n')
    target = f"@chroot{bookworm.path}"

    result = envsetup("doctor", "-t", target, "--json")
    assert result.exit_code == 1
    import json

    before = json.loads(result.stdout)
    assert statuses(before)["java.home"] == "fail"
    assert statuses(before)["java.java"] == "skip"
    java_home = next(f for f in before["findings"] if f["id"] == "java.home")
    assert java_home["summary"] == f"JAVA_HOME points at {JAVA_HOME}, which does not exist"
    assert java_home["fix"] == "envsetup apply ubuntu-java17"
    human = envsetup("doctor", "-t", target)
    assert "✗ java.home" in human.stdout and "fix: envsetup apply ubuntu-java17" in human.stdout

    # --fix applies the recipe the failed check names (here: envsetup apply ubuntu-java17)
    fixed = envsetup("doctor", "-t", target, "--fix", "--yes")
    assert "The failed checks are fixed by:\n  envsetup apply ubuntu-java17 -t " in fixed.stderr
    assert fixed.exit_code == 0, fixed.output

    result = envsetup("doctor", "-t", target, "--json")
    after = json.loads(result.stdout)
    assert {k: v for k, v in statuses(after).items() if k.startswith("java")} == {
        "java.java": "ok",
        "java.javac": "ok",
        "java.home": "ok",
        "java.home.shell": "warn",
        "java.home.login": "ok",
        "java.alternatives": "ok",
        "java.tools": "ok",  # every tool of the JDK's .jinfo points at it
    }
    # the applied recipe's own verify checks run too (same checks as `envsetup verify`)
    assert statuses(after)["recipe.ubuntu-java17"] == "ok"
    assert result.exit_code == 0


def test_doctor_on_debian13_does_not_send_to_a_recipe_that_refuses(trixie: DebianRoot) -> None:
    """Debian 13 has no OpenJDK 17: the JAVA_HOME finding says why, and --fix has no
    recipe to run for it."""
    import json

    trixie.file("/etc/environment").write_text(f'JAVA_HOME="{JAVA_HOME}"\n')
    target = f"@chroot{trixie.path}"
    result = envsetup("doctor", "-t", target, "--json")
    findings = {f["id"]: f for f in json.loads(result.stdout)["findings"]}
    java_home = findings["java.home"]
    assert java_home["status"] == "fail"
    assert java_home["fix"].startswith(
        "ubuntu-java17 does not support this system: Debian 13 and later package no OpenJDK 17"
    )
    assert "ubuntu-java17" not in " ".join(
        f["fix"] or "" for f in findings.values() if (f["fix"] or "").startswith("envsetup")
    )
    fixed = envsetup("doctor", "-t", target, "--fix", "--yes")
    assert "envsetup apply ubuntu-java17" not in fixed.stderr

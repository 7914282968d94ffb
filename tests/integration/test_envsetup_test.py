"""``envsetup test`` on real throwaway Debian 12 roots built with debootstrap.

A built-in recipe passes every phase; deliberately broken recipes fail the phase
they break, by name; every root is unmounted and deleted whatever happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import build_file_tree
from tests.integration.roots import CACHE

ROOTS = CACHE / "test-roots"  # shared by these tests; the base is built once


def envsetup_test(*args: str) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "ENVSETUP_TEST_ROOTS": str(ROOTS)}
    done = subprocess.run(
        [sys.executable, "-m", "envsetup", "test", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    return done.returncode, json.loads(done.stdout)


def phases(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [platform] = doc["platforms"]
    return {phase["phase"]: phase for phase in platform["phases"]}


def statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {name: phase["status"] for name, phase in phases(doc).items()}


@pytest.fixture(autouse=True)
def nothing_left_behind() -> Any:
    yield
    with open("/proc/self/mounts") as file:
        assert not [line for line in file if "envsetup-test-" in line]
    assert not list(ROOTS.glob("envsetup-test-*"))


def test_java17_passes_every_phase_on_debian_12(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    code, doc = envsetup_test("ubuntu-java17", "--set", "headless=true", "--junit", str(junit))
    assert code == 0, json.dumps(doc, indent=1)[-3000:]
    assert statuses(doc) == {
        "root": "passed",
        "platform": "passed",
        "apply": "passed",
        "verify": "passed",
        "idempotence": "passed",
        "remove": "passed",
        "leftovers": "passed",
        "cleanup": "passed",
    }
    found = phases(doc)
    assert found["idempotence"]["detail"] == "applying again changed nothing"
    # the JDK package is gone, what it pulled in is reported, not failed
    assert "openjdk-17-jdk-headless" not in found["leftovers"]["leftovers"]
    assert "java-common" in found["leftovers"]["leftovers"]
    assert 'failures="0"' in junit.read_text()


def test_a_step_that_is_not_idempotent_is_named_with_its_command(tmp_path: Path) -> None:
    recipe = build_file_tree(
        tmp_path,
        {
            "append/recipe.yaml": (
                "name: append\nsummary: Appends on every apply\n"
                "platforms: [{distro: debian, version: '>=12'}]\n"
                "steps:\n  - name: Append a line\n    shell:\n"
                "      run: echo appended >> /etc/envsetup-demo.conf\n"
                "      unless: grep -q never-written /etc/envsetup-demo.conf\n"
            )
        },
    )
    code, doc = envsetup_test(str(recipe / "append"))
    assert code == 1
    found = phases(doc)
    assert found["apply"]["status"] == "passed"
    assert found["idempotence"]["status"] == "failed"
    assert found["idempotence"]["problems"] == [
        "step 'Append a line' changed again on a converged system; "
        "ran: echo appended >> /etc/envsetup-demo.conf"
    ]
    assert found["remove"] == {**found["remove"], "status": "skipped"}
    assert found["cleanup"]["status"] == "passed"


def test_a_check_that_always_fails_fails_apply_and_verify(tmp_path: Path) -> None:
    recipe = build_file_tree(
        tmp_path,
        {
            "fails/recipe.yaml": (
                "name: fails\nsummary: A check that never passes\n"
                "steps:\n  - name: Set a key\n    env_file: {key: DEMO_KEY, value: demo}\n"
                "    verify:\n      - command: {run: 'false'}\n"
                "remove:\n  - name: Unset it\n    env_file: {key: DEMO_KEY, present: false}\n"
            )
        },
    )
    code, doc = envsetup_test(str(recipe / "fails"))
    assert code == 1
    assert statuses(doc) == {
        "root": "passed",
        "platform": "passed",
        "apply": "failed",
        "verify": "failed",
        "idempotence": "passed",
        "remove": "passed",
        "leftovers": "passed",
        "cleanup": "passed",
    }
    # remove put /etc/environment back byte for byte (envsetup's backups of it stay)
    files = phases(doc)["leftovers"]["files"]
    assert "~/etc/environment" not in files and "+/etc/environment" not in files
    assert [f for f in files if f.startswith("+/etc/environment.envsetup-")]
    assert phases(doc)["verify"]["problems"] == [
        "step 'Set a key': check `false` exits 0 failed: expected exit status 0, found 1: "
        "(no output)"
    ]


def test_an_unsupported_platform_stops_before_any_change(tmp_path: Path) -> None:
    recipe = build_file_tree(
        tmp_path,
        {
            "ubuntu-only/recipe.yaml": (
                "name: ubuntu-only\nsummary: Ubuntu only\n"
                "platforms: [{distro: ubuntu, version: '>=22.04'}]\n"
                "steps:\n  - name: Install curl\n    apt: [curl]\n"
            )
        },
    )
    code, doc = envsetup_test(str(recipe / "ubuntu-only"))
    assert code == 1
    found = phases(doc)
    assert found["platform"]["status"] == "failed"
    assert found["platform"]["detail"].startswith(
        "ubuntu-only does not support Debian GNU/Linux 12 (bookworm) (debian 12)"
    )
    assert [found[name]["status"] for name in ("apply", "verify", "idempotence", "remove")] == [
        "skipped"
    ] * 4
    assert found["cleanup"]["status"] == "passed"


def test_an_unreachable_archive_is_said_clearly() -> None:
    code, doc = envsetup_test(
        "ubuntu-java17", "--on", "ubuntu-24.04", "--mirror", "http://127.0.0.1:9/ubuntu"
    )
    assert code == 1
    found = phases(doc)
    assert found["root"]["status"] == "failed"
    assert found["root"]["detail"].startswith(
        "cannot build a ubuntu-24.04 root: its archive cannot be reached "
        "(http://127.0.0.1:9/ubuntu/dists/noble/Release: "
    )


def test_a_given_target_runs_the_same_lifecycle(tmp_path: Path) -> None:
    from tests.integration.roots import debian_root

    recipe = build_file_tree(
        tmp_path,
        {
            "key/recipe.yaml": (
                "name: key\nsummary: One key\n"
                "steps:\n  - name: Set it\n    env_file: {key: DEMO_KEY, value: demo}\n"
                "remove:\n  - name: Unset it\n    env_file: {key: DEMO_KEY, present: false}\n"
            )
        },
    )
    with debian_root("bookworm", tmp_path / "root") as root:
        code, doc = envsetup_test(str(recipe / "key"), "-t", f"@chroot{root.path}", "--destroy-ok")
        assert code == 0, doc
        assert statuses(doc) == {
            "platform": "passed",
            "apply": "passed",
            "verify": "passed",
            "idempotence": "passed",
            "remove": "passed",
            "leftovers": "skipped",
        }
        assert "DEMO_KEY" not in root.file("/etc/environment").read_text()
        assert root.path.exists()  # a given target is the user's: never deleted


def test_the_skeleton_of_envsetup_new_passes_every_phase(tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "envsetup", "new", "demo-tool", "-C", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    code, doc = envsetup_test(str(tmp_path / "demo-tool"))
    assert code == 0, json.dumps(doc, indent=1)[-3000:]
    assert set(statuses(doc).values()) == {"passed"}

"""verify and doctor as a user whose sudo needs a password: each check with the least privilege.

Checks the login can answer itself (a package, a command, a readable file, its own
login session) run as that login; a check that needs root (a file only root may
read, another user's session) runs through sudo where a password is given, and is
``skipped`` with its reason where none is: never a false failure, never exit 3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import envsetup, run_json, steps_by_name, write_ssh_alias
from tests.integration.roots import DebianRoot, debian_root

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "recipes"
LIGHT = str(FIXTURES / "sudo-light" / "recipe.yaml")
PASSWORD = "pl41n-s3cret"
ROOT_ONLY = "/etc/sudo-light.conf"


def checks(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every check of the run's first target, by its description."""
    return {c["description"]: c for s in steps_by_name(doc).values() for c in s["checks"]}


@pytest.fixture
def applied(
    tmp_path: Path, keypair: tuple[Path, str], isolated_home: Path
) -> Iterator[tuple[DebianRoot, str]]:
    """A root with the light recipe applied (as root, through @chroot) and a login ``dev``
    whose sudo needs a password, reached over SSH as ``dev-box`` (and ``ops``, whose sudo
    needs none, as ``ops-box``)."""
    key, public = keypair
    with debian_root("bookworm", tmp_path / "root", shared_apt_cache=False) as root:
        code, doc, _ = run_json("apply", LIGHT, "-t", f"@chroot{root.path}")
        assert code == 0, doc
        root.add_user("dev", PASSWORD, public, sudo_nopasswd=False)
        root.add_user("ops", PASSWORD, public, sudo_nopasswd=True)
        port = root.start_sshd(public)
        write_ssh_alias(isolated_home, "dev-box", port, "dev", key)
        write_ssh_alias(isolated_home, "ops-box", port, "ops", key)
        yield root, "dev-box"


def test_verify_without_a_password_skips_only_what_needs_root(
    applied: tuple[DebianRoot, str],
) -> None:
    root, box = applied
    before = root.digest("/etc/environment", ROOT_ONLY, "/var/lib/dpkg/status")
    code, doc, stderr = run_json("verify", LIGHT, "-t", box)  # no terminal, no password
    assert code == 0, (doc, stderr)
    found = checks(doc)
    skipped = found[f"{ROOT_ONLY} exists matching /^token=on$/"]
    assert skipped["status"] == "skipped"
    assert skipped["detail"] == (
        f"needs root: {ROOT_ONLY} cannot be read without root; run as root, or give sudo's "
        "password (a terminal asks; or --sudo-password-stdin)"
    )
    others = {d: c["status"] for d, c in found.items() if c is not skipped}
    assert others == {
        "package hello installed": "ok",
        "`hello` prints /^Hello, world!$/": "ok",
        '/etc/environment exists matching /^GREETING="hello"$/': "ok",
        "login session of dev sees GREETING=hello": "ok",  # its own session: no su, no password
        "GREETING=hello as a login reads /etc/environment": "ok",  # the step's implied check
    }
    assert doc["summary"]["verify_skipped"] == 1
    human = envsetup("verify", LIGHT, "-t", box)
    assert human.exit_code == 0
    assert re.search(
        r"\d+ checks of \d+ steps: \d+ ok, 0 failed, 0 pending, 1 skipped \(need root\); "
        "nothing was changed.",
        human.stdout,
    ), human.stdout
    assert root.digest("/etc/environment", ROOT_ONLY, "/var/lib/dpkg/status") == before

    # another user's session needs su, so root: skipped as well, with its reason
    code, doc, _ = run_json("verify", LIGHT, "-t", box, "--set", "login_user=root")
    assert code == 0
    login = checks(doc)["login session of root sees GREETING=hello"]
    assert (login["status"], login["detail"].split(";")[0]) == (
        "skipped",
        "needs root: a login session of root needs root (su)",
    )


def test_verify_with_a_password_elevates_only_what_needs_root(
    applied: tuple[DebianRoot, str],
) -> None:
    root, box = applied
    code, doc, stderr = run_json(
        "verify", LIGHT, "-t", box, "--sudo-password-stdin", input=PASSWORD + "\n"
    )
    assert code == 0, (doc, stderr)
    assert {c["status"] for c in checks(doc).values()} == {"ok"}
    assert PASSWORD not in str(doc) + stderr
    # and a real failure stays a failure, for the login and through sudo alike
    root.file(ROOT_ONLY).write_text("token=off\n")
    root.file("/etc/environment").write_text("")
    code, doc, _ = run_json(
        "verify", LIGHT, "-t", box, "--sudo-password-stdin", input=PASSWORD + "\n"
    )
    assert code == 1
    statuses = {d: c["status"] for d, c in checks(doc).items()}
    assert statuses[f"{ROOT_ONLY} exists matching /^token=on$/"] == "failed"
    assert statuses['/etc/environment exists matching /^GREETING="hello"$/'] == "failed"
    assert statuses["login session of dev sees GREETING=hello"] == "failed"


def test_doctor_as_the_user_reports_no_false_failure(
    applied: tuple[DebianRoot, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, box = applied
    monkeypatch.setenv("ENVSETUP_RECIPES", str(FIXTURES))  # the applied recipe, by name
    result = envsetup("doctor", "-t", box, "--json")
    findings = {f["id"]: f for f in json.loads(result.stdout)["findings"]}
    recipe = findings["recipe.sudo-light"]
    assert (recipe["status"], recipe["summary"]) == (
        "skip",
        "sudo-light: 5 checks ok, 1 need root",
    ), recipe
    assert recipe["fix"] is None  # re-applying cannot give the login root's rights


def test_doctor_elevates_only_what_needs_root_where_sudo_needs_no_password(
    applied: tuple[DebianRoot, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVSETUP_RECIPES", str(FIXTURES))
    result = envsetup("doctor", "-t", "ops-box", "--json")
    findings = {f["id"]: f for f in json.loads(result.stdout)["findings"]}
    recipe = findings["recipe.sudo-light"]
    assert (recipe["status"], recipe["summary"]) == ("ok", "sudo-light: 6 checks ok"), recipe

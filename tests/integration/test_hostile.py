"""Hostile variable values against every step kind and check kind, on a real Debian 12
root: nothing reaches a shell unquoted, nothing outside the intended files changes, and
values that cannot be written safely are refused with exit 2 before anything runs."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.helpers import run_json
from tests.integration.roots import DebianRoot

RECIPE = str(Path(__file__).parent.parent / "fixtures" / "recipes" / "hostile" / "recipe.yaml")
INTENDED = ("/etc/environment", "/etc/hostile.ini", "/etc/hostile.conf", "/etc/hostile.shell")
INJECTED = (
    "x; touch /tmp/pwned",
    "$(touch /tmp/pwned)",
    "`touch /tmp/pwned`",
    "it's'; touch /tmp/pwned; '",
    "a|touch /tmp/pwned&",
)


def snapshot(root: DebianRoot) -> dict[str, str]:
    """SHA-256 of every file under /etc, /root, /tmp and /usr/bin, except the intended ones."""
    out = {}
    for top in ("etc", "root", "tmp", "usr/bin"):
        for dirpath, _, files in os.walk(root.path / top):
            for name in files:
                path = Path(dirpath) / name
                relative = "/" + str(path.relative_to(root.path))
                if relative.startswith(INTENDED) or path.is_symlink() or not path.is_file():
                    continue
                out[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def clear_intended(root: DebianRoot, environment: str) -> None:
    for path in INTENDED[1:]:
        root.file(path).unlink(missing_ok=True)
    root.file("/etc/environment").write_text(environment)
    for pattern in ("hostile.*.envsetup-*", "environment.envsetup-*"):
        for backup in root.file("/etc").glob(pattern):
            backup.unlink()


@pytest.mark.parametrize("value", INJECTED)
def test_injection_attempts_are_written_as_data(bookworm: DebianRoot, value: str) -> None:
    environment = 'PATH="/usr/bin:/bin"\n'
    bookworm.file("/etc/environment").write_text(environment)
    before = snapshot(bookworm)
    code, doc, _ = run_json("apply", RECIPE, "-t", f"@chroot{bookworm.path}", "--set", f"v={value}")
    steps = {s["name"]: s for s in doc["targets"][0]["recipes"][0]["steps"]}
    assert not bookworm.file("/tmp/pwned").exists()
    for name in ("env_file", "ini", "template", "shell"):
        assert steps[name]["status"] == "changed" and steps[name]["verify"] == "ok", steps[name]
    assert bookworm.file("/etc/environment").read_text() == f'{environment}HOSTILE="{value}"\n'
    assert bookworm.file("/etc/hostile.ini").read_text() == f"[s]\nk={value}\n"
    assert bookworm.file("/etc/hostile.conf").read_text() == f"value={value}\n"
    assert bookworm.file("/etc/hostile.shell").read_text() == value
    # no alternative is registered at that path: update-alternatives refuses, cleanly
    assert steps["alternatives"]["status"] == "failed" and code == 1
    assert snapshot(bookworm) == before
    clear_intended(bookworm, environment)


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("v=line1\nline2", "v: newlines and NUL bytes are not allowed"),
        ("v=nul\x00byte", "v: newlines and NUL bytes are not allowed"),
        ("v=say #hi", "the value for HOSTILE may not contain '#': pam_env ends the line there"),
        ("pkg=sudo;touch${IFS}/tmp/pwned", "is not a Debian package name"),
        ("pkg=-oAPT::Get::Trivial-Only=1", "is not a Debian package name"),
    ],
)
def test_unsafe_values_are_refused_before_anything_runs(
    bookworm: DebianRoot, assignment: str, message: str
) -> None:
    before = snapshot(bookworm)
    code, doc, _ = run_json("apply", RECIPE, "-t", f"@chroot{bookworm.path}", "--set", assignment)
    assert code == 2
    error = doc.get("error") or doc["targets"][0]["error"]
    assert message in error
    assert snapshot(bookworm) == before
    assert not any(bookworm.file(p).exists() for p in INTENDED[1:])

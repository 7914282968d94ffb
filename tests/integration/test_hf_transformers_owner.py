"""hf-transformers for a user, applied by root: nothing in the user's venv ever runs as root.

A real Debian 12 root (@chroot target, root's own run, as under `sudo envsetup`), a
user alice, uv as the installer. After the first apply, alice's venv `bin/python` is
replaced by a trap: run by root it writes /root/pwned and appends to /etc/shadow; run
by anyone else it is the real interpreter (so the results must still be right). Then
plan, verify, apply and remove run; the trap must never go off. A last step runs the
trap as root on purpose, to prove it was armed.

The NVIDIA driver is a FIXTURE: no GPU here. A fake /usr/local/bin/nvidia-smi in the
root reports driver 550.54.15; with it, `plan` must choose the cu128 build and `verify`
must say the installed CPU build is not it. Nothing CUDA is ever installed: only plan
and verify run with the fake driver. torch is the CPU wheel on this machine's disk
(`torch==2.13.0`, which the step turns into `torch==2.13.0+cpu`: no other build
satisfies it, so PyPI's CUDA build cannot be pulled).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.helpers import run_json, steps_by_name
from tests.integration.roots import DebianRoot

WHEELS = Path("/opt/wheels")
FIXTURE = Path(__file__).parent.parent / "fixtures" / "make_tiny_model.py"
VENV = "/home/alice/.venvs/transformers"
MODEL = "/home/alice/tiny-model"
pytestmark = pytest.mark.skipif(
    not list(WHEELS.glob("torch-2.13.0*.whl")),
    reason="the CPU torch 2.13.0 wheel is not in /opt/wheels on this machine",
)

LOCAL_ONLY = "--no-index,--find-links /opt/wheels,--find-links /opt/fake-wheels"
FAKE_TORCH = """__version__ = "2.13.0+cu128"


class version:
    cuda = "12.8"


class cuda:
    is_available = staticmethod(lambda: False)
    device_count = staticmethod(lambda: 0)
"""
CA_VARIABLES = ["SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]
TRAP = """#!/bin/bash
# envsetup test trap: root must never run this file
if [ "$(id -u)" = 0 ]; then
  echo "$0 $*" > /root/pwned
  echo 'pwned:x:0:0:::::' >> /etc/shadow
fi
exec -a "$0" {real} "$@"
"""
FAKE_NVIDIA_SMI = """#!/bin/sh
# TEST FIXTURE: no GPU on this machine; a driver 550.54.15 as nvidia-smi reports it
case "$*" in
  *--query-gpu=driver_version*) echo 550.54.15 ;;
  *) echo 'GPU 0: Fake GPU (UUID: GPU-00000000)' ;;
esac
"""


def test_root_never_runs_the_users_venv(
    bookworm_own_apt: DebianRoot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bookworm = bookworm_own_apt
    bookworm.run("useradd -m -s /bin/bash alice")
    bookworm.file("/opt/wheels").mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(WHEELS), str(bookworm.file("/opt/wheels"))], check=True)
    bookworm.mounts.append(bookworm.file("/opt/wheels"))
    # this machine reaches PyPI through a proxy whose CA only the host's bundle holds
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", bookworm.file("/etc/envsetup-test-ca.crt"))
    # a chroot target inherits this process's environment: keep this machine's pip and
    # CA settings out of it (REQUESTS_CA_BUNDLE would even override pip's --cert)
    for name in [n for n in os.environ if n.startswith(("PIP_", "UV_"))] + CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    target = f"@chroot{bookworm.path}"
    args = [
        "hf-transformers",
        "-t",
        target,
        "--set",
        "user=alice",
        "--set",
        "torch_version===2.13.0",
        "--set",
        "torch_cpu_index=",
        "--set",
        "offline=true",
        "--set",
        f"model={MODEL}",
        "--set",
        "pip_options=--find-links /opt/wheels,--cert /etc/envsetup-test-ca.crt",
    ]

    # 1. uv installs everything; the smoke test fails: no model yet
    code, doc, _ = run_json("apply", *args)
    steps = steps_by_name(doc)
    assert code == 1, doc
    assert {name: s["status"] for name, s in steps.items()} == {
        "python3-venv and pip": "changed",
        "uv": "changed",
        "The virtual environment": "changed",
        "PyTorch": "changed",
        "transformers": "changed",
        "The pipeline smoke test": "changed",
    }, {name: s["error"] for name, s in steps.items()}
    assert steps["uv"]["verify"] == "ok"
    assert steps["PyTorch"]["checks"][0]["detail"] == (
        "torch 2.13.0+cpu, CPU build (no NVIDIA driver)"
    )
    assert steps["transformers"]["verify"] == "ok"
    smoke = steps["The pipeline smoke test"]["checks"][-1]  # after its implied file check
    assert f"model directory {MODEL} does not exist" in smoke["detail"]
    uv = bookworm.file("/opt/envsetup/uv/bin/uv").stat()
    assert (uv.st_uid, uv.st_mode & 0o022) == (0, 0)  # root's alone
    alice = int(bookworm.run("id -u alice").stdout)
    assert bookworm.file(f"{VENV}/pyvenv.cfg").stat().st_uid == alice
    assert "uv = 0.13.9" in bookworm.file(f"{VENV}/pyvenv.cfg").read_text()
    assert bookworm.file(f"{VENV}/bin/pip").exists()  # pip works in the venv too
    installed = bookworm.file(f"{VENV}/envsetup-installed.txt").read_text()
    assert "torch==2.13.0+cpu" in installed and "transformers==" in installed
    # root never wrote in alice's home: everything there is hers
    strangers = bookworm.run("find /home/alice ! -user alice").stdout
    assert strangers == ""

    # 2. the trap: alice's interpreter, which she may replace at will
    python = bookworm.file(f"{VENV}/bin/python")
    real = bookworm.run(f"readlink -f {VENV}/bin/python").stdout.strip()
    python.unlink()
    python.write_text(TRAP.format(real=real))
    bookworm.run(f"chmod 755 {VENV}/bin/python && chown -h alice:alice {VENV}/bin/python")
    shadow = bookworm.digest("/etc/shadow")
    shutil.copy(FIXTURE, bookworm.file("/tmp/make_tiny_model.py"))
    bookworm.run(f"runuser -u alice -- {VENV}/bin/python /tmp/make_tiny_model.py {MODEL}")

    # 3. plan, verify and apply: right answers from alice's interpreter, never run by root
    code, doc, _ = run_json("plan", *args)
    assert (code, doc["changed"]) == (0, 0), doc
    code, doc, _ = run_json("verify", *args)
    assert code == 0, doc
    checks = {name: [c["status"] for c in s["checks"]] for name, s in steps_by_name(doc).items()}
    assert all(set(statuses) == {"ok"} for statuses in checks.values()), checks
    code, doc, _ = run_json("apply", *args)
    assert (code, doc["changed"]) == (0, 0), doc
    assert not bookworm.file("/root/pwned").exists()
    assert bookworm.digest("/etc/shadow") == shadow
    # root runs uv: a uv_dir alice may change is refused, and its uv never run
    bookworm.run("runuser -u alice -- mkdir -p /home/alice/uv/bin")
    bookworm.file("/home/alice/uv/bin/uv").write_text(TRAP.format(real="/bin/true"))
    bookworm.run("chmod 755 /home/alice/uv/bin/uv && chown alice /home/alice/uv/bin/uv")
    code, doc, _ = run_json("plan", *args, "--set", "uv_dir=/home/alice/uv")
    assert steps_by_name(doc)["uv"]["error"] == (
        "ValueError: /home/alice/uv, or a directory above it, belongs to a user other than "
        "root or is writable by others: envsetup will not install or run uv there"
    )
    assert not bookworm.file("/root/pwned").exists()

    # 4. a fake driver (FIXTURE): auto now means the cu128 build, planned, never installed
    fake = bookworm.file("/usr/local/bin/nvidia-smi")
    fake.write_text(FAKE_NVIDIA_SMI)
    fake.chmod(0o755)
    code, doc, _ = run_json("plan", *args)
    torch = steps_by_name(doc)["PyTorch"]
    assert torch["status"] == "would change"
    assert torch["description"] == (
        "torch==2.13.0+cu128 (cu128 build, NVIDIA driver 550.54.15) from "
        f"https://download.pytorch.org/whl/cu128 in {VENV}"
    )
    # any torch version: the CPU build installed satisfies `torch`, but is not cu128
    code, doc, _ = run_json("plan", *args, "--set", "torch_version=")
    assert steps_by_name(doc)["PyTorch"]["status"] == "would change"
    code, doc, _ = run_json("verify", *args)
    check = steps_by_name(doc)["PyTorch"]["checks"][0]
    assert code == 1
    assert check["detail"] == (
        "torch 2.13.0+cpu is a CPU build, but cu128 was chosen (auto, NVIDIA driver "
        "550.54.15): apply again to switch"
    )
    code, doc, _ = run_json("verify", *args, "--set", "torch=cpu")
    assert steps_by_name(doc)["PyTorch"]["verify"] == "ok"

    # 5. switching really switches. FIXTURE: a fake torch 2.13.0+cu128 wheel (a module
    # that reports CUDA 12.8 and no GPU), found in a local directory only (--no-index)
    fake_wheel(bookworm.file("/opt/fake-wheels"))
    local = [*args, "--set", "torch_cuda_index=", "--set", f"pip_options={LOCAL_ONLY}"]
    code, doc, _ = run_json("apply", *local)
    torch = steps_by_name(doc)["PyTorch"]
    assert (code, torch["status"]) == (1, "changed"), torch
    assert torch["checks"][0]["detail"] == (
        "torch.cuda.is_available() is False: torch 2.13.0+cu128 is built for CUDA 12.8, "
        "which needs NVIDIA driver >= 525.60.13; the driver here is 550.54.15; no usable "
        "GPU was found"
    )
    assert "torch==2.13.0+cu128" in bookworm.file(f"{VENV}/envsetup-installed.txt").read_text()
    code, doc, _ = run_json("apply", *local, "--set", "torch=cpu")
    torch = steps_by_name(doc)["PyTorch"]
    assert torch["status"] == "changed"
    assert torch["checks"][0]["detail"] == "torch 2.13.0+cpu, CPU build (NVIDIA driver 550.54.15)"
    # unpinned: the CPU build satisfies `torch`, yet is replaced by the cu128 one (which
    # wins here only because it is the highest version in the local directories)
    code, doc, _ = run_json("apply", *local, "--set", "torch_version=")
    torch = steps_by_name(doc)["PyTorch"]
    assert torch["status"] == "changed"
    assert "torch 2.13.0+cu128 is built for CUDA 12.8" in torch["checks"][0]["detail"]
    code, doc, _ = run_json("apply", *local, "--set", "torch=cpu")
    assert steps_by_name(doc)["PyTorch"]["checks"][0]["status"] == "ok"
    assert (code, doc["changed"]) == (0, 1), doc
    fake.unlink()
    assert not bookworm.file("/root/pwned").exists()

    # 6. remove: alice's venv goes, deleted as alice
    code, _, _ = run_json("remove", *args)
    assert code == 0 and not bookworm.file(VENV).exists()
    assert not bookworm.file("/root/pwned").exists()
    assert bookworm.digest("/etc/shadow") == shadow

    # 7. the trap was armed: root running it does go off
    bookworm.file(f"{VENV}/bin").mkdir(parents=True)
    trap = bookworm.file(f"{VENV}/bin/python")
    trap.write_text(TRAP.format(real=real))
    trap.chmod(0o755)
    bookworm.run(f"{VENV}/bin/python -c pass")
    assert bookworm.file("/root/pwned").exists()
    assert bookworm.digest("/etc/shadow") != shadow


def fake_wheel(directory: Path) -> None:
    """A wheel torch-2.13.0+cu128 holding FAKE_TORCH: a test fixture, not PyTorch."""
    directory.mkdir(parents=True)
    info = "torch-2.13.0+cu128.dist-info"
    files = {
        "torch/__init__.py": FAKE_TORCH,
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: torch\nVersion: 2.13.0+cu128\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: envsetup-test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(directory / "torch-2.13.0+cu128-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)

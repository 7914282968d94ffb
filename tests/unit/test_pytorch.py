"""Choosing the torch build, the torch step's rendering, the torch check's judgement,
and the as-owner wrapper, run for real as a user other than root.

The NVIDIA driver versions here are data (no GPU on the test machines): the probe's
lines as /sys/module/nvidia/version, /proc/driver/nvidia/version and nvidia-smi print
them (the /proc line is the one uv's own tests parse).
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import tempfile
from pathlib import Path

import pytest

from envsetup.checks.torch import _MARK, TorchCheck
from envsetup.kinds import Op, StepContext
from envsetup.owner import as_owner_of
from envsetup.platforms import nvidia_driver
from envsetup.pytorch import build_of, choose_backend, requirement
from envsetup.steps.python import Torch

PROC = (
    "proc NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.144.03  Release Build"
    "  (dvs-builder@U16-I3-D08-1-2)  Mon Dec 30 17:26:13 UTC 2024"
)


@pytest.mark.parametrize(
    ("line", "driver"),
    [
        ("sys 550.144.03", "550.144.03"),
        (PROC, "550.144.03"),
        ("smi 580.65.06", "580.65.06"),
        ("smi", ""),  # no nvidia-smi
        ("sys garbage", ""),
        ("yes", ""),  # what an older envsetup remembered
    ],
)
def test_driver_from_the_probe(line: str, driver: str) -> None:
    assert nvidia_driver(line) == driver


@pytest.mark.parametrize(
    ("wanted", "driver", "build"),
    [
        ("cpu", "580.65.06", "cpu"),
        ("auto", "", "cpu"),
        ("auto", "580.65.06", "cu130"),
        ("auto", "550.54.15", "cu128"),
        ("auto", "525.60.13", "cu128"),
        ("auto", "525.60.12", "cu118"),
        ("auto", "450.80.02", "cu118"),
        ("auto", "418.39", "cpu"),  # too old for any build PyTorch publishes now
        ("cuda", "", "cu130"),  # no driver yet: PyPI's own build; verify will say why
        ("cuda", "550.54.15", "cu128"),
        ("cu126", "", "cu126"),
    ],
)
def test_choose_backend(wanted: str, driver: str, build: str) -> None:
    assert choose_backend(wanted, driver) == build


def test_requirement_names_the_build_only_for_an_exact_version() -> None:
    assert requirement("==2.13.0", "cpu") == "torch==2.13.0+cpu"
    assert requirement("== 2.13.0", "cu128") == "torch==2.13.0+cu128"
    assert requirement(">=2.3", "cpu") == "torch>=2.3"
    assert requirement("", "cu130") == "torch"
    assert [build_of(v) for v in ("2.13.0+cpu", "2.13.0+cu128", "2.13.0")] == [
        "cpu",
        "cu128",
        "pypi",
    ]


def torch_args(**overrides: str) -> dict[str, object]:
    args: dict[str, object] = {
        "venv": "/home/alice/.venvs/transformers",
        "user": "alice",
        "backend": "auto",
        "driver": "",
        "version": "==2.13.0",
        "cpu_index": "https://download.pytorch.org/whl/cpu",
        "cuda_index": "https://download.pytorch.org/whl",
        "options": ["--find-links /opt/wheels"],
        "installer": "uv",
        "uv": "/opt/envsetup/uv/bin/uv",
    }
    return args | overrides


def test_torch_step_uses_the_chosen_index_alone(tmp_path: Path) -> None:
    op = Torch.action(torch_args(), StepContext(tmp_path, {}))
    assert isinstance(op, Op) and op.name == "envsetup.ops.pip_packages"
    assert op.kwargs["requirements"] == ["torch==2.13.0+cpu"]
    assert op.kwargs["options"] == [
        "--index-url",
        "https://download.pytorch.org/whl/cpu",
        "--find-links",
        "/opt/wheels",
    ]
    assert op.kwargs["builds"] == {"torch": "cpu"}
    assert (op.kwargs["installer"], op.kwargs["uv"]) == ("uv", "/opt/envsetup/uv/bin/uv")
    cuda = Torch.action(torch_args(driver="550.54.15"), StepContext(tmp_path, {}))
    assert isinstance(cuda, Op)
    assert cuda.kwargs["options"][:2] == ["--index-url", "https://download.pytorch.org/whl/cu128"]
    assert Torch.describe(torch_args(driver="550.54.15")) == (
        "torch==2.13.0+cu128 (cu128 build, NVIDIA driver 550.54.15) from "
        "https://download.pytorch.org/whl/cu128 in /home/alice/.venvs/transformers"
    )
    with pytest.raises(ValueError, match="'gpu' is not cpu, cuda, auto or cuXYZ"):
        Torch.action(torch_args(backend="gpu"), StepContext(tmp_path, {}))


def judge(backend: str, driver_line: str, found: dict[str, object] | None) -> str:
    args = {"venv": "/v", "backend": backend, "version": "==2.13.0"}
    tail = json.dumps(found) if found else "ModuleNotFoundError: No module named 'torch'"
    status = 0 if found else 1
    result = TorchCheck.evaluate(args, status, f"{driver_line}\n{_MARK}\n{tail}\n")
    return f"{result.status}: {result.detail}"


CPU_BUILD = {"version": "2.13.0+cpu", "cuda": None, "available": False, "devices": 0}
CUDA_BUILD = {"version": "2.13.0+cu130", "cuda": "13.0", "available": False, "devices": 0}


def test_torch_check_names_the_build_and_the_driver() -> None:
    assert judge("auto", "smi", CPU_BUILD) == "ok: torch 2.13.0+cpu, CPU build (no NVIDIA driver)"
    assert judge("auto", "sys 550.54.15", CPU_BUILD) == (
        "failed: torch 2.13.0+cpu is a CPU build, but cu128 was chosen (auto, NVIDIA driver "
        "550.54.15): apply again to switch"
    )
    assert judge("cpu", "smi", CUDA_BUILD) == (
        "failed: torch 2.13.0+cu130 is a CUDA 13.0 build, but the CPU build was chosen "
        "(cpu, no NVIDIA driver): apply again to switch"
    )
    # PyPI's CUDA 13 build on a driver too old for it: torch would quietly use the CPU
    assert judge("cu130", "sys 550.54.15", CUDA_BUILD) == (
        "failed: torch.cuda.is_available() is False: torch 2.13.0+cu130 is built for CUDA "
        "13.0, which needs NVIDIA driver >= 580; the driver here is 550.54.15, too old for it"
    )
    assert judge("cuda", "smi", CUDA_BUILD).endswith(
        "which needs NVIDIA driver >= 580; no NVIDIA driver is loaded (none in "
        "/sys/module/nvidia, /proc/driver/nvidia or from nvidia-smi)"
    )
    working = CUDA_BUILD | {"available": True, "devices": 2}
    assert judge("auto", "sys 580.65.06", working) == (
        "ok: torch 2.13.0+cu130, CUDA 13.0, 2 GPU(s) (NVIDIA driver 580.65.06)"
    )
    assert judge("auto", "smi", None).startswith("failed: cannot import torch:")
    assert judge("cpu", "smi", CPU_BUILD | {"version": "2.12.1+cpu"}) == (
        "failed: torch 2.12.1+cpu does not satisfy ==2.13.0"
    )


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="runs a command as another user")


@needs_root
def test_as_owner_of_runs_as_the_owner_never_root() -> None:
    # under /tmp, so that nobody can see it (pytest's tmp_path is in root's 0700 dir)
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        owner_runs(Path(tmp))


def owner_runs(tmp_path: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    ground = tmp_path / "ground"
    ground.mkdir()
    tmp_path.chmod(0o755)
    os.chown(ground, nobody.pw_uid, nobody.pw_gid)

    def who(path: Path, user: str | None = None) -> tuple[int, str]:
        command = as_owner_of(str(path), ["sh", "-c", "id -un; pwd"], user)
        done = subprocess.run(command, shell=True, capture_output=True, text=True)
        return done.returncode, (done.stdout + done.stderr).strip()

    # the path, or its nearest existing directory, is nobody's: nobody runs it, from /
    assert who(ground / "not" / "yet") == (0, "nobody\n/")
    assert who(ground, "root") == (0, "nobody\n/")
    # root's ground: the user given, root by default
    assert who(tmp_path) == (0, "root\n/")
    assert who(tmp_path, "nobody") == (0, "nobody\n/")
    # a caller that is not root: itself on root's ground, refused on another user's
    as_nobody = ["runuser", "-u", "nobody", "--", "sh", "-c"]
    mine = subprocess.run(
        [*as_nobody, as_owner_of(str(tmp_path), ["id", "-un"])], text=True, capture_output=True
    )
    assert (mine.returncode, mine.stdout) == (0, "nobody\n")
    os.chown(ground, 0, 0)
    os.chown(tmp_path, pwd.getpwnam("daemon").pw_uid, 0)
    theirs = subprocess.run(
        [*as_nobody, as_owner_of(str(ground), ["id", "-un"])], text=True, capture_output=True
    )
    assert (theirs.returncode, theirs.stderr) == (
        126,
        f"envsetup: id must run as daemon (who owns {ground}), and nobody is not root\n",
    )
    os.chown(tmp_path, 0, 0)
    # a uid without a name: refused, not run as root
    os.chown(ground, 4242, 4242)
    code, output = who(ground)
    assert code == 126
    assert output == f"envsetup: uid 4242 owns {ground}, and has no user name: sh is not run"
    with pytest.raises(ValueError, match="'relative' is not an absolute path"):
        as_owner_of("relative", ["true"])


@pytest.mark.parametrize(
    ("torch", "driver_file", "status", "summary"),
    [
        ("2.13.0+cpu", None, "ok", "torch 2.13.0+cpu: CPU build, no NVIDIA driver"),
        (
            "2.13.0+cpu",
            "550.54.15",
            "warn",
            "torch 2.13.0+cpu is the CPU build, on a machine with NVIDIA driver 550.54.15",
        ),
        (
            "2.13.0",  # PyPI's own: CUDA 13
            "550.54.15",
            "warn",
            "torch 2.13.0 is a CUDA build (cu130) and needs NVIDIA driver >= 580; NVIDIA "
            "driver 550.54.15: it runs on the CPU",
        ),
        (
            "2.13.0+cu128",
            "550.54.15",
            "ok",
            "torch 2.13.0+cu128: cu128 build, NVIDIA driver 550.54.15",
        ),
    ],
)
def test_doctor_names_a_torch_build_that_does_not_fit_the_driver(
    tmp_path: Path, torch: str, driver_file: str | None, status: str, summary: str
) -> None:
    from envsetup.doctor.checks_python import transformers
    from envsetup.doctor.machine import LocalMachine
    from tests.helpers import build_file_tree

    site = "home/dev/.venvs/transformers/lib/python3.11/site-packages"
    tree = {
        "home/dev/.venvs/transformers/bin/python": "",
        f"{site}/transformers-5.24.0.dist-info/METADATA": "",
        f"{site}/torch-{torch}.dist-info/METADATA": "",
    }
    if driver_file:
        tree["sys/module/nvidia/version"] = driver_file + "\n"
    build_file_tree(tmp_path, tree)
    machine = LocalMachine(str(tmp_path), {"HOME": "/home/dev", "USER": "dev", "PATH": "/bin"})
    found = {f.id: f for f in transformers(machine)}["python.torch_build"]
    assert (found.status, found.summary) == (status, summary)


def test_venv_packages_fact_runs_the_venv_as_its_owner() -> None:
    from envsetup.ops import VenvPackages

    fact = VenvPackages()
    command = fact.command(venv="/home/alice/v")
    assert command.startswith("if [ -x /home/alice/v/bin/python ]; then sh -c ")
    assert " envsetup-as-owner /home/alice/v root /home/alice/v/bin/python -I -c " in command
    assert fact.process(["absent"]) is None
    assert fact.process(['{"torch": "2.13.0+cpu"}']) == {"torch": "2.13.0+cpu"}
    with pytest.raises(ValueError, match=r"did not list its packages \(it printed nothing\)"):
        fact.process([])


@needs_root
def test_uv_tool_fact_refuses_a_path_another_user_may_change() -> None:
    from envsetup.ops import UvTool

    def state(path: str) -> str:
        fact = UvTool()
        done = subprocess.run(fact.command(path=path), shell=True, capture_output=True, text=True)
        assert done.stderr == ""
        return fact.process(done.stdout.splitlines())

    assert state("/nonexistent-envsetup/uv") == "absent"
    assert state("/tmp/envsetup-uv") == "unsafe"  # /tmp: anyone may write there
    root_only = Path(__file__).parent / "uv-fact"
    chain = [root_only.parent, *root_only.parent.parents]
    if any(p.stat().st_uid != 0 or p.stat().st_mode & 0o022 for p in chain):
        pytest.skip("this checkout is not root's alone, so no directory in it is")
    root_only.mkdir()
    try:
        root_only.chmod(0o755)
        assert state(str(root_only)) == "broken"  # root's, but no uv in it
        os.chown(root_only, pwd.getpwnam("nobody").pw_uid, 0)
        assert state(str(root_only)) == "unsafe"
    finally:
        root_only.rmdir()
    assert UvTool().process(["uv 0.13.9 (x86_64-unknown-linux-gnu)"]) == "0.13.9"

from __future__ import annotations

import json
from typing import Any, ClassVar

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from envsetup.checks.command import last_lines
from envsetup.kinds import Field, ProbeResult
from envsetup.owner import as_owner_of
from envsetup.platforms import NVIDIA_DRIVER_PROBE, nvidia_driver
from envsetup.pytorch import BACKEND_RE, choose_backend, cuda_backend_of, min_driver

_MARK = "@@envsetup-torch@@"
_CODE = (
    "import json, torch; c = torch.version.cuda; a = bool(c) and torch.cuda.is_available(); "
    "print(json.dumps({'version': torch.__version__, 'cuda': c, 'available': a, "
    "'devices': torch.cuda.device_count() if a else 0}))"
)


class TorchCheck:
    """PyTorch in a venv is the build chosen for this machine, and CUDA works where chosen.

    ``backend`` as in the torch step (cpu, cuda, auto, cuXYZ; cuda and auto decided by
    the NVIDIA driver found now). A CPU choice needs a CPU build; a CUDA choice needs a
    CUDA build and ``torch.cuda.is_available()``, and where that is False the detail
    names the build's CUDA version, the driver it needs and the driver found. The
    venv's python runs as the venv's owner, never as root in a user's venv.
    """

    name: ClassVar[str] = "torch"
    fields: ClassVar[dict[str, Field]] = {
        "venv": Field("str", required=True, doc="the virtual environment"),
        "backend": Field("str", default="auto", doc="cpu, cuda, auto, or a build like cu128"),
        "version": Field("str", default="", doc="a version specifier, e.g. ==2.13.0"),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        if not BACKEND_RE.fullmatch(args["backend"]):
            raise ValueError(f"torch backend {args['backend']!r} is not cpu, cuda, auto or cuXYZ")
        SpecifierSet(args["version"])

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        python = f"{args['venv']}/bin/python"
        run = as_owner_of(args["venv"], [python, "-I", "-c", _CODE])
        return f"{NVIDIA_DRIVER_PROBE}; echo {_MARK}; {run}"

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        head, _, tail = output.partition(_MARK)
        driver = next((d for d in map(nvidia_driver, head.splitlines()) if d), "")
        found = json.loads(tail.strip().splitlines()[-1]) if status == 0 and tail.strip() else None
        if not isinstance(found, dict):
            return ProbeResult("failed", f"cannot import torch: {last_lines(tail)}")
        version = str(found["version"])
        try:
            public = Version(version).public
        except InvalidVersion:
            return ProbeResult("failed", f"torch {version!r} is not a version")
        if args["version"] and public not in SpecifierSet(args["version"]):
            return ProbeResult("failed", f"torch {version} does not satisfy {args['version']}")
        wanted = choose_backend(args["backend"], driver)
        cuda = found.get("cuda")
        here = f"NVIDIA driver {driver}" if driver else "no NVIDIA driver"
        if wanted == "cpu":
            if cuda:
                return ProbeResult(
                    "failed",
                    f"torch {version} is a CUDA {cuda} build, but the CPU build was chosen "
                    f"({args['backend']}, {here}): apply again to switch",
                )
            return ProbeResult("ok", f"torch {version}, CPU build ({here})")
        if not cuda:
            return ProbeResult(
                "failed",
                f"torch {version} is a CPU build, but {wanted} was chosen "
                f"({args['backend']}, {here}): apply again to switch",
            )
        if not found.get("available"):
            need = min_driver(cuda_backend_of(str(cuda)))
            needs = f", which needs NVIDIA driver >= {need}" if need else ""
            if not driver:
                why = "no NVIDIA driver is loaded (none in /sys/module/nvidia, /proc/driver/nvidia"
                why += " or from nvidia-smi)"
            elif need and Version(driver) < Version(need):
                why = f"the driver here is {driver}, too old for it"
            else:
                why = f"the driver here is {driver}; no usable GPU was found"
            return ProbeResult(
                "failed",
                f"torch.cuda.is_available() is False: torch {version} is built for CUDA "
                f"{cuda}{needs}; {why}",
            )
        devices = found.get("devices", 0)
        return ProbeResult("ok", f"torch {version}, CUDA {cuda}, {devices} GPU(s) ({here})")

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        spec = f" {args['version']}" if args["version"] else ""
        return f"torch{spec} in {args['venv']} is the {args['backend']} build and works"

"""Which PyTorch build a machine needs: CPU, or the CUDA build its NVIDIA driver can run.

Pure functions, shared by the ``torch`` step kind (what to install) and the ``torch``
check kind (what is installed, and why CUDA does not work). The choice follows uv's
``--torch-backend=auto`` (crates/uv-torch/src/backend.rs, ``LINUX_CUDA_DRIVERS``): the
newest CUDA build whose minimum Linux driver the machine's driver meets, CPU without a
driver. It is limited to the builds PyTorch publishes for its recent releases.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

# (backend, the oldest Linux driver that runs it), newest first; from NVIDIA's CUDA
# toolkit release notes, table 2 (minor version compatibility), as uv's table has them
CUDA_BACKENDS: tuple[tuple[str, str], ...] = (
    ("cu130", "580"),
    ("cu128", "525.60.13"),
    ("cu126", "525.60.13"),
    ("cu118", "450.80.02"),
)
# what ``auto`` picks among those: one build per driver generation
AUTO_BACKENDS = ("cu130", "cu128", "cu118")
# ``cuda`` where no driver is found (yet): PyPI's own Linux torch is this build
NEWEST_CUDA = "cu130"
BACKEND_RE = re.compile(r"cpu|cuda|auto|cu[0-9]{3}")


def parse_driver(text: str) -> Version | None:
    try:
        return Version(text.strip()) if text.strip() else None
    except InvalidVersion:
        return None


def min_driver(backend: str) -> str | None:
    """The oldest Linux driver a CUDA backend (``cu128``) runs on; None when unknown."""
    minimum = dict(CUDA_BACKENDS).get(backend)
    if minimum is None and re.fullmatch(r"cu[0-9]{3}", backend):
        major = int(backend[2:-1])
        minimum = "580" if major >= 13 else "525.60.13" if major == 12 else None
        minimum = minimum or ("450.80.02" if major == 11 else None)
    return minimum


def choose_backend(wanted: str, driver: str) -> str:
    """``cpu`` or a CUDA backend (``cu128``) for ``wanted`` (cpu, cuda, auto, cuXYZ).

    auto: the newest CUDA build the driver runs, CPU without a driver (or with one too
    old for any). cuda: the same, but the newest CUDA build where no driver is found.
    """
    if not BACKEND_RE.fullmatch(wanted):
        raise ValueError(f"torch backend {wanted!r} is not cpu, cuda, auto or cuXYZ")
    if wanted.startswith("cu") and wanted != "cuda":
        return wanted
    if wanted == "cpu":
        return "cpu"
    version = parse_driver(driver)
    if version is None:
        return NEWEST_CUDA if wanted == "cuda" else "cpu"
    for backend in AUTO_BACKENDS:
        if version >= Version(dict(CUDA_BACKENDS)[backend]):
            return backend
    return AUTO_BACKENDS[-1] if wanted == "cuda" else "cpu"


def build_of(version: str) -> str:
    """The build of an installed torch from its version: ``2.13.0+cu128`` -> ``cu128``.

    A torch without a local label is PyPI's own build (``pypi``), a CUDA build on Linux.
    """
    _, plus, label = version.partition("+")
    return label if plus else "pypi"


def requirement(version_spec: str, backend: str) -> str:
    """The torch requirement for a backend: an exact version names its build
    (``==2.13.0`` -> ``torch==2.13.0+cpu``), so no other build can satisfy it."""
    spec = version_spec.strip()
    match = re.fullmatch(r"==\s*([0-9][0-9a-z.]*)", spec)
    if match:
        return f"torch=={match.group(1)}+{backend}"
    return f"torch{spec}"


def cuda_backend_of(cuda: str) -> str:
    """torch.version.cuda (``12.8``) as a backend name (``cu128``)."""
    major, _, minor = cuda.partition(".")
    return f"cu{major}{minor[:1] or '0'}"

"""The check-kind registry: read-only probes run on the target, one module per kind.

The schema takes the allowed check kinds from ``CHECK_KINDS``.
"""

from __future__ import annotations

from envsetup.checks.command import CommandCheck
from envsetup.checks.env_file import EnvFileCheck
from envsetup.checks.file import FileCheck
from envsetup.checks.http import HttpCheck
from envsetup.checks.ini import IniCheck
from envsetup.checks.login_env import LoginEnvCheck
from envsetup.checks.package import PackageCheck
from envsetup.checks.resources import DiskCheck, MemoryCheck
from envsetup.checks.torch import TorchCheck
from envsetup.checks.version import VersionCheck

CHECK_KINDS = {
    kind.name: kind
    for kind in (
        CommandCheck,
        VersionCheck,
        FileCheck,
        EnvFileCheck,
        PackageCheck,
        LoginEnvCheck,
        IniCheck,
        HttpCheck,
        DiskCheck,
        MemoryCheck,
        TorchCheck,
    )
}

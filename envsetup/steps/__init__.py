"""The step-kind registry: one module per kind, collected here.

The schema takes the allowed step kinds from ``STEP_KINDS``.
"""

from __future__ import annotations

from envsetup.steps.alternatives import Alternatives
from envsetup.steps.apt import Apt
from envsetup.steps.archive import Archive
from envsetup.steps.download import Download
from envsetup.steps.env_file import EnvFile
from envsetup.steps.ini import Ini
from envsetup.steps.ollama import OllamaPull
from envsetup.steps.python import Pip, Torch, Uv, Venv
from envsetup.steps.shell import Shell
from envsetup.steps.system import Group, Service, User
from envsetup.steps.template import Template

STEP_KINDS = {
    kind.name: kind
    for kind in (
        Apt,
        EnvFile,
        Template,
        Ini,
        Alternatives,
        Shell,
        Download,
        Archive,
        Venv,
        Pip,
        Torch,
        Uv,
        Group,
        User,
        Service,
        OllamaPull,
    )
}

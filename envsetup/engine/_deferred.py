"""Deferring an import that pyinfra's SSH stack makes but rarely uses.

paramiko imports ``invoke`` only to run the ``Match exec`` lines of an SSH config;
the import costs about a tenth of a second, on every run. Until pyinfra (and so
paramiko) is imported, a stand-in takes its place in ``sys.modules``: the first
use of any of its attributes imports the real module, so ``Match exec`` works
as before, and runs without it never pay for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


class DeferredModule(types.ModuleType):
    """Stands in for a module not imported yet; imports it at the first attribute read."""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attribute)


def defer(name: str) -> None:
    """Put a stand-in for ``name`` in ``sys.modules``, when it is installed and not imported."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = DeferredModule(name)
    stand_in.__spec__ = spec  # what find_spec and the import system read, without loading
    sys.modules[name] = stand_in


if "paramiko" not in sys.modules:
    defer("invoke")

"""Deferring imports that pyinfra's dependencies make but rarely use.

paramiko imports ``invoke`` only to run the ``Match exec`` lines of an SSH config,
and envsetup runs those itself (``envsetup.engine.match_exec``); the import costs
about a tenth of a second, on every run. Until pyinfra (and so paramiko) is
imported, a stand-in takes its place in ``sys.modules``: the first use of any of
its attributes (by anything else) imports the real module.

typeguard (pyinfra checks operation arguments with it) imports ``unittest.mock``,
and with it asyncio and ssl (about 50 ms), to ask ``isinstance(value, Mock)`` and
to ``patch`` while installing its import hook. It is imported with a stand-in for
``unittest.mock`` whose names resolve only when used: no value can be a ``Mock``
while ``unittest.mock`` was never imported, so the stand-in's ``Mock`` answers
``isinstance`` with the real class once the real module is loaded, and ``False``
before; calling a name (``patch``) imports the real module and calls the real one.
The stand-in is in ``sys.modules`` only while typeguard is imported.
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


class _UsedOnly(type):
    """A name of a module not imported: the real one is looked up when it is used."""

    _module: str
    _name: str

    def _real(cls) -> Any:
        return getattr(importlib.import_module(cls._module), cls._name)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, attribute: str) -> Any:
        return getattr(cls._real(), attribute)

    def _loaded(cls) -> Any:
        """The real name where its module is imported already, else None."""
        real = sys.modules.get(cls._module)
        if not isinstance(real, types.ModuleType) or isinstance(real, NamesOnUse):
            return None
        return getattr(real, cls._name)

    def __instancecheck__(cls, value: Any) -> bool:
        real = cls._loaded()
        return real is not None and isinstance(value, real)

    def __subclasscheck__(cls, other: type) -> bool:
        real = cls._loaded()
        return real is not None and issubclass(other, real)


class NamesOnUse(types.ModuleType):
    """Stands in for a module while another is imported: each name read resolves on use."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _UsedOnly(name, (), {"_module": self.__name__, "_name": name})


def import_without(name: str, unneeded: str) -> None:
    """Import ``name`` while ``unneeded`` is only a :class:`NamesOnUse` stand-in.

    Where that import fails with the stand-in, ``name`` is imported again as usual.
    """
    if name in sys.modules or unneeded in sys.modules or importlib.util.find_spec(name) is None:
        return
    before = set(sys.modules)
    sys.modules[unneeded] = NamesOnUse(unneeded)
    try:
        importlib.import_module(name)
    except Exception:
        for module in set(sys.modules) - before:  # the stand-in too
            del sys.modules[module]
        importlib.import_module(name)
    finally:
        if isinstance(sys.modules.get(unneeded), NamesOnUse):
            del sys.modules[unneeded]


if "paramiko" not in sys.modules:
    defer("invoke")
if "pyinfra" not in sys.modules:
    import_without("typeguard", "unittest.mock")

"""pyinfra's global argument types, worked out once instead of on every use.

pyinfra calls ``all_global_arguments()`` (``typing.get_type_hints`` of a TypedDict,
about 0.75 ms) when every fact class is defined, and for every operation call and
fact read: some 80 times while envsetup imports its facts, and a dozen more per
target and run. The types never change in a process, so this module works them out
once and gives pyinfra's two callers that list. Imported before ``envsetup.ops``.
"""

from __future__ import annotations

from pyinfra.api import arguments
from pyinfra.api import facts as pyinfra_facts

_TYPES = arguments.all_global_arguments()


def all_global_arguments() -> list[tuple[str, type]]:
    return list(_TYPES)  # a new list each time, as pyinfra's own


arguments.all_global_arguments = all_global_arguments
pyinfra_facts.all_global_arguments = all_global_arguments

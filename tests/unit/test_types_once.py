"""pyinfra's global argument types, worked out once (envsetup.engine._types_once)."""

from __future__ import annotations

import typing

from pyinfra.api import arguments
from pyinfra.api import facts as pyinfra_facts
from pyinfra.api.arguments import AllArguments

import envsetup.engine  # noqa: F401 - installs the once-only list


def test_both_callers_get_the_same_types_as_pyinfra_works_out() -> None:
    expected = list(typing.get_type_hints(AllArguments).items())
    for module in (arguments, pyinfra_facts):
        assert module.all_global_arguments() == expected
    first = arguments.all_global_arguments()
    first.clear()  # a caller's list is its own
    assert arguments.all_global_arguments() == expected


def test_pyinfra_still_rejects_a_fact_taking_a_global_argument_name() -> None:
    import pytest

    with pytest.raises(TypeError, match="reserved for global arguments"):

        class Bad(pyinfra_facts.FactBase[str]):
            def command(self, _sudo: bool) -> str:
                return "true"

"""The error hierarchy: each error carries the exit code the CLI returns for it.

Exit codes (documented in README and ``envsetup --help``):

* 0 every step and check ok (``pending`` allowed)
* 1 a step or a verify check failed
* 2 invalid input: usage, recipe, variable, or an unsupported platform; nothing changed
* 3 target unreachable or authentication failed
* 4 envsetup itself failed: an unexpected error (a bug; ``-v`` shows the traceback)
* 130 interrupted (Ctrl-C)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_UNREACHABLE = 3
EXIT_CRASHED = 4  # an unexpected exception: distinct from a failed step, for CI
EXIT_INTERRUPTED = 130


class EnvsetupError(Exception):
    """Base class: a message for the user and an optional fix."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message}\nFix: {self.fix}"


class UsageError(EnvsetupError):
    """Bad command-line input."""

    exit_code = EXIT_INVALID


class RecipeError(EnvsetupError):
    """A recipe that cannot be loaded: malformed YAML, schema errors, unknown recipe."""

    exit_code = EXIT_INVALID


class VariableError(RecipeError):
    """A variable value that does not match its declared type or pattern."""


class PlatformError(EnvsetupError):
    """The target runs a platform the recipe does not support."""

    exit_code = EXIT_INVALID


class TargetError(EnvsetupError):
    """The target cannot be reached or refused authentication."""

    exit_code = EXIT_UNREACHABLE


class StepFailed(EnvsetupError):
    """A step or a verify check failed."""

    exit_code = EXIT_FAILED

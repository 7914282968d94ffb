"""'Did you mean': the known name closest to a misspelt one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name most like ``word`` (a typo, a swapped or missing letter), or None."""
    names = list(known)
    lowered = {name.lower(): name for name in names}
    if word.lower() in lowered:  # only the case differs
        return lowered[word.lower()]
    found = difflib.get_close_matches(word, names, n=1, cutoff=0.75)
    return found[0] if found else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """ ", did you mean 'x'?" for a close name, else ''."""
    match = closest(word, known)
    return f", did you mean '{match}'?" if match else ""

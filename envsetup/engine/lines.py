"""Routing a host's command output lines to a callback (progress of long steps)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pyinfra.connectors.util as connector_util
from pyinfra.api.host import Host


class LineRoutes:
    """Output lines that pyinfra would print for a host, handed to a callback instead.

    pyinfra prints a command's output (``print_output``) through
    ``pyinfra.connectors.util.echo``, each line after the host's print prefix;
    while a route exists, that name points here and lines of routed hosts go to
    their callbacks. Other output is printed as before.
    """

    _ANSI = re.compile(r"\x1b\[[0-9;]*m")

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[str], None]] = {}
        self.original: Callable[..., Any] = connector_util.echo

    @contextlib.contextmanager
    def routed(self, host: Host, callback: Callable[[str], None]) -> Iterator[None]:
        prefix = host.print_prefix
        self.routes[prefix] = callback
        connector_util.echo = self
        try:
            yield
        finally:
            del self.routes[prefix]
            if not self.routes:
                connector_util.echo = self.original

    def __call__(self, text: Any, *args: Any, **kwargs: Any) -> None:
        line = str(text)
        for prefix, callback in self.routes.items():
            if line.startswith(prefix):
                callback(self._ANSI.sub("", line[len(prefix) :]))
                return
        self.original(text, *args, **kwargs)


LINES = LineRoutes()


@contextlib.contextmanager
def streamed(conn: Any, action: Any, progress: Callable[[str], None] | None) -> Iterator[Any]:
    """While ``action`` runs on ``conn``, its streamed lines go to its reader (if it has
    one: see ``apt_progress.READERS``), and what the reader says to ``progress``.

    Yields the reader (None: the action has none). It stays in ``apt_progress.ACTIVE``
    when the run is interrupted (Ctrl-C), so that the interruption can say what it left.
    """
    from envsetup.apt_progress import ACTIVE, READERS

    factory = READERS.get(getattr(action, "name", ""))
    if factory is None:
        yield None
        return
    reader = factory()

    def on_line(line: str) -> None:
        text = reader.feed(line)
        if text and progress is not None:
            progress(text)

    ACTIVE[conn.name] = reader
    try:
        with LINES.routed(conn.host, on_line):
            yield reader
    except Exception:
        ACTIVE.pop(conn.name, None)
        raise
    ACTIVE.pop(conn.name, None)

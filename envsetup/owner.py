"""Running a command as whoever owns the ground it works on, never as root in a user's place.

A venv in ``/home/alice`` is alice's: she can replace its ``bin/python`` with anything,
so root must never execute it (nor write there). ``as_owner_of(path, argv)`` is a shell
command that, on the target, finds the outermost non-root owner of ``path`` or of any
directory above it (``stat`` of the path as it is, symlinks included) and runs ``argv``
as that user with ``runuser``. Only where root owns the whole way down does ``argv`` run
as the ``user`` given (root by default), or, for a caller that is not root (a verify
without sudo), as that caller. A uid without a user name, or a caller that is neither
root nor the owner, makes it refuse (exit 126) rather than run as someone else.
The command runs from ``/``, so nothing in root's working directory is read as the user.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

REFUSED = 126

_SCRIPT = r"""path=$1 who=$2; shift 2; p=$path; o=
while :; do
  if [ -e "$p" ] || [ -L "$p" ]; then
    u=$(stat -c %u -- "$p") || exit 126
    [ "$u" = 0 ] || o=$u
  fi
  [ "$p" = / ] && break
  p=$(dirname -- "$p")
done
if [ -n "$o" ]; then
  who=$(id -nu -- "$o" 2>/dev/null) || {
    echo "envsetup: uid $o owns $path, and has no user name: $1 is not run" >&2; exit 126; }
fi
cd /
if [ "$(id -un)" = "$who" ]; then exec "$@"; fi
if [ "$(id -u)" != 0 ]; then
  [ -z "$o" ] && exec "$@"
  echo "envsetup: $1 must run as $who (who owns $path), and $(id -un) is not root" >&2
  exit 126
fi
exec runuser -u "$who" -- "$@"
"""


def as_owner_of(path: str, argv: Sequence[str], user: str | None = None) -> str:
    """A shell command running ``argv`` as the owner of ``path``'s ground (see above).

    ``user``: who runs it where root owns all of ``path`` (default root).
    """
    if not path.startswith("/"):
        raise ValueError(f"{path!r} is not an absolute path")
    words = [path, user or "root", *argv]
    return f"sh -c {shlex.quote(_SCRIPT)} envsetup-as-owner " + " ".join(
        shlex.quote(word) for word in words
    )

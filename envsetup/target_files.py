"""Reading and writing one file on a target without being led elsewhere.

Both run as one POSIX sh script on the target (inside the root, for ``@chroot``), so no
path is ever resolved on the control machine. The rules:

* A symlink is followed on the target (``readlink -f``) to a regular file; a link that
  dangles, or leads to something else or into /proc, /sys or /dev, is refused.
* The *ground* of a path is every directory on the way to it, and the link itself,
  for both the path as given and the file it leads to. Where a user other than root
  owns any of that ground, the read and the write run as that user (``setpriv``):
  root never writes, and never reads for a diff, where a user can plant links. Ground
  owned by two different users, or a world-writable directory without the sticky
  bit, is refused.
* The new content goes to a ``mktemp`` file (unpredictable name, created exclusively)
  in the file's directory, checked to be a regular file, given its mode and owner,
  and renamed over the file. It is written only when the file is still what was read.
* The old file is kept as ``FILE.envsetup-STAMP``: a hard link to it, or a copy
  renamed into place; neither follows a link planted at that name. Old backups are
  pruned with ``find -print0``, never by parsing ``ls``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
import shutil
from dataclasses import dataclass

MAX_BYTES = 96 * 1024  # the new content travels in the command line (Linux: 128 KiB an arg)
MAX_READ = 1 << 20  # a larger file is not edited
KEEP_BACKUPS = 5

_COMMON = r"""
ground=0 ground_gid=0 ground_name=root
check() {
  set -- "$1" $(stat -c '%u %g %a %U' -- "$1" 2>/dev/null) || return 0
  [ $# -ge 5 ] || return 0
  bits=$4
  case $bits in ????) special=${bits%???}; bits=${bits#?};; *) special=0;; esac
  [ -L "$1" ] || case ${bits#??} in 2|3|6|7)  # a link's own mode means nothing
    case $special in 1|3|5|7) ;; *) refuse "$1 is writable by every user";; esac;;
  esac
  [ "$2" = 0 ] && return 0
  if [ "$ground" = 0 ]; then ground=$2 ground_gid=$3 ground_name=$5
  elif [ "$ground" != "$2" ]; then
    refuse "$1 and the directories above it belong to different users"
  fi
}
walk() {
  q=$1
  [ -L "$q" ] && check "$q"
  while q=$(dirname -- "$q"); [ "$q" != / ]; do check "$q"; done
  check /
}
resolve() {
  case $1 in /*) ;; *) refuse "$1 is not an absolute path";; esac
  walk "$1"
  if [ -L "$1" ] || [ -e "$1" ]; then
    real=$(readlink -f -- "$1") ||
      refuse "$1 is a link to $(readlink -- "$1"), which does not exist"
    [ -e "$real" ] || refuse "$1 is a link to $real, which does not exist"
    walk "$real"
    case $real in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*)
      refuse "$1 leads to $real, which is not a file envsetup edits";;
    esac
    [ -f "$real" ] || refuse "$1 leads to $real, which is not a regular file"
  else
    real=$(readlink -f -- "$1" 2>/dev/null) || real=$1
    walk "$real"
  fi
}
"""

READ_SCRIPT = (
    r"""
refuse() { printf 'refuse %s\n' "$*"; exit 0; }
"""
    + _COMMON
    + r"""
resolve "$1"
printf 'real %s\n' "$(printf %s "$real" | base64 -w0)"
printf 'ground %s %s\n' "$ground" "$ground_name"
if [ ! -e "$real" ]; then echo absent; exit 0; fi
set -- $(stat -c '%a %U %G %s' -- "$real")
[ "$4" -le MAX_READ ] || refuse "$real is larger than envsetup edits (MAX_READ bytes)"
printf 'file %s %s %s\n' "$1" "$2" "$3"
if [ "$ground" = 0 ] || [ "$(id -u)" != 0 ]; then base64 -w0 -- "$real"
else setpriv --reuid="$ground" --regid="$ground_gid" --clear-groups -- base64 -w0 -- "$real"
fi || refuse "$real cannot be read"
echo
""".replace("MAX_READ", str(MAX_READ))
)

WRITE_SCRIPT = (
    r"""
set -u
fail() { printf 'envsetup: %s\n' "$*" >&2; exit 1; }
refuse() { fail "$@"; }
"""
    + _COMMON
    + r"""
self=$1 path=$2 want_real=$3 want_old=$4 content=$5 mode=$6 owner=$7 stamp=$8 keep=$9
resolve "$path"
if [ "$ground" != 0 ] && [ "$(id -u)" = 0 ]; then  # the user's ground: work as the user
  exec setpriv --reuid="$ground" --regid="$ground_gid" --clear-groups -- \
    sh -c "$self" envsetup-write "$@"
fi
[ "$real" = "$want_real" ] || fail "$path now leads to $real, not $want_real; run again"
if [ -f "$real" ]; then old=$(sha256sum -- "$real" | cut -c1-64); else old=absent; fi
[ "$old" = "$want_old" ] || fail "$real changed while envsetup was working on it; run again"
d=$(dirname -- "$real") b=$(basename -- "$real")
mkdir -p -- "$d"
t=$(mktemp -- "$d/.$b.envsetup-XXXXXXXXXX") || fail "cannot create a file in $d"
trap 'rm -f -- "$t"' EXIT
printf %s "$content" | base64 -d > "$t" || fail "cannot write $t"
[ -f "$t" ] && [ ! -L "$t" ] || fail "$t is not the file envsetup created"
chmod -- "$mode" "$t"
if [ "$owner" != - ]; then chown -- "$owner" "$t"; fi
if [ -f "$real" ]; then
  backup="$real.envsetup-$stamp"
  if ! ln -- "$real" "$backup" 2>/dev/null; then
    k=$(mktemp -- "$d/.$b.envsetup-XXXXXXXXXX") && cp -p -- "$real" "$k" &&
      mv -f -T -- "$k" "$backup" || fail "cannot keep a backup of $real"
  fi
fi
mv -f -T -- "$t" "$real"
trap - EXIT
pattern=$(printf %s "$b" | sed 's/[][*?\\]/\\&/g')
find "$d" -maxdepth 1 -type f -name "$pattern.envsetup-[0-9]*" -print0 |
  sort -z | head -z -n "-$keep" | xargs -0 -r rm -f --
"""
)


class FileRefused(Exception):
    """The file is not one envsetup may read or write: why, in one line."""


@dataclass(frozen=True)
class Refusal:
    """The read script's refusal, as a fact's value."""

    reason: str


@dataclass(frozen=True)
class TargetFile:
    """What the read script found: where the path leads, whose ground it is, the file."""

    real: str
    ground_uid: int
    ground_user: str
    mode: str | None = None  # None: the file is absent
    user: str = ""
    group: str = ""
    data: bytes | None = None

    @property
    def sha256(self) -> str:
        return "absent" if self.data is None else hashlib.sha256(self.data).hexdigest()


def read_command(path: str) -> str:
    return f"sh -c {shlex.quote(READ_SCRIPT)} envsetup-read {shlex.quote(path)}"


def parse_read(output: list[str]) -> TargetFile:
    """The read script's output; FileRefused where it refused."""
    fields: dict[str, list[str]] = {}
    rest: list[str] = []
    for line in output:
        word, _, value = line.partition(" ")
        if word == "refuse":
            raise FileRefused(value)
        if word in ("real", "ground", "file") and word not in fields:
            fields[word] = value.split(" ")
        elif word != "absent":
            rest.append(line)
    if "real" not in fields or "ground" not in fields:
        raise FileRefused("the target gave no answer about the file: " + " ".join(output)[-200:])
    real = base64.b64decode(fields["real"][0]).decode("utf-8", errors="surrogateescape")
    uid, name = fields["ground"]
    found = TargetFile(real, int(uid), name)
    if "file" not in fields:
        return found
    mode, user, group = fields["file"]
    data = base64.b64decode("".join(rest))
    return TargetFile(real, int(uid), name, mode, user, group, data)


def write_command(
    path: str, found: TargetFile, content: bytes, mode: str, owner: str, stamp: str
) -> str:
    """The script that puts ``content`` at the file ``found`` describes, or fails saying why.

    ``owner`` is ``user:group``. On a user's ground the file can only be that user's.
    """
    if len(content) > MAX_BYTES:
        raise FileRefused(f"{path}: envsetup writes files up to {MAX_BYTES // 1024} KiB")
    user = owner.partition(":")[0]
    if found.ground_uid != 0 and user != found.ground_user:
        raise FileRefused(
            f"{path} would be owned by {user}, but {found.ground_user} owns the directories "
            "it is in, and envsetup writes there only as that user"
        )
    args = [
        WRITE_SCRIPT,
        path,
        found.real,
        found.sha256,
        base64.b64encode(content).decode(),
        mode,
        owner if found.ground_uid == 0 else "-",
        stamp,
        str(KEEP_BACKUPS),
    ]
    quoted = " ".join(shlex.quote(arg) for arg in args)
    return f"sh -c {shlex.quote(WRITE_SCRIPT)} envsetup-write {quoted}"


def copy_into_root(root: str, path: str, source: str) -> None:
    """Copy the local file ``source`` over the existing file ``path`` of the chroot ``root``,
    every link on the way resolved *inside* the root (as a chrooted process would), so that
    a link the root holds can never lead the copy to a file of this machine.

    pyinfra's @chroot upload is a ``cp`` on this machine, which follows such links; this is
    used instead (see ``ops.put_verified``).
    """
    directory, _, name = path.rpartition("/")
    fd = _open_beneath(root, directory)
    try:
        try:
            out = os.open(name, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW, dir_fd=fd)
        except OSError as exc:
            raise FileRefused(f"{path} in {root}: {exc.strerror}") from None
        with open(source, "rb") as src, os.fdopen(out, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    finally:
        os.close(fd)


def _open_beneath(root: str, directory: str) -> int:
    """A descriptor of ``directory`` of the root, links resolved as if chrooted."""
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    stack = [root_fd]  # the directories walked, for '..'
    parts = [p for p in directory.split("/") if p]
    hops = 0
    try:
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                if len(stack) > 1:
                    os.close(stack.pop())
                continue
            try:
                fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=stack[-1])
            except OSError:
                try:
                    target = os.readlink(part, dir_fd=stack[-1])
                except OSError as exc:
                    raise FileRefused(f"{directory} in {root}: {exc.strerror}") from None
                hops += 1
                if hops > 40:
                    raise FileRefused(f"{directory} in {root}: too many links") from None
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                parts[:0] = [p for p in target.split("/") if p]
                continue
            stack.append(fd)
        result = os.dup(stack[-1])
    finally:
        for fd in stack:
            os.close(fd)
    return result

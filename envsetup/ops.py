"""The facts and operations envsetup adds to pyinfra, in pyinfra's own shape.

A fact is a command plus a pure ``process``; an operation reads facts and yields
commands only when something differs (``host.noop`` otherwise), so a second run
yields nothing. Only what pyinfra lacks lives here: byte-exact file edits,
update-alternatives, a guarded shell command, and apt that refreshes its lists
only when it has something to install.
"""

from __future__ import annotations

import base64
import shlex
import time
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any

from pyinfra import host
from pyinfra.api import FactBase, FileUploadCommand, StringCommand, operation
from pyinfra.facts.apt import noninteractive_apt
from pyinfra.operations import apt
from pyinfra.operations.util.packaging import PkgInfo, ensure_packages

from envsetup.platforms import TARGET_INFO_COMMAND, parse_target_info


class TargetInfo(FactBase[dict[str, str]]):
    """os-release, architecture, user, kernel, WSL and PID 1, in one round trip."""

    def command(self) -> str:
        return TARGET_INFO_COMMAND

    def process(self, output: list[str]) -> dict[str, str]:
        return parse_target_info(output)


class RawFile(FactBase[dict[str, Any] | None]):
    """A file's mode, owner, group and exact bytes; None when absent.

    A file that exists but cannot be read gives ``{"unreadable": ...}``, never None:
    an editor must not mistake it for an absent file and overwrite it.
    """

    @staticmethod
    def default() -> dict[str, Any]:
        return {"unreadable": "the file could not be read"}

    def command(self, path: str) -> str:
        quoted = shlex.quote(path)
        return (
            f"if [ -f {quoted} ]; then stat -c '%a %U %G' {quoted} && base64 -w0 {quoted} && echo;"
            f" elif [ -e {quoted} ]; then echo not-a-file; else echo absent; fi"
        )

    def process(self, output: list[str]) -> dict[str, Any] | None:
        if output == ["absent"]:
            return None
        if output == ["not-a-file"]:
            return {"unreadable": "it exists but is not a regular file"}
        mode, user, group = output[0].split()
        data = base64.b64decode("".join(output[1:]))
        return {"mode": mode, "user": user, "group": group, "bytes": data}


class Alternative(FactBase[dict[str, Any] | None]):
    """``update-alternatives --query NAME``: the current value and the registered paths."""

    def command(self, alternative: str) -> str:
        return f"update-alternatives --query {shlex.quote(alternative)} 2>/dev/null || true"

    def process(self, output: list[str]) -> dict[str, Any] | None:
        value = None
        paths = []
        for line in output:
            if line.startswith("Value:"):
                value = line.split(":", 1)[1].strip()
            elif line.startswith("Alternative:"):
                paths.append(line.split(":", 1)[1].strip())
        return {"value": value, "paths": paths} if paths else None


class CommandSucceeds(FactBase[bool]):
    """Whether a shell command exits 0."""

    def command(self, command: str) -> str:
        return f"if ( {command} ) >/dev/null 2>&1; then echo yes; else echo no; fi"

    def process(self, output: list[str]) -> bool:
        return bool(output) and output[-1] == "yes"


class PathExists(FactBase[bool]):
    def command(self, path: str) -> str:
        return f"if [ -e {shlex.quote(path)} ]; then echo yes; else echo no; fi"

    def process(self, output: list[str]) -> bool:
        return bool(output) and output[-1] == "yes"


class UnreadableFile(Exception):
    pass


def decode(raw: dict[str, Any] | None, path: str) -> str | None:
    """A RawFile fact as text (None when the file is absent); refuses an unreadable one."""
    if raw is None:
        return None
    if "unreadable" in raw:
        raise UnreadableFile(f"cannot read {path}: {raw['unreadable']}; it was left as it is")
    data: bytes = raw["bytes"]
    return data.decode("utf-8", errors="surrogateescape")


@operation()
def edit_file(
    path: str,
    edit: Callable[[str | None], str | None],
    mode: str | None = None,
    owner: str | None = None,
    group: str | None = None,
) -> Iterator[Any]:
    """Rewrite ``path`` through ``edit`` when the result differs, atomically.

    The new content goes to a temporary file in the same directory, gets the
    original's mode and owner (or the given ones), and is renamed over the file.
    The original is kept as ``<file>.envsetup-<UTC timestamp>`` (the last few).
    """
    raw = host.get_fact(RawFile, path=path)
    old = decode(raw, path)
    new = edit(old)
    if new is None:
        host.noop(f"{path} is absent, as wanted")
        return
    mode_ok = raw is None or mode is None or int(raw["mode"], 8) == int(mode, 8)
    if new == old and mode_ok:
        host.noop(f"{path} is up to date")
        return
    want_mode = mode or (raw["mode"] if raw else "644")
    if new == old:
        yield StringCommand("chmod", want_mode, shlex.quote(path))
        return
    want_owner = owner or (raw["user"] if raw else "root")
    want_group = group or (raw["group"] if raw else want_owner)
    directory, _, base = path.rpartition("/")
    temp = f"{directory}/.{base}.envsetup-new"
    # creating the temporary file first makes a read-only or unwritable target say so
    yield StringCommand(
        "mkdir", "-p", shlex.quote(directory or "/"), "&&", "touch", shlex.quote(temp)
    )
    yield FileUploadCommand(BytesIO(new.encode("utf-8", errors="surrogateescape")), temp)
    if raw is not None:  # keep the original next to it, and only the last few of those
        yield from _backup(path)
    yield StringCommand(
        "chmod",
        want_mode,
        shlex.quote(temp),
        "&&",
        "chown",
        shlex.quote(f"{want_owner}:{want_group}"),
        shlex.quote(temp),
        "&&",
        "mv",
        "-f",
        shlex.quote(temp),
        shlex.quote(path),
    )


def _backup(path: str) -> Iterator[StringCommand]:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    quoted = shlex.quote(path)
    yield StringCommand("cp", "-p", quoted, shlex.quote(f"{path}.envsetup-{stamp}"))
    prune = (
        f"ls -1d -- {quoted}.envsetup-* 2>/dev/null | sort | head -n -{KEEP_BACKUPS} "
        '| while IFS= read -r old; do rm -f -- "$old"; done'
    )
    yield StringCommand("sh", "-c", shlex.quote(prune))


KEEP_BACKUPS = 5  # backups kept next to an edited file
LOCK_TIMEOUT = 300  # seconds apt waits for another apt/dpkg to release its lock


class DpkgInterrupted(FactBase[bool]):
    """Whether an earlier dpkg run was killed half way ("dpkg was interrupted")."""

    def command(self) -> str:
        return 'if [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ]; then echo yes; fi'

    def process(self, output: list[str]) -> bool:
        return output[-1:] == ["yes"]


class DebPackagesNamed(FactBase[dict[str, set[str]]]):
    """The installed versions of the named packages, as pyinfra's ``DebPackages`` has them.

    ``DebPackages`` lists every package (``dpkg -l``: thousands of lines on a desktop,
    sent and parsed on every run); a step only needs its own.
    """

    @staticmethod
    def default() -> dict[str, set[str]]:
        return {}

    def requires_command(self, names: list[str]) -> str:
        return "dpkg-query"

    def command(self, names: list[str]) -> str:
        quoted = " ".join(shlex.quote(name) for name in names)
        line = "'${db:Status-Abbrev} ${Package} ${Version}\\n'"
        # a name dpkg does not know is an error (on stderr) that must not fail the fact
        return f"dpkg-query -W -f={line} -- {quoted} || true"

    def process(self, output: list[str]) -> dict[str, set[str]]:
        packages: dict[str, set[str]] = {}
        for line in output:
            status, _, rest = line.partition(" ")
            name, _, version = rest.strip().partition(" ")
            if status in ("ii", "hi") and name and version:  # installed, or installed and held
                packages.setdefault(name, set()).add(version)
        return packages


def _name(package: str) -> str:
    """A package's name, split from a ``name=version`` the way ``ensure_packages`` does."""
    name: str = PkgInfo.from_possible_pair(package, "=").name
    return name


def _apt(command: str) -> str:
    """apt-get, non-interactive, waiting (bounded) for a lock another process holds."""
    return str(noninteractive_apt(f"-o DPkg::Lock::Timeout={LOCK_TIMEOUT} {command}"))


@operation()
def apt_packages(
    packages: list[str],
    present: bool = True,
    update: bool = True,
    cache_time: int = 3600,
    no_recommends: bool = False,
) -> Iterator[Any]:
    """Ensure packages are installed or removed; refresh lists only when installing.

    A dpkg run that was killed half way is finished first (``dpkg --configure -a``).
    """
    install = "install --no-install-recommends" if no_recommends else "install"
    interrupted = host.get_fact(DpkgInterrupted)
    commands = list(
        ensure_packages(
            host,
            packages,
            host.get_fact(DebPackagesNamed, names=sorted({_name(p) for p in packages})),
            present,
            install_command=_apt(install),
            uninstall_command=_apt("remove"),
            upgrade_command=_apt(install),
            version_join="=",
        )
    )
    if interrupted:
        yield "DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold --configure -a"
    elif not commands:
        return
    if update and present and commands:
        yield from apt.update._inner(cache_time=cache_time)
    yield from commands


class FileSha256(FactBase[str | None]):
    """The SHA-256 of a file (None when absent or unreadable)."""

    def command(self, path: str) -> str:
        quoted = shlex.quote(path)
        return f"if [ -f {quoted} ]; then sha256sum {quoted} | cut -c1-64; else echo absent; fi"

    def process(self, output: list[str]) -> str | None:
        return None if output[-1:] == ["absent"] else (output[-1] if output else None)


@operation()
def put_verified(src: str, dest: str, sha256: str, mode: str = "0644") -> Iterator[Any]:
    """Upload a checked file, check its SHA-256 again on the target, then rename it in place."""
    if host.get_fact(FileSha256, path=dest) == sha256:
        host.noop(f"{dest} already has that checksum")
        return
    part = shlex.quote(f"{dest}.envsetup-part")
    directory = shlex.quote(dest.rpartition("/")[0] or "/")
    yield StringCommand(f"mkdir -p {directory} && rm -f {part} && touch {part}")
    yield FileUploadCommand(src, f"{dest}.envsetup-part")
    check = shlex.quote(f"{sha256}  {dest}.envsetup-part")
    yield StringCommand(
        f"if echo {check} | sha256sum -c --status -; then chmod {mode} {part} && mv -f {part} "
        f"{shlex.quote(dest)}; else rm -f {part}; echo 'checksum mismatch after upload' >&2; "
        "exit 1; fi"
    )


def as_user(user: str | None, *argv: str) -> StringCommand:
    """A command run as ``user`` (root stays root), every argument quoted."""
    quoted = [shlex.quote(arg) for arg in argv]
    if user and user != "root":
        return StringCommand("runuser", "-u", shlex.quote(user), "--", *quoted)
    return StringCommand(*quoted)


class VenvPackages(FactBase[dict[str, str] | None]):
    """Distributions installed in a virtual environment: normalized name -> version."""

    def command(self, venv: str) -> str:
        python = shlex.quote(f"{venv}/bin/python")
        code = shlex.quote(
            "import importlib.metadata as m, json, re; print(json.dumps({"
            "re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version "
            "for d in m.distributions()}))"
        )
        return f"if [ -x {python} ]; then {python} -c {code}; else echo absent; fi"

    def process(self, output: list[str]) -> dict[str, str] | None:
        if output[-1:] == ["absent"]:
            return None
        import json

        data: dict[str, str] = json.loads(output[-1])
        return data


@operation()
def venv(path: str, user: str | None = None, python: str = "python3") -> Iterator[Any]:
    """A virtual environment at ``path``, created as ``user``; never recreated."""
    if host.get_fact(PathExists, path=f"{path}/bin/python"):
        host.noop(f"{path} exists")
        return
    parent = path.rstrip("/").rpartition("/")[0] or "/"
    yield as_user(user, "mkdir", "-p", parent)
    yield as_user(user, python, "-m", "venv", path)


@operation()
def pip_packages(
    venv: str, requirements: list[str], user: str | None = None, options: list[str] | None = None
) -> Iterator[Any]:
    """Install the requirements a venv does not satisfy yet, then record what is installed."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    installed = host.get_fact(VenvPackages, venv=venv) or {}
    missing = []
    for text in requirements:
        requirement = Requirement(text)
        version = installed.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            missing.append(text)
    if not missing:
        host.noop("every requirement is satisfied")
        return
    pip = f"{venv}/bin/pip"
    yield as_user(
        user,
        pip,
        "install",
        "--disable-pip-version-check",
        "--no-input",
        *(options or []),
        *missing,
    )
    record = f"{shlex.quote(pip)} freeze --disable-pip-version-check > " + shlex.quote(
        f"{venv}/envsetup-installed.txt"
    )
    yield as_user(user, "sh", "-c", record)  # the versions installed, recorded


@operation()
def alternatives(links: dict[str, str], jinfo: str | None = None) -> Iterator[Any]:
    """Point each update-alternatives link at its path, and every link a ``.jinfo`` lists.

    A ``.jinfo`` file (``/usr/lib/jvm/.java-1.17.0-openjdk-amd64.jinfo``) is what
    ``update-java-alternatives --set`` reads: one line per tool the JDK registers. Its
    tools that are not registered (the GUI ones of a headless JDK) are left alone,
    as update-java-alternatives does.
    """
    wanted = dict(links)
    if jinfo is not None:
        entries = host.get_fact(JinfoAlternatives, jinfo=jinfo)
        if entries is None:  # not installed yet (a plan), or another JDK layout: verify says
            host.noop(f"{jinfo} does not exist: only {', '.join(links) or 'nothing'} set")
            entries = []
        for name, path, registered, current in entries:
            if name in wanted:
                continue
            if not registered:
                host.noop(f"{name}: {path} is not registered (not part of this JDK flavour)")
            elif current == path:
                host.noop(f"{name} already points at {path}")
            else:
                yield StringCommand(
                    "update-alternatives", "--set", shlex.quote(name), shlex.quote(path)
                )
    for name, path in links.items():
        current = host.get_fact(Alternative, alternative=name)
        if current and current["value"] == path:
            host.noop(f"{name} already points at {path}")
            continue
        yield StringCommand("update-alternatives", "--set", shlex.quote(name), shlex.quote(path))


# the kinds of lines in a .jinfo that name a tool's alternative (java-common's
# update-java-alternatives also reads "plugin" lines: browser plugins, long gone)
JINFO_KINDS = ("hl", "jre", "jrehl", "jdk", "jdkhl")


class JinfoAlternatives(FactBase[list[tuple[str, str, bool, str | None]] | None]):
    """Each tool a ``.jinfo`` lists: its path, whether it is registered, the current value.

    One round trip for all of them; None when the file does not exist.
    """

    def command(self, jinfo: str) -> str:
        kinds = "|".join(JINFO_KINDS)
        return (
            f'f={shlex.quote(jinfo)}; if [ ! -f "$f" ]; then echo absent; exit 0; fi; '
            f"grep -E '^({kinds}) ' \"$f\" | while read -r kind name path; do "
            'q=$(update-alternatives --query "$name" 2>/dev/null); '
            "v=$(printf '%s\\n' \"$q\" | sed -n 's/^Value: //p'); "
            'if printf \'%s\\n\' "$q" | grep -qxF "Alternative: $path"; then r=1; else r=0; fi; '
            'printf \'%s %s %s %s\\n\' "$name" "$path" "$r" "${v:--}"; done'
        )

    def process(self, output: list[str]) -> list[tuple[str, str, bool, str | None]] | None:
        if output == ["absent"]:
            return None
        entries = []
        for line in output:
            fields = line.split(" ")
            if len(fields) == 4:
                name, path, registered, current = fields
                entries.append((name, path, registered == "1", None if current == "-" else current))
        return entries


@operation()
def guarded_shell(run: str, creates: str | None = None, unless: str | None = None) -> Iterator[Any]:
    """Run a shell command unless ``creates`` exists or ``unless`` succeeds."""
    if creates and host.get_fact(PathExists, path=creates):
        host.noop(f"{creates} exists")
        return
    if unless and host.get_fact(CommandSucceeds, command=unless):
        host.noop("guard command succeeded")
        return
    yield StringCommand("sh", "-c", shlex.quote(run))


class Unpacked(FactBase[str | None]):
    """What an ``archive`` step last unpacked (its stamp), or None when a created path is gone."""

    def command(self, stamp: str, paths: list[str]) -> str:
        tests = "".join(f" && [ -e {shlex.quote(p)} ]" for p in paths)
        quoted = shlex.quote(stamp)
        return f"if [ -f {quoted} ]{tests}; then head -n 1 {quoted}; else echo absent; fi"

    def process(self, output: list[str]) -> str | None:
        return None if output[-1:] == ["absent"] or not output else output[-1]


def decompressor(archive: str) -> str:
    """tar's option for an archive's compression (``-I zstd`` works with tar before 1.31)."""
    if archive.endswith((".tgz", ".tar.gz")):
        return "-z"
    if archive.endswith(".tar.zst"):
        return "-I zstd"
    if archive.endswith(".tar.xz"):
        return "-J"
    return ""


@operation()
def unpack_archive(
    archive: str, dest: str, stamp: str, record: str, replace: list[str]
) -> Iterator[Any]:
    """Unpack a checked archive into ``dest`` (``replace`` paths removed first), then stamp it.

    The archive was checked before upload; it is deleted once unpacked.
    """
    quoted = shlex.quote(archive)
    removals = " ".join(shlex.quote(f"{dest.rstrip('/')}/{path}") for path in replace)
    script = [f"mkdir -p {shlex.quote(dest)}"]
    if removals:
        script.append(f"rm -rf {removals}")
    script += [
        f"tar -x {decompressor(archive)} --no-same-owner -f {quoted} -C {shlex.quote(dest)}",
        f"rm -f {quoted}",
        f"mkdir -p {shlex.quote(stamp.rpartition('/')[0] or '/')}",
        f"printf '%s\\n' {shlex.quote(record)} > {shlex.quote(stamp)}",
    ]
    yield StringCommand("sh", "-c", shlex.quote("set -e; " + "; ".join(script)))

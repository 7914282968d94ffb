"""The facts and operations envsetup adds to pyinfra, in pyinfra's own shape.

A fact is a command plus a pure ``process``; an operation reads facts and yields
commands only when something differs (``host.noop`` otherwise), so a second run
yields nothing. Only what pyinfra lacks lives here: byte-exact file edits,
update-alternatives, a guarded shell command, and apt that refreshes its lists
only when it has something to install.
"""

from __future__ import annotations

import posixpath
import shlex
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pyinfra import host
from pyinfra.api import FactBase, FileUploadCommand, FunctionCommand, StringCommand, operation
from pyinfra.facts.apt import noninteractive_apt
from pyinfra.operations import apt
from pyinfra.operations.util.packaging import PkgInfo, ensure_packages

from envsetup import target_files
from envsetup.apt_progress import STATUS_FD, Streamed, with_status_pipe
from envsetup.engine import sudo
from envsetup.owner import as_owner_of
from envsetup.platforms import TARGET_INFO_COMMAND, parse_target_info
from envsetup.target_files import FileRefused, Refusal, TargetFile


class TargetInfo(FactBase[dict[str, str]]):
    """os-release, architecture, user, kernel, WSL and PID 1, in one round trip."""

    def command(self) -> str:
        return TARGET_INFO_COMMAND

    def process(self, output: list[str]) -> dict[str, str]:
        return parse_target_info(output)


class RawFile(FactBase[TargetFile | Refusal]):
    """Where a path leads on the target, whose ground it is, and the file's mode, owner and
    exact bytes (see ``envsetup.target_files``); a ``Refusal`` says why it is not editable.

    A file that exists but cannot be read is refused, never taken as absent: an editor
    must not mistake it for a missing file and overwrite it.
    """

    @staticmethod
    def default() -> Refusal:
        return Refusal("the target could not read the file")

    def command(self, path: str) -> str:
        return target_files.read_command(path)

    def process(self, output: list[str]) -> TargetFile | Refusal:
        try:
            return target_files.parse_read(output)
        except FileRefused as exc:
            return Refusal(str(exc))


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


def decode(found: TargetFile | Refusal) -> str | None:
    """A RawFile fact as text (None when the file is absent); FileRefused for a refusal."""
    if isinstance(found, Refusal):
        raise FileRefused(f"{found.reason}; it was left as it is")
    if found.data is None:
        return None
    return found.data.decode("utf-8", errors="surrogateescape")


@operation()
def edit_file(
    path: str,
    edit: Callable[[str | None], str | None],
    mode: str | None = None,
    owner: str | None = None,
    group: str | None = None,
    create_mode: str | None = None,
) -> Iterator[Any]:
    """Rewrite the file ``path`` leads to through ``edit`` when the result differs.

    ``mode``, ``owner`` and ``group`` are enforced; otherwise the file keeps its own, and a
    new file gets ``create_mode`` (0644 by default).

    See ``envsetup.target_files``: links are followed on the target, the work is done
    as the user who owns the ground, the new file is a ``mktemp`` file renamed over the
    old one, which is kept as ``<file>.envsetup-<UTC timestamp>`` (the last few).
    """
    found = host.get_fact(RawFile, path=path)
    old = decode(found)
    new = edit(old)
    if new is None:
        if old is not None:
            raise FileRefused(f"{path} exists; removing a file is not an edit")
        host.noop(f"{path} is absent, as wanted")
        return
    assert isinstance(found, TargetFile)
    mode_ok = found.mode is None or mode is None or int(found.mode, 8) == int(mode, 8)
    if new == old and mode_ok:
        host.noop(f"{path} is up to date")
        return
    want_mode = mode or found.mode or create_mode or "644"
    if found.mode is None:  # a new file: the ground's owner's unless said otherwise
        who = owner or found.ground_user
        want_owner = f"{who}:{group or who}"
    else:
        want_owner = f"{owner or found.user}:{group or found.group}"
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    data = new.encode("utf-8", errors="surrogateescape")
    yield StringCommand(target_files.write_command(path, found, data, want_mode, want_owner, stamp))


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
    # apt's status lines stream back as progress (envsetup.apt_progress)
    install = f"{STATUS_FD} {install}"
    interrupted = host.get_fact(DpkgInterrupted)
    commands = list(
        ensure_packages(
            host,
            packages,
            host.get_fact(DebPackagesNamed, names=sorted({_name(p) for p in packages})),
            present,
            install_command=_apt(install),
            uninstall_command=_apt(f"{STATUS_FD} remove"),
            upgrade_command=_apt(install),
            version_join="=",
        )
    )
    if interrupted:
        yield Streamed(  # its status lines say what it finished (envsetup.apt_progress)
            with_status_pipe(
                "DEBIAN_FRONTEND=noninteractive dpkg --status-fd 3 --force-confdef "
                "--force-confold --configure -a"
            )
        )
    elif not commands:
        return
    if update and present and commands:
        yield from apt.update._inner(cache_time=cache_time)
    yield from (Streamed(with_status_pipe(command)) for command in commands)


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
    connector = sudo.underlying(host.connector)
    if type(connector).__name__ == "ChrootConnector":  # never resolved on this machine
        root = host.connector_data["chroot_directory"]
        yield FunctionCommand(target_files.copy_into_root, (root, f"{dest}.envsetup-part", src), {})
    else:
        yield FileUploadCommand(src, f"{dest}.envsetup-part")
    check = shlex.quote(f"{sha256}  {dest}.envsetup-part")
    yield StringCommand(
        f"if echo {check} | sha256sum -c --status -; then chmod {mode} {part} && mv -f {part} "
        f"{shlex.quote(dest)}; else rm -f {part}; echo 'checksum mismatch after upload' >&2; "
        "exit 1; fi"
    )


def as_owner(path: str, user: str | None, *argv: str) -> StringCommand:
    """``argv`` run as whoever owns ``path``'s ground, ``user`` where root owns it all.

    See ``envsetup.owner``: root never runs or writes in a directory a user owns.
    """
    return StringCommand(as_owner_of(path, argv, user))


class VenvPackages(FactBase[dict[str, str] | None]):
    """Distributions installed in a virtual environment: normalized name -> version.

    The venv's python runs as the venv's owner, never as root in a user's venv.
    """

    def command(self, venv: str) -> str:
        python = f"{venv}/bin/python"
        code = (
            "import importlib.metadata as m, json, re; print(json.dumps({"
            "re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version "
            "for d in m.distributions()}))"
        )
        run = as_owner_of(venv, [python, "-I", "-c", code])
        return f"if [ -x {shlex.quote(python)} ]; then {run}; else echo absent; fi"

    def process(self, output: list[str]) -> dict[str, str] | None:
        if output[-1:] == ["absent"]:
            return None
        import json

        if not output or not output[-1].startswith("{"):
            said = " | ".join(output[-3:]) or "nothing"
            raise ValueError(f"the venv's python did not list its packages (it printed {said})")
        data: dict[str, str] = json.loads(output[-1])
        return data


def _installer_argv(installer: str, uv: str | None, venv: str) -> list[str]:
    """How packages are installed into ``venv``: its own pip, or uv acting on it."""
    if installer == "uv":
        if not uv:
            raise ValueError("installer uv needs the path of uv")
        return [uv, "pip", "install", "--python", f"{venv}/bin/python"]
    return [f"{venv}/bin/pip", "install", "--disable-pip-version-check", "--no-input"]


@operation()
def venv(
    path: str,
    user: str | None = None,
    python: str = "python3",
    installer: str = "pip",
    uv: str | None = None,
    options: list[str] | None = None,
) -> Iterator[Any]:
    """A virtual environment at ``path``, created as its owner; never recreated.

    With uv, ``uv venv`` makes it and pip is installed in it with uv (``options``
    are uv's), so that ``pip install`` works for whoever activates it.
    """
    if host.get_fact(PathExists, path=f"{path}/bin/python"):
        host.noop(f"{path} exists")
        return
    parent = path.rstrip("/").rpartition("/")[0] or "/"
    yield as_owner(path, user, "mkdir", "-p", parent)
    if installer == "uv":
        if not uv:
            raise ValueError("installer uv needs the path of uv")
        yield as_owner(path, user, uv, "venv", "--no-python-downloads", "--python", python, path)
        yield as_owner(path, user, *_installer_argv("uv", uv, path), *(options or []), "pip")
    else:
        yield as_owner(path, user, python, "-m", "venv", path)


@operation()
def pip_packages(
    venv: str,
    requirements: list[str],
    user: str | None = None,
    options: list[str] | None = None,
    installer: str = "pip",
    uv: str | None = None,
    builds: dict[str, str] | None = None,
) -> Iterator[Any]:
    """Install the requirements a venv does not satisfy yet, then record what is installed.

    ``builds`` names the build a package must be (``{"torch": "cpu"}``, the local
    version label): an installed one of another build is replaced, not kept.
    """
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from envsetup.pytorch import build_of

    installed = host.get_fact(VenvPackages, venv=venv) or {}
    missing, replace = [], []
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        version = installed.get(name)
        build = (builds or {}).get(name)
        if version is not None and build is not None and build_of(version) != build:
            missing.append(text)
            replace.append(name)
        elif version is None or not requirement.specifier.contains(version, prereleases=True):
            missing.append(text)
    if not missing:
        host.noop("every requirement is satisfied")
        return
    if replace and installer == "uv":
        options = [*(options or []), *(f"--reinstall-package={name}" for name in replace)]
    elif replace:  # pip keeps a satisfied package: the other build goes first
        yield as_owner(venv, user, f"{venv}/bin/pip", "uninstall", "-y", *replace)
    yield as_owner(venv, user, *_installer_argv(installer, uv, venv), *(options or []), *missing)
    if installer == "uv":
        freeze = [uv or "uv", "pip", "freeze", "--python", f"{venv}/bin/python"]
    else:
        freeze = [f"{venv}/bin/pip", "freeze", "--disable-pip-version-check"]
    record = (
        " ".join(shlex.quote(word) for word in freeze)
        + " > "
        + shlex.quote(f"{venv}/envsetup-installed.txt")
    )
    yield as_owner(venv, user, "sh", "-c", record)  # the versions installed, recorded


class UvTool(FactBase[str]):
    """uv in its own venv at ``path``: ``absent``, ``unsafe``, ``broken`` or its version.

    ``unsafe``: the path, a directory above it, or the venv's ``bin`` or ``bin/uv``
    belongs to another user than root or is writable by group or others. Root runs
    this uv, so nobody else may be able to change it; uv itself is never run then.
    """

    def command(self, path: str) -> str:
        above = [path]
        while above[-1] != "/":
            above.append(above[-1].rpartition("/")[0] or "/")
        chain = [*reversed(above), f"{path}/bin", f"{path}/bin/uv"]
        paths = " ".join(shlex.quote(p) for p in chain)
        uv = shlex.quote(f"{path}/bin/uv")
        return (
            f'if [ -n "$(find {paths} -maxdepth 0 \\( ! -user root -o -perm /022 \\)'
            ' -print 2>/dev/null)" ]; then echo unsafe;'
            f" elif [ ! -e {shlex.quote(path)} ]; then echo absent;"
            f" elif [ -x {uv} ] && {uv} --version; then :; else echo broken; fi"
        )

    def process(self, output: list[str]) -> str:
        last = output[-1].strip() if output else "broken"
        if last in ("unsafe", "absent", "broken"):
            return last
        return last.split()[1] if last.startswith("uv ") and len(last.split()) > 1 else "broken"


@operation()
def uv_tool(path: str, version: str, options: list[str] | None = None) -> Iterator[Any]:
    """uv ``version`` from PyPI in a venv of its own at ``path``, root's alone.

    Root installs it (pip, with ``options``); uv then only ever runs as the owner of
    the venv it works on (see ``as_owner``).
    """
    state = host.get_fact(UvTool, path=path)
    if state == version:
        host.noop(f"uv {version} is in {path}")
        return
    if state == "unsafe":
        raise ValueError(
            f"{path}, or a directory above it, belongs to a user other than root or is "
            "writable by others: envsetup will not install or run uv there"
        )
    quoted = shlex.quote(path)
    pip = shlex.quote(f"{path}/bin/pip")
    extra = " ".join(shlex.quote(option) for option in options or [])
    yield StringCommand(
        "sh",
        "-c",
        shlex.quote(
            f"umask 022 && mkdir -p {quoted} && {{ [ -x {pip} ] || python3 -m venv {quoted}; }}"
            f" && {pip} install --disable-pip-version-check --no-input {extra}"
            f" {shlex.quote('uv==' + version)}"
        ),
    )


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
def guarded_shell(
    run: str, creates: str | None = None, unless: str | None = None, as_owner_of: str | None = None
) -> Iterator[Any]:
    """Run a shell command unless ``creates`` exists or ``unless`` succeeds.

    ``as_owner_of``: run it as whoever owns that path (see ``as_owner``).
    """
    if creates and host.get_fact(PathExists, path=creates):
        host.noop(f"{creates} exists")
        return
    if unless and host.get_fact(CommandSucceeds, command=unless):
        host.noop("guard command succeeded")
        return
    if as_owner_of:
        yield as_owner(as_owner_of, None, "sh", "-c", run)
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


UNPACK_SCRIPT = Path(__file__).with_name("unpack.sh")


@operation()
def unpack_archive(
    archive: str,
    dest: str,
    stamp: str,
    record: str,
    sha256: str,
    replace: list[str],
    owned: list[str],
) -> Iterator[Any]:
    """Unpack a checked archive into ``dest`` safely (see ``unpack.sh``), then stamp it.

    On the target, as root: the archive's SHA-256 is checked again, its listing is
    refused when a member is a device, FIFO, socket, setuid or setgid file, an
    absolute or ``..`` path, a link out of ``dest`` or a path under one of its own
    links; it is unpacked into a fresh private directory inside ``dest``, checked
    again as files, and only then moved in: ``replace`` paths removed, directories
    merged, never through a symbolic link that ``dest`` already has. Every member
    must lie within an ``owned`` path (or be a directory above one). A refused
    archive leaves ``dest`` as it was. The archive is deleted either way.
    """
    paths = [posixpath.normpath(path).strip("/") for path in replace]
    declared = "\n".join(dict.fromkeys(posixpath.normpath(path).strip("/") for path in owned))
    args = (archive, dest, sha256, stamp, record, declared, *paths)
    script = UNPACK_SCRIPT.read_text(encoding="utf-8")
    yield StringCommand(
        "sh", "-c", shlex.quote(script), "envsetup-unpack", *(shlex.quote(a) for a in args)
    )

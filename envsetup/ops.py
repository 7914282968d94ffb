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
from pyinfra.api import FactBase, FileUploadCommand, StringCommand, operation
from pyinfra.facts.apt import noninteractive_apt
from pyinfra.operations import apt
from pyinfra.operations.util.packaging import PkgInfo, ensure_packages

from envsetup import target_files
from envsetup.apt_progress import STATUS_FD, Streamed, with_status_pipe
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
    yield StringCommand(
        target_files.write_command(path, found, data, want_mode, want_owner, stamp)
    )


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
def alternatives(links: dict[str, str]) -> Iterator[Any]:
    """Point each update-alternatives link at its path."""
    for name, path in links.items():
        current = host.get_fact(Alternative, alternative=name)
        if current and current["value"] == path:
            host.noop(f"{name} already points at {path}")
            continue
        yield StringCommand("update-alternatives", "--set", shlex.quote(name), shlex.quote(path))


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

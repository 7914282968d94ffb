"""The archive step against hostile archives, built here with tarfile, on a real Debian 12
root: each is refused with one clear line before anything moves into place, and nothing
outside the intended files changes; a good archive unpacks with safe owners and modes,
and a second apply changes nothing."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import run_json
from tests.integration.roots import DebianRoot

TOKEN = "envsetup-hostile-member"
TOOL = b"#!/bin/sh\necho hello from the tool\n"
# everything an archive step could reach, but the upload directory, made before the check
LOCK_FILES = ("/var/lib/envsetup/apply.lock", "/var/lib/envsetup/apply.owner")
WATCHED = ("/etc", "/usr/local", "/root", "/opt", "/tmp", "/var/lib/envsetup")


Member = tuple[tarfile.TarInfo, bytes | None]  # a header, and a file's data


def file(name: str, data: bytes = b"data\n", mode: int = 0o644) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.uid, info.gid = len(data), mode, 1000, 1000
    info.uname = info.gname = "builder"
    return info, data


def special(name: str, kind: bytes, target: str = "", mode: int = 0o644) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, target, mode
    return info, None


def build(path: Path, members: list[Member]) -> str:
    """Write a gzip-compressed tar of ``members`` to ``path``; return its SHA-256."""
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def good_members(version: str = "1") -> list[Member]:
    return [
        special("./bin/", tarfile.DIRTYPE, mode=0o777),
        file("./bin/tool", TOOL.replace(b"tool", f"tool {version}".encode()), 0o775),
        special("./lib/", tarfile.DIRTYPE, mode=0o755),
        special("./lib/tool/", tarfile.DIRTYPE, mode=0o777),
        file("./lib/tool/libtool.so.1", b"library\n", 0o666),
        special("./lib/tool/libtool.so", tarfile.SYMTYPE, "libtool.so.1"),
        special("./lib/tool/same.so", tarfile.LNKTYPE, "./lib/tool/libtool.so.1"),
        *([file("./lib/tool/only-in-1.so")] if version == "1" else []),
    ]


def recipe(tmp_path: Path, archive: Path, sha: str, dest: str = "/usr/local") -> str:
    path = tmp_path / "unpack" / "recipe.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        "name: unpack\nsummary: archive test\nsteps:\n  - name: Unpack the tool\n    archive:\n"
        f"      url: '{archive}'\n      sha256: '{sha}'\n      dest: {dest}\n"
        "      replace: [lib/tool]\n      creates: [bin/tool, lib/tool]\n"
        f"    verify:\n      - command: {{run: {dest}/bin/tool, output: hello}}\n"
    )
    return str(path)


def snapshot(root: DebianRoot) -> dict[str, tuple[object, ...]]:
    """Every entry under WATCHED in the root: type, mode, owner and content (or target)."""
    out: dict[str, tuple[object, ...]] = {}
    for top in WATCHED:
        for dirpath, dirs, files in os.walk(root.file(top)):
            for name in dirs + files:
                path = Path(dirpath) / name
                info = path.lstat()
                if stat.S_ISREG(info.st_mode):
                    content: object = hashlib.sha256(path.read_bytes()).hexdigest()
                elif stat.S_ISLNK(info.st_mode):
                    content = os.readlink(path)
                else:
                    content = info.st_rdev
                key = "/" + str(path.relative_to(root.path))
                if key in LOCK_FILES:  # the apply lock, taken by every apply
                    continue
                out[key] = (stat.filemode(info.st_mode), info.st_uid, info.st_gid, content)
    return out


def host_tmp() -> set[str]:
    """What envsetup or an archive member could leave in this machine's /tmp (other
    processes share it, so only names of ours are compared)."""
    return {name for name in os.listdir("/tmp") if "envsetup" in name or TOKEN in name}


def hostile_cases() -> dict[str, tuple[list[Member], str]]:
    device = special(f"./bin/{TOKEN}", tarfile.CHRTYPE, mode=0o666)
    device[0].devmajor, device[0].devminor = 8, 0  # the first disk, as a raw device
    return {
        "device": (
            [file("./bin/tool", TOOL, 0o755), device],
            f"./bin/{TOKEN} is a character device",
        ),
        "fifo": ([special(f"./{TOKEN}", tarfile.FIFOTYPE)], f"./{TOKEN} is a FIFO"),
        "setuid": (
            [file("./bin/tool", TOOL, 0o4755)],
            "./bin/tool is setuid (-rwsr-xr-x)",
        ),
        "setgid": (
            [file("./bin/tool", TOOL, 0o2755)],
            "./bin/tool is setgid (-rwxr-sr-x)",
        ),
        "dotdot": (
            [file(f"../../../tmp/{TOKEN}")],
            f"../../../tmp/{TOKEN} has a '..' in its path",
        ),
        "absolute": ([file(f"/etc/{TOKEN}")], f"/etc/{TOKEN} has an absolute path"),
        "symlink-out-then-through": (
            [special("./sbin", tarfile.SYMTYPE, "../../etc"), file(f"./sbin/{TOKEN}")],
            "./sbin is a symbolic link out of /usr/local (../../etc)",
        ),
        "absolute-symlink-then-through": (
            [special("./etc", tarfile.SYMTYPE, "/etc"), file("./etc/shadow")],
            "./etc is a symbolic link to an absolute path (/etc)",
        ),
        "symlink-chain-out": (  # each link stays inside on its own; together they leave
            [
                special("./lib/", tarfile.DIRTYPE, mode=0o755),
                special("./lib/tool/", tarfile.DIRTYPE, mode=0o755),
                special("./lib/tool/b/", tarfile.DIRTYPE, mode=0o755),
                special("./lib/tool/b/up", tarfile.SYMTYPE, "../../.."),
                special("./lib/tool/out", tarfile.SYMTYPE, "b/up/../../.."),
            ],
            "lib/tool/out is a symbolic link out of /usr/local (b/up/../../..)",
        ),
        "apt-get-ahead-in-path": (  # /usr/local/sbin comes before /usr/bin in root's PATH
            [file("./bin/tool", TOOL, 0o755), file("./sbin/apt-get", b"#!/bin/sh\n", 0o755)],
            "./sbin/apt-get is outside the paths the step declares (bin/tool, lib/tool)",
        ),
        "hardlink-to-shadow": (
            [special(f"./{TOKEN}", tarfile.LNKTYPE, "/etc/shadow")],
            f"./{TOKEN} is a hard link out of the archive (/etc/shadow)",
        ),
        "hardlink-up-to-shadow": (
            [special(f"./{TOKEN}", tarfile.LNKTYPE, "../../etc/shadow")],
            f"./{TOKEN} is a hard link out of the archive (../../etc/shadow)",
        ),
    }


@pytest.mark.parametrize("case", list(hostile_cases()))
def test_hostile_archives_are_refused_and_change_nothing(
    bookworm: DebianRoot, tmp_path: Path, case: str
) -> None:
    members, reason = hostile_cases()[case]
    archive = tmp_path / "tool.tgz"
    sha = build(archive, members)
    before, tmp_before = snapshot(bookworm), host_tmp()
    code, doc, _ = run_json(
        "apply", recipe(tmp_path, archive, sha), "-t", f"@chroot{bookworm.path}"
    )
    assert code == 1
    step = doc["targets"][0]["recipes"][0]["steps"][0]
    assert step["status"] == "failed"
    assert step["error"] == f"refused tool.tgz: {reason}; nothing in /usr/local was changed"
    assert snapshot(bookworm) == before
    assert host_tmp() == tmp_before
    assert not os.listdir(bookworm.file("/var/cache/envsetup"))  # the upload is gone too


Setup = Callable[[DebianRoot], None]


def lib_points_at_etc(root: DebianRoot) -> None:
    root.file("/usr/local/lib").rmdir()
    root.file("/usr/local/lib").symlink_to("/etc")


def tool_dir_points_at_etc(root: DebianRoot) -> None:
    root.file("/usr/local/lib/tool").symlink_to("/etc")  # replaced: the link goes, not /etc


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (
            lib_points_at_etc,
            "/usr/local/lib is a symbolic link; envsetup removes nothing through it",
        ),
    ],
    ids=["dest-lib-is-a-link-to-etc"],
)
def test_links_already_in_dest_are_never_written_through(
    bookworm: DebianRoot, tmp_path: Path, setup: Setup, reason: str
) -> None:
    setup(bookworm)
    archive = tmp_path / "tool.tgz"
    sha = build(archive, good_members())
    before = snapshot(bookworm)
    code, doc, _ = run_json(
        "apply", recipe(tmp_path, archive, sha), "-t", f"@chroot{bookworm.path}"
    )
    assert code == 1
    step = doc["targets"][0]["recipes"][0]["steps"][0]
    assert step["error"] == f"refused tool.tgz: {reason}; nothing in /usr/local was changed"
    assert snapshot(bookworm) == before


def test_a_refused_archive_leaves_a_new_dest_absent(bookworm: DebianRoot, tmp_path: Path) -> None:
    members, reason = hostile_cases()["device"]
    archive = tmp_path / "tool.tgz"
    sha = build(archive, members)
    before = snapshot(bookworm)
    file = recipe(tmp_path, archive, sha, dest="/opt/tool/current")
    code, doc, _ = run_json("apply", file, "-t", f"@chroot{bookworm.path}")
    assert code == 1
    step = doc["targets"][0]["recipes"][0]["steps"][0]
    assert step["error"] == f"refused tool.tgz: {reason}; nothing in /opt/tool/current was changed"
    assert snapshot(bookworm) == before
    assert not bookworm.file("/opt/tool").exists()


def test_good_archive_unpacks_safely_and_a_second_apply_changes_nothing(
    bookworm: DebianRoot, tmp_path: Path
) -> None:
    # a link where the archive puts a file is replaced, never written through
    bookworm.file("/usr/local/bin/tool").symlink_to("/etc/hostname")
    tool_dir_points_at_etc(bookworm)
    hostname = bookworm.file("/etc/hostname").read_bytes()
    before = snapshot(bookworm)
    archive = tmp_path / "tool.tgz"
    sha = build(archive, good_members())
    file, target = recipe(tmp_path, archive, sha), ("-t", f"@chroot{bookworm.path}")
    code, doc, _ = run_json("apply", file, *target)
    assert code == 0, doc
    assert doc["changed"] == 1
    after = snapshot(bookworm)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    assert changed == {
        "/usr/local/bin/tool",
        "/usr/local/lib/tool",
        "/usr/local/lib/tool/libtool.so.1",
        "/usr/local/lib/tool/libtool.so",
        "/usr/local/lib/tool/same.so",
        "/usr/local/lib/tool/only-in-1.so",
        "/var/lib/envsetup/archives",
        "/var/lib/envsetup/archives/tool.tgz.unpacked",  # the step's stamp
        "/var/lib/envsetup/applied",
        "/var/lib/envsetup/applied/unpack.json",  # what envsetup applied, for doctor
    }
    assert bookworm.file("/etc/hostname").read_bytes() == hostname
    assert not os.listdir(bookworm.file("/var/cache/envsetup"))
    assert after["/usr/local/bin/tool"][:3] == ("-rwxr-xr-x", 0, 0)  # 0775 from the archive
    assert after["/usr/local/lib/tool"][:3] == ("drwxr-xr-x", 0, 0)  # 0777 from the archive
    assert after["/usr/local/lib/tool/libtool.so.1"][:3] == ("-rw-r--r--", 0, 0)  # 0666
    assert after["/usr/local/lib/tool/libtool.so"][3] == "libtool.so.1"
    assert bookworm.file("/usr/local/lib/tool/same.so").stat().st_nlink == 2
    assert after["/usr/local/bin"] == before["/usr/local/bin"]  # merged into, as it was
    assert not list(bookworm.file("/usr/local").glob(".envsetup-unpack.*"))

    code, doc, _ = run_json("apply", file, *target)
    assert (code, doc["changed"]) == (0, 0)
    assert snapshot(bookworm) == after

    # a new release: lib/tool is replaced whole, so no file of the old one stays
    archive2 = tmp_path / "v2" / "tool.tgz"
    archive2.parent.mkdir()
    sha2 = build(archive2, good_members("2"))
    code, doc, _ = run_json("apply", recipe(tmp_path, archive2, sha2), *target)
    assert code == 0, doc
    assert bookworm.run("/usr/local/bin/tool").stdout == "hello from the tool 2\n"
    assert not bookworm.file("/usr/local/lib/tool/only-in-1.so").exists()
    assert bookworm.file("/usr/local/lib/tool/libtool.so.1").exists()

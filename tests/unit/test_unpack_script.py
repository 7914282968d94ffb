"""envsetup/unpack.sh run directly with this machine's sh, tar and findutils, in a
temporary directory: the cases the integration test does not build into a whole
recipe (tests/integration/test_unpack.py does, on a real Debian root)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from envsetup.ops import UNPACK_SCRIPT

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("sh", "tar", "find", "realpath", "sha256sum")),
    reason="needs sh, GNU tar, findutils and coreutils",
)

Member = tuple[tarfile.TarInfo, bytes | None]


def file(name: str, data: bytes = b"data\n", mode: int = 0o644) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def special(name: str, kind: bytes, target: str = "", mode: int = 0o755) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, target, mode
    return info, None


def unpack(
    tmp_path: Path,
    members: list[Member],
    replace: tuple[str, ...] = (),
    suffix: str = "tar",
    owned: str = "",
) -> tuple[int, str, Path]:
    """Build an archive of ``members`` and unpack it into tmp_path/dest with the script."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    archive = tmp_path / f"a.{suffix}"
    raw = buffer.getvalue()
    if suffix == "tar.xz":
        import lzma

        raw = lzma.compress(raw)
    archive.write_bytes(raw)
    sha = hashlib.sha256(raw).hexdigest()
    dest = tmp_path / "dest"
    result = subprocess.run(
        ["sh", str(UNPACK_SCRIPT), str(archive), str(dest), sha, str(tmp_path / "stamp"), "r"]
        + [owned, *replace],
        capture_output=True,
        text=True,
    )
    assert not archive.exists()  # deleted either way
    return result.returncode, result.stderr, dest


def tree(path: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirs, files in os.walk(path):
        for name in dirs + files:
            entry = Path(dirpath) / name
            relative = str(entry.relative_to(path))
            if entry.is_symlink():
                out[relative] = "-> " + os.readlink(entry)
            elif entry.is_dir():
                out[relative] = "dir"
            else:
                out[relative] = entry.read_text()
    return out


def refusal(dest: Path, why: str) -> str:
    return f"refused a.tar: {why}; nothing in {dest} was changed\n"


@pytest.mark.parametrize(
    ("members", "why"),
    [
        (
            [
                special("./real/", tarfile.DIRTYPE),
                special("./l", tarfile.SYMTYPE, "real"),
                file("./l/x"),
            ],
            "l is a symbolic link, and the archive has members under it",
        ),
        (
            [special("./h", tarfile.LNKTYPE, "x"), file("./x")],
            "./h is a hard link to x, which the archive does not have before it",
        ),
        ([file("./a\x1bb")], "./a\\033b has a backslash or a control character in its name"),
        ([special("./x", tarfile.BLKTYPE)], "./x is a block device"),
        (
            [special("./d/", tarfile.DIRTYPE), special("./d/up", tarfile.SYMTYPE, "../..")],
            "./d/up is a symbolic link out of DEST (../..)",
        ),
    ],
    ids=["under-own-link", "hardlink-forward", "escape-sequence", "block-device", "link-up"],
)
def test_refused_before_unpacking(tmp_path: Path, members: list[Member], why: str) -> None:
    code, stderr, dest = unpack(tmp_path, members)
    assert (code, stderr) == (3, refusal(dest, why.replace("DEST", str(dest))))
    assert not dest.exists()  # it did not exist before


Setup = Callable[[Path], None]


def lib_is_a_file(dest: Path) -> None:
    (dest / "lib").write_text("a file\n")


def tool_is_a_directory(dest: Path) -> None:
    (dest / "lib" / "tool" / "x.so").mkdir(parents=True)


def lib_links_inside(dest: Path) -> None:
    (dest / "elsewhere").mkdir()
    (dest / "lib").symlink_to("elsewhere")


@pytest.mark.parametrize(
    ("setup", "replace", "why"),
    [
        (lib_is_a_file, (), "DEST/lib is a file where the archive has a directory"),
        (tool_is_a_directory, (), "DEST/lib/tool/x.so is a directory where the archive has a file"),
        (
            lib_links_inside,
            (),
            "DEST/lib is a symbolic link where the archive has a directory; envsetup does not "
            "write through it",
        ),
        (
            lib_links_inside,
            ("lib/tool",),
            "DEST/lib is a symbolic link; envsetup removes nothing through it",
        ),
    ],
    ids=["file-for-dir", "dir-for-file", "link-for-dir", "replace-under-link"],
)
def test_conflicts_in_dest_leave_it_as_it_was(
    tmp_path: Path, setup: Setup, replace: tuple[str, ...], why: str
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "bin").mkdir()
    (dest / "bin" / "other").write_text("kept\n")
    setup(dest)
    before = tree(dest)
    members = [
        special("./lib/", tarfile.DIRTYPE),
        special("./lib/tool/", tarfile.DIRTYPE),
        file("./lib/tool/x.so"),
        file("./bin/tool", mode=0o755),
    ]
    code, stderr, _ = unpack(tmp_path, members, replace)
    assert (code, stderr) == (3, refusal(dest, why.replace("DEST", str(dest))))
    assert tree(dest) == before
    assert not (tmp_path / "stamp").exists()


def test_merge_replace_and_utf8_names(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    (dest / "lib" / "tool").mkdir(parents=True)
    (dest / "lib" / "tool" / "stale.so").write_text("old\n")
    (dest / "lib" / "other").write_text("kept\n")
    (dest / "bin").mkdir()
    (dest / "bin" / "tool").symlink_to("../lib/other")  # replaced, not written through
    members = [
        special("./bin/", tarfile.DIRTYPE, mode=0o700),
        file("./bin/tool", b"new tool\n", 0o755),
        special("./lib/tool/", tarfile.DIRTYPE),
        file("./lib/tool/café.so", b"new lib\n"),
        special("./lib/tool/current", tarfile.SYMTYPE, "café.so"),
        special("./share/", tarfile.DIRTYPE),
        file("./share/doc", b"doc\n"),
    ]
    code, stderr, _ = unpack(tmp_path, members, ("lib/tool",), suffix="tar.xz")
    assert (code, stderr) == (0, "")
    assert tree(dest) == {
        "bin": "dir",
        "bin/tool": "new tool\n",
        "lib": "dir",
        "lib/other": "kept\n",
        "lib/tool": "dir",
        "lib/tool/café.so": "new lib\n",
        "lib/tool/current": "-> café.so",
        "share": "dir",
        "share/doc": "doc\n",
    }
    assert (dest / "bin").stat().st_mode & 0o777 == 0o755  # merged into: its mode kept
    assert (tmp_path / "stamp").read_text() == "r\n"


def test_a_changed_archive_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "a.tgz"
    archive.write_bytes(b"not what was checked")
    result = subprocess.run(
        [
            "sh",
            str(UNPACK_SCRIPT),
            str(archive),
            str(tmp_path / "d"),
            "0" * 64,
            str(tmp_path / "s"),
            "r",
            "",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 3
    assert result.stderr == (
        f"refused a.tgz: its SHA-256 is not {'0' * 64} (the copy on the target changed or is "
        f"incomplete); nothing in {tmp_path / 'd'} was changed\n"
    )
    assert not (tmp_path / "d").exists() and not archive.exists()


def test_only_the_declared_paths_are_unpacked(tmp_path: Path) -> None:
    members = [
        special("./bin/", tarfile.DIRTYPE),
        file("./bin/tool", mode=0o755),
        special("./lib/", tarfile.DIRTYPE),
        special("./lib/tool/", tarfile.DIRTYPE),
        file("./lib/tool/x.so"),
    ]
    owned = "bin/tool\nlib/tool"
    code, stderr, dest = unpack(tmp_path, members, owned=owned)
    assert (code, stderr) == (0, "")
    members.append(file("./sbin/apt-get", mode=0o755))  # ahead of /usr/bin in root's PATH
    code, stderr, dest = unpack(tmp_path, members, owned=owned)
    assert (code, stderr) == (
        3,
        refusal(dest, "./sbin/apt-get is outside the paths the step declares (bin/tool, lib/tool)"),
    )
    assert not (dest / "sbin").exists()


def test_an_archive_step_declares_what_it_provides() -> None:
    from envsetup.kinds import StepContext
    from envsetup.steps import STEP_KINDS

    kind = STEP_KINDS["archive"]
    assert kind.fields["creates"].required
    base = {
        "url": "/srv/tool.tgz",
        "sha256": "a" * 64,
        "dest": "/usr/local",
        "replace": [],
        "creates": ["bin/tool"],
    }
    ctx = StepContext(Path("."), {})
    for bad, message in (
        ({"creates": []}, "creates must name at least one path the archive provides"),
        ({"creates": ["bin/a\nb"]}, "must be a path inside /usr/local"),
        ({"replace": ["lib\\x"]}, "must be a path inside /usr/local"),
    ):
        with pytest.raises(ValueError, match=message):
            kind.action(base | bad, ctx)


def test_an_unreadable_archive_is_refused_before_anything_moves(tmp_path: Path) -> None:
    import gzip

    good = tmp_path / "whole.tar"
    with tarfile.open(good, "w") as tar:
        for index in range(50):
            info, data = file(f"./bin/tool{index}", os.urandom(4000), 0o755)
            tar.addfile(info, io.BytesIO(data))
    raw = gzip.compress(good.read_bytes())[:3000]  # checksum-valid, but cut short
    archive = tmp_path / "a.tgz"
    archive.write_bytes(raw)
    dest = tmp_path / "dest"
    dest.mkdir()
    result = subprocess.run(
        [
            "sh",
            str(UNPACK_SCRIPT),
            str(archive),
            str(dest),
            hashlib.sha256(raw).hexdigest(),
            str(tmp_path / "s"),
            "r",
            "",
        ],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stderr) == (
        3,
        f"refused a.tgz: tar cannot read it: gzip: stdin: unexpected end of file; "
        f"nothing in {dest} was changed\n",
    )
    assert os.listdir(dest) == []


def test_a_setgid_dest_is_not_mistaken_for_a_setgid_archive(tmp_path: Path) -> None:
    """Directories made under a setgid directory (/usr/local was 2775 root:staff on older
    Debian) inherit the bit; only the archive's own bits are refused."""
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest").chmod(0o2775)
    members = [special("./lib/", tarfile.DIRTYPE), special("./lib/tool/", tarfile.DIRTYPE)]
    code, stderr, dest = unpack(tmp_path, [*members, file("./lib/tool/x.so")])
    assert (code, stderr) == (0, "")
    assert (dest / "lib" / "tool").stat().st_mode & 0o2000  # inherited, and allowed

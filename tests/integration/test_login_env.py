"""The login_env check's two ways of starting a session agree, on a real Debian 12 root:
as root it is ``su - USER`` (the real pam_env and profile); as the user, without a
password, /etc/environment is read with envsetup's pam_env model and the login shell is
run to show what its profile does. Both must see the same value."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from envsetup.checks.login_env import LoginEnvCheck
from tests.integration.roots import DebianRoot, debian_root

CASES = [
    (b'JAVA_HOME="/x" # c\nexport JAVA_HOME=/y\n', None, "/y"),
    (b"JAVA_HOME=/y\r\n", None, "/y\r"),
    (b"JAVA_HOME=/p\n", "export JAVA_HOME=$JAVA_HOME/sub\n", "/p/sub"),
    (b"", "export JAVA_HOME=/from-profile\n", "/from-profile"),
    (b"JAVA_HOME=/q\nJAVA_HOME\n", None, "<unset>"),
    (b"JAVA_HOME=/a\\\n  b\n", None, "/a  b"),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DebianRoot]:
    with debian_root("bookworm", tmp_path_factory.mktemp("login") / "root") as made:
        made.run("useradd -m -s /bin/bash dev")
        yield made


@pytest.mark.parametrize(("environment", "profile", "expected"), CASES)
def test_own_session_and_su_agree(
    root: DebianRoot, environment: bytes, profile: str | None, expected: str
) -> None:
    root.file("/etc/environment").write_bytes(environment)
    for name in (".profile", ".bash_profile"):
        path = root.file(f"/home/dev/{name}")
        path.unlink(missing_ok=True)
        if profile:
            path.write_text(profile)
    command = LoginEnvCheck.command({"user": "dev", "key": "JAVA_HOME", "value": expected})
    as_root = subprocess.run(["chroot", str(root.path), "sh", "-c", command], capture_output=True)
    as_dev = subprocess.run(
        ["chroot", str(root.path), "su", "dev", "-c", command], capture_output=True
    )
    assert as_dev.returncode == 0, as_dev.stderr
    seen_root = LoginEnvCheck._seen("JAVA_HOME", as_root.stdout.decode())
    seen_dev = LoginEnvCheck._seen("JAVA_HOME", as_dev.stdout.decode())
    assert seen_root == seen_dev == expected
    assert "ENVSETUP-LOGIN-ENV-FILE:" in as_dev.stdout.decode()  # the password-free way
    assert "ENVSETUP-LOGIN-ENV-FILE:" not in as_root.stdout.decode()  # the real su

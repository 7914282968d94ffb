"""Several SSH hosts in one run: their steps run concurrently, each in its own context."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_json
from tests.integration.roots import DebianRoot, debian_root, write_ssh_alias


def test_hosts_run_concurrently_without_sharing_state(
    bookworm: DebianRoot, tmp_path: Path, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    # Regression: pyinfra's state context is a global; when one host's operation ended it
    # reset the context under another host's running operation ("get_meta_for_host()
    # missing 1 required positional argument"), failing every host but the first.
    key, public = keypair
    with debian_root("bookworm", tmp_path / "second") as second:
        targets = []
        for index, root in enumerate((bookworm, second)):
            alias = f"host-{index}"
            write_ssh_alias(isolated_home, alias, root.start_sshd(public), "root", key)
            targets += ["-t", alias]
        code, doc, _ = run_json("apply", "wsl-systemd", "--assume-wsl", *targets)
        assert code == 0, [t["error"] for t in doc["targets"]] + [
            s["error"] for s in doc["targets"][0]["recipes"][0]["steps"]
        ]
        assert [t["target"] for t in doc["targets"]] == ["host-0", "host-1"]
        for target in doc["targets"]:
            steps = target["recipes"][0]["steps"]
            assert all(step["status"] != "failed" for step in steps), target
        for root in (bookworm, second):
            assert "systemd=true" in root.file("/etc/wsl.conf").read_text()

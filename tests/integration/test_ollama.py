"""ollama-llama3 on real Debian 12 roots.

No Ollama release or model can be downloaded here, so the archive is a TEST FIXTURE
built by tests/fixtures/ollama/build_archive.py: Ollama's layout (bin/ollama,
lib/ollama/) around a stand-in program that speaks the API subset envsetup uses,
plus a sha256sum.txt. Everything else is real: the checksum check, unpacking,
the system user, the unit under systemd as PID 1 (a booted root reached over SSH),
the streamed pull, the verify checks, and remove.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import run_json, steps_by_name, write_ssh_alias
from tests.integration.roots import DebianRoot, booted_root

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "ollama"))
from build_archive import build  # noqa: E402  (a fixture module, not a package)

OLD, VERSION = "0.13.5", "0.32.15"  # the last .tgz release, and the pinned (.tar.zst) one
RELEASE = f"https://github.com/ollama/ollama/releases/download/v{VERSION}"
INSTALLED = ("/usr/local/bin/ollama", "/usr/local/lib/ollama", "/etc/systemd/system/ollama.service")


def inside(home: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run a command in the booted root over SSH (a chroot would not see its systemd)."""
    config = str(home / ".ssh" / "config")
    return subprocess.run(
        ["ssh", "-F", config, "ollama-box", command], capture_output=True, text=True, timeout=60
    )


def statuses(doc: dict) -> dict[str, tuple[str, str | None]]:
    return {name: (s["status"], s["verify"]) for name, s in steps_by_name(doc).items()}


def install_python3(root: DebianRoot) -> None:
    """The stand-in is a Python program: the fixture needs python3 in the root. Retried:
    the apt cache is shared between roots, and another test's apt may hold its lock."""
    root.run(
        "apt-get update -qq && for i in $(seq 30); do "
        "apt-get install -y -qq python3-minimal >/dev/null && exit 0; sleep 10; done; exit 1"
    )


def changed(doc: dict) -> dict[str, dict]:
    return {name: s for name, s in steps_by_name(doc).items() if s["status"] == "changed"}


def mirror(where: Path, *versions: str) -> Path:
    """A local mirror laid out like GitHub's releases: <where>/v<version>/..., each with
    the main archive, a ROCm bundle and sha256sum.txt (TEST FIXTURE archives)."""
    for version in versions:
        build(where / f"v{version}", version, bundles=("rocm",))
    return where


def test_booted_root_apply_verify_reapply_remove(
    tmp_path: Path, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    key, public = keypair
    releases = mirror(tmp_path / "mirror", VERSION)
    with booted_root(tmp_path / "booted", public) as root:
        install_python3(root)
        root.add_user("dev", "dev-password", public, sudo_nopasswd=True)
        write_ssh_alias(isolated_home, "ollama-box", root.port, "root", key)
        # the format (.tar.zst) comes from the version: only the mirror's base is given
        args = (
            "-t",
            "ollama-box",
            "--set",
            f"release_url={releases}/v{VERSION}",
            "--set",
            "user=dev",
            "--set",
            "gpu_component=",
        )

        code, doc, _ = run_json("apply", "ollama-llama3", *args)
        assert code == 0, json.dumps(doc, indent=1)
        assert all(verify == "ok" for _, verify in statuses(doc).values() if verify), doc
        pulled = steps_by_name(doc)["The model, pulled"]
        assert pulled["status"] == "changed"
        assert [c["detail"] for c in pulled["checks"]] == [
            "models[].name: llama3:latest",
            "response: Hello",
        ]
        assert steps_by_name(doc)["The GPU bundle, checksum-verified"]["status"] == "skipped"
        assert root.run("dpkg-query -W -f='${Status}' zstd").stdout == "install ok installed"
        assert inside(isolated_home, "systemctl is-active ollama.service").stdout == "active\n"
        assert inside(isolated_home, "systemctl is-enabled ollama.service").stdout == "enabled\n"
        main_pid = inside(isolated_home, "systemctl show -p MainPID --value ollama.service")
        owner = inside(isolated_home, f"ps -o user= -p {main_pid.stdout.strip()}").stdout
        assert owner.strip() == "ollama"
        assert "ollama" in root.run("id -nG dev").stdout.split()
        owner = root.run("stat -c %U /usr/share/ollama/.ollama/models/blobs").stdout.strip()
        assert owner == "ollama"  # the service (User=ollama) wrote the model
        unit = root.file("/etc/systemd/system/ollama.service").read_text()
        assert 'Environment="OLLAMA_HOST=127.0.0.1:11434"' in unit
        assert "OLLAMA_MODELS" not in unit and "PROXY" not in unit
        unit_path = "/etc/systemd/system/ollama.service"
        analyzed = inside(isolated_home, f"systemd-analyze verify {unit_path}")
        assert (analyzed.returncode, analyzed.stderr) == (0, "")

        code, doc, _ = run_json("apply", "ollama-llama3", *args)
        assert code == 0, doc
        assert doc["changed"] == 0, changed(doc)
        assert all(verify == "ok" for _, verify in statuses(doc).values() if verify)

        # the plan for the default variables shows the real release and its checksum step
        code, doc, _ = run_json("plan", "ollama-llama3", "-t", "ollama-box")
        assert code == 0, doc
        release = steps_by_name(doc)["The Ollama release, checksum-verified"]
        assert release["status"] == "would change"
        assert release["diff"].splitlines()[:2] == [
            f"fetch {RELEASE}/ollama-linux-amd64.tar.zst",
            f"check its SHA-256 against {RELEASE}/sha256sum.txt before anything is unpacked",
        ]

        code, doc, _ = run_json("remove", "ollama-llama3", *args)
        assert code == 0, doc
        for path in INSTALLED:
            assert not root.file(path).exists(), path
        assert root.run("getent passwd ollama", check=False).returncode == 2
        assert root.run("getent group ollama", check=False).returncode == 2
        assert inside(isolated_home, "systemctl is-active ollama.service").stdout == "inactive\n"
        assert root.file("/usr/share/ollama/.ollama/models/manifests").is_dir()  # kept

        code, doc, _ = run_json("remove", "ollama-llama3", *args, "--purge")
        assert code == 0, doc
        assert not root.file("/usr/share/ollama").exists()

        # a corrupted archive: refused before anything is unpacked
        archive = releases / f"v{VERSION}" / "ollama-linux-amd64.tar.zst"
        with open(archive, "ab") as file:
            file.write(b"tampered")
        code, doc, _ = run_json("apply", "ollama-llama3", *args)
        assert code == 1
        error = steps_by_name(doc)["The Ollama release, checksum-verified"]["error"]
        assert f"checksum mismatch for {archive}" in error
        assert "nothing was installed" in error
        for path in INSTALLED:
            assert not root.file(path).exists(), path
        assert not list(root.file("/var/cache/envsetup").glob("ollama*"))


def test_upgrade_restarts_the_server_gpu_bundle_proxy_and_models_dir(
    tmp_path: Path, keypair: tuple[Path, str], isolated_home: Path
) -> None:
    """0.13.5 (.tgz) then 0.32.15 (.tar.zst): the running server is restarted into the
    new release. The ROCm bundle is forced with gpu_component=rocm (no AMD GPU here:
    the bundle is a TEST FIXTURE archive, and preflight warns that /dev/kfd is missing)."""
    key, public = keypair
    releases = mirror(tmp_path / "mirror", OLD, VERSION)
    with booted_root(tmp_path / "booted", public) as root:
        install_python3(root)
        root.add_user("dev", "dev-password", public, sudo_nopasswd=True)
        write_ssh_alias(isolated_home, "ollama-box", root.port, "root", key)
        common = ("-t", "ollama-box", "--set", "gpu_component=rocm", "--set", "user=root")
        common += ("--set", "https_proxy=http://proxy.example:3128")

        def release(version: str) -> tuple[str, ...]:
            return (
                *common,
                "--set",
                f"version={version}",
                "--set",
                f"release_url={releases}/v{version}",
            )

        code, doc, _ = run_json("apply", "ollama-llama3", *release(OLD))
        assert code == 0, json.dumps(doc, indent=1)
        assert any("/dev/kfd" in w and "ROCm" in w for w in doc["targets"][0]["warnings"]), doc
        bundle = steps_by_name(doc)["The GPU bundle, checksum-verified"]
        assert (bundle["status"], bundle["verify"]) == ("changed", "ok")
        library = "/usr/local/lib/ollama/rocm_v7_2/libggml-rocm.so"
        assert OLD in root.file(library).read_text()
        unit = root.file("/etc/systemd/system/ollama.service").read_text()
        assert 'Environment="HTTPS_PROXY=http://proxy.example:3128"\n' in unit
        seen = inside(isolated_home, "systemctl show -p Environment --value ollama.service")
        assert "HTTPS_PROXY=http://proxy.example:3128" in seen.stdout
        version = inside(isolated_home, "curl -s http://127.0.0.1:11434/api/version").stdout
        assert json.loads(version) == {"version": OLD}
        before = inside(isolated_home, "systemctl show -p MainPID --value ollama.service").stdout

        code, doc, _ = run_json("apply", "ollama-llama3", *release(VERSION))
        assert code == 0, json.dumps(doc, indent=1)
        steps = statuses(doc)
        assert steps["The Ollama release, checksum-verified"] == ("changed", "ok")
        # lib/ollama was replaced, so the bundle is unpacked again, and restarts the server
        assert steps["The GPU bundle, checksum-verified"] == ("changed", "ok")
        assert steps["The running server is the installed release"] == ("unchanged", "ok")
        assert VERSION in root.file(library).read_text()
        version = inside(isolated_home, "curl -s http://127.0.0.1:11434/api/version").stdout
        assert json.loads(version) == {"version": VERSION}
        after = inside(isolated_home, "systemctl show -p MainPID --value ollama.service").stdout
        assert after != before

        # a release change alone (no GPU bundle, the unit as it was): the restart step
        # notices the old server and restarts it
        code, doc, _ = run_json("apply", "ollama-llama3", *release(OLD), "--set", "gpu_component=")
        assert code == 0, json.dumps(doc, indent=1)
        steps = statuses(doc)
        assert steps["The Ollama release, checksum-verified"] == ("changed", "ok")
        assert steps["The GPU bundle, checksum-verified"] == ("skipped", None)
        assert steps["The systemd unit"] == ("unchanged", "ok")
        assert steps["The running server is the installed release"] == ("changed", "ok")
        version = inside(isolated_home, "curl -s http://127.0.0.1:11434/api/version").stdout
        assert json.loads(version) == {"version": OLD}
        code, doc, _ = run_json("apply", "ollama-llama3", *release(VERSION))
        assert code == 0, json.dumps(doc, indent=1)
        assert VERSION in root.file(library).read_text()

        code, doc, _ = run_json("apply", "ollama-llama3", *release(VERSION))
        assert code == 0, doc
        assert doc["changed"] == 0, changed(doc)

        # a models_dir under a directory the ollama user cannot enter: verify says so
        root.run("install -d -m 0700 -o dev -g dev /home/dev/private")
        models = ("--set", "models_dir=/home/dev/private/models")
        code, doc, _ = run_json("apply", "ollama-llama3", *release(VERSION), *models)
        assert code == 1, doc
        step = steps_by_name(doc)["The models directory, owned by ollama"]
        assert step["verify"] == "failed"
        failed = [c for c in step["checks"] if c["status"] == "failed"]
        assert len(failed) == 1 and "the ollama user cannot create files in" in str(failed[0])
        assert "namei -l /home/dev/private/models" in str(failed[0])
        root.run("chmod 0711 /home/dev/private")
        code, doc, _ = run_json("apply", "ollama-llama3", *release(VERSION), *models)
        assert code == 0, json.dumps(doc, indent=1)
        assert root.file("/home/dev/private/models/manifests").is_dir()


def test_refused_without_systemd_as_pid1(bookworm: DebianRoot, tmp_path: Path) -> None:
    archive = build(tmp_path / "release", VERSION)
    before = bookworm.digest("/var/lib/dpkg/status", "/etc/passwd", "/etc/group")
    target = ("-t", f"@chroot{bookworm.path}", "--set", f"archive={archive}")
    code, doc, _ = run_json("apply", "ollama-llama3", *target)
    assert code == 2, doc
    error = doc["targets"][0]["error"]
    assert error.startswith("refused: ollama-llama3: ")
    assert "systemd is not PID 1 here" in error
    assert error.endswith("Nothing was changed")
    assert bookworm.digest("/var/lib/dpkg/status", "/etc/passwd", "/etc/group") == before
    assert not bookworm.file("/usr/local/bin/ollama").exists()

    # the plan still shows every step, and says apply would refuse
    code, doc, _ = run_json("plan", "ollama-llama3", *target)
    assert code == 2
    assert "systemd is not PID 1 here" in doc["targets"][0]["error"]
    assert len(steps_by_name(doc)) == 12


def test_wsl_applies_wsl_systemd_first_and_stops_while_it_is_pending(
    bookworm: DebianRoot, tmp_path: Path
) -> None:
    """A WSL root (--assume-wsl) without systemd yet: wsl-systemd runs, ollama waits."""
    archive = build(tmp_path / "release", VERSION)
    target = ("-t", f"@chroot{bookworm.path}", "--assume-wsl", "--set", f"archive={archive}")
    code, doc, _ = run_json("apply", "ollama-llama3", *target)
    assert code == 1, doc
    report = doc["targets"][0]
    assert [r["recipe"] for r in report["recipes"]] == ["wsl-systemd", "ollama-llama3"]
    assert report["error"].startswith(
        "ollama-llama3 was not applied: it needs wsl-systemd, which is pending a restart"
    )
    restart = report["restarts"][0]["run"]
    assert restart.startswith("name='<distro>'\n")
    assert 'exec "$w" --terminate "$name"' in restart
    ollama_steps = report["recipes"][1]["steps"]
    assert {step["status"] for step in ollama_steps} == {"not run"}
    assert "systemd=true" in bookworm.file("/etc/wsl.conf").read_text()
    assert not bookworm.file("/usr/local/bin/ollama").exists()

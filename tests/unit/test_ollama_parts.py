"""The parts ollama-llama3 is built from: checks, the archive step, the pull reader,
preflight and conditional requirements, and the rendered systemd unit."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from envsetup.catalog import load_recipe
from envsetup.checks import CHECK_KINDS
from envsetup.checks.http import STATUS_MARK
from envsetup.errors import RecipeError
from envsetup.fetch import FetchError, checksum_from_list, obtain
from envsetup.kinds import StepContext, Unpack
from envsetup.preparation import prepare, prepare_preflight, requirements_here, target_context
from envsetup.schema import parse_recipe
from envsetup.steps import STEP_KINDS
from envsetup.steps.ollama import PullProgress, api_base, full_name
from envsetup.templates import render_file

# captured from a Debian 12 machine (df -Pk, /proc/meminfo)
DF = "/dev/vda        263174148 29007368 78650172      27% /\n"
MEMINFO = "MemTotal:        7958652 kB\n"


def evaluate(kind: str, args: dict, status: int, output: str) -> tuple[str, str]:
    spec = CHECK_KINDS[kind]
    full = {k: f.default for k, f in spec.fields.items()} | args
    result = spec.evaluate(full, status, output)
    return result.status, result.detail


def test_http_check_judges_status_and_json_fields() -> None:
    tags = '{"models":[{"name":"llama3:latest"},{"name":"phi3:mini"}]}'
    args = {"url": "http://127.0.0.1:11434/api/tags", "field": "models[].name"}
    wanted = args | {"equals": "llama3:latest"}
    assert evaluate("http", wanted, 0, f"{tags}\n{STATUS_MARK}200") == (
        "ok",
        "models[].name: llama3:latest, phi3:mini",
    )
    assert evaluate("http", args | {"equals": "llama3:8b"}, 0, f"{tags}\n{STATUS_MARK}200")[0] == (
        "failed"
    )
    assert evaluate("http", wanted, 7, "curl: (7) Failed to connect to 127.0.0.1 port 11434") == (
        "failed",
        "no answer from http://127.0.0.1:11434/api/tags: curl: (7) Failed to connect to "
        "127.0.0.1 port 11434",
    )
    assert evaluate("http", wanted, 0, f'{{"error":"not found"}}\n{STATUS_MARK}404') == (
        "failed",
        'HTTP 404: {"error":"not found"}',
    )
    generate = {"url": "http://h:1/api/generate", "field": "response"}
    assert evaluate("http", generate, 0, f'{{"response":""}}\n{STATUS_MARK}200') == (
        "failed",
        "response: empty",
    )
    assert evaluate("http", generate, 0, f"not json\n{STATUS_MARK}200")[0] == "failed"


def test_http_check_command_quotes_the_body_and_retries() -> None:
    spec = CHECK_KINDS["http"]
    args = {k: f.default for k, f in spec.fields.items()} | {
        "url": "http://127.0.0.1:11434/api/generate",
        "method": "POST",
        "body": '{"prompt": "it\'s $(reboot)"}',
        "retries": 3,
    }
    command = spec.command(args)
    assert "--retry 3 --retry-connrefused" in command
    assert '\'{"prompt": "it\'"\'"\'s $(reboot)"}\'' in command
    with pytest.raises(ValueError):
        spec.validate(args | {"body": "{not json"})
    with pytest.raises(ValueError):
        spec.validate(args | {"url": "ftp://x"})


def test_disk_and_memory_checks_report_figures() -> None:
    disk = {"path": "/usr/share/ollama/.ollama/models", "free": "8G"}
    assert evaluate("disk", disk, 0, DF) == (
        "ok",
        "80.5 GB free on / (for /usr/share/ollama/.ollama/models), 8.0 GB needed",
    )
    assert evaluate("disk", disk | {"free": "100G"}, 0, DF)[0] == "failed"
    assert evaluate("memory", {"total": "8G"}, 0, MEMINFO) == ("ok", "8.1 GB RAM, 8.0 GB needed")
    assert evaluate("memory", {"total": "16G"}, 0, MEMINFO) == (
        "failed",
        "8.1 GB RAM, 16.0 GB needed",
    )
    assert evaluate("disk", disk, 1, "df: no such file")[0] == "failed"
    with pytest.raises(ValueError, match="is not a size"):
        CHECK_KINDS["disk"].validate({"path": "/", "free": "lots"})


def test_checksum_list_lookup_and_local_archive(tmp_path: Path) -> None:
    data = b"archive bytes"
    digest = hashlib.sha256(data).hexdigest()
    listing = f"{'0' * 64}  ./ollama-darwin.tgz\n{digest}  ./ollama-linux-amd64.tgz\n"
    assert checksum_from_list(listing, "ollama-linux-amd64.tgz", "sums") == digest
    assert checksum_from_list(f"{digest} *dist/x.tgz\n", "x.tgz", "sums") == digest
    with pytest.raises(FetchError, match="sums lists no checksum for y.tgz; nothing was installed"):
        checksum_from_list(listing, "y.tgz", "sums")
    archive = tmp_path / "x.tgz"
    archive.write_bytes(data)
    assert obtain(str(archive), digest) == (archive, False)
    with pytest.raises(FetchError, match="checksum mismatch for .*nothing was installed"):
        obtain(str(archive), "f" * 64)


def test_archive_step_validates_before_anything_runs() -> None:
    kind = STEP_KINDS["archive"]
    ctx = StepContext(Path("."), {})
    base = {k: f.default for k, f in kind.fields.items()} | {
        "url": "https://example.org/r/ollama-linux-amd64.tgz",
        "checksums": "https://example.org/r/sha256sum.txt",
        "dest": "/usr/local",
        "replace": ["lib/ollama"],
        "creates": ["bin/ollama"],
    }
    action = kind.action(base, ctx)
    assert isinstance(action, Unpack)
    assert action.stamp == "/var/lib/envsetup/archives/ollama-linux-amd64.tgz.unpacked"
    for bad, message in (
        ({"url": "http://example.org/a.tgz"}, "must use https://"),
        ({"url": "relative/a.tgz"}, "absolute local path"),
        ({"url": "https://example.org/a.zip"}, "expected an archive"),
        ({"sha256": "a" * 64}, "exactly one of sha256 and checksums"),
        ({"replace": ["../etc"]}, "must be a path inside /usr/local"),
        ({"replace": ["/"]}, "must be a path inside /usr/local"),
        ({"dest": "usr/local"}, "absolute path"),
    ):
        with pytest.raises(ValueError, match=message):
            kind.action(base | bad, ctx)


def test_pull_progress_reads_ollamas_stream() -> None:
    reader = PullProgress()
    assert reader.feed('{"status":"pulling manifest"}') == "pulling manifest"
    line = '{"status":"pulling 6a0746a1ec1a","total":4661211424,"completed":2330605712}'
    assert reader.feed(line) == "pulling 6a0746a1ec1a [##########..........]  50% 2.33/4.66 GB"
    assert reader.error() == "the pull ended without Ollama's final 'success'"
    assert reader.feed('{"status":"success"}') == "success"
    assert reader.error() is None
    failing = PullProgress()
    failing.feed('{"error":"pull model manifest: file does not exist"}')
    assert failing.error() == (
        "ollama could not pull the model: pull model manifest: file does not exist"
    )
    assert full_name("llama3") == "llama3:latest"
    assert full_name("llama3:8b") == "llama3:8b"
    assert api_base("0.0.0.0:11434") == "http://127.0.0.1:11434"
    assert api_base("127.0.0.1") == "http://127.0.0.1:11434"


DEBIAN = {"distro": "debian", "version": "12", "arch": "amd64", "user": "dev", "pid1": "systemd"}


def archives(overrides: dict, facts: dict) -> list[Unpack]:
    steps = prepare(load_recipe("ollama-llama3"), "apply", overrides, target_context(facts))
    found = [s.action for s in steps if s.step.kind == "archive" and s.action is not None]
    assert all(isinstance(a, Unpack) for a in found)
    return found  # type: ignore[return-value]


def test_recipe_defaults_point_at_the_real_release() -> None:
    recipe = load_recipe("ollama-llama3")
    steps = prepare(recipe, "apply", {}, target_context(DEBIAN))
    (archive,) = archives({}, DEBIAN)
    # the pinned release ships .tar.zst only (Ollama's release workflow since v0.14.0)
    release = "https://github.com/ollama/ollama/releases/download/v0.32.15"
    assert archive.source == f"{release}/ollama-linux-amd64.tar.zst"
    assert archive.checksums == f"{release}/sha256sum.txt"
    apt = next(s for s in steps if s.step.kind == "apt").action
    assert "zstd" in apt.kwargs["packages"]  # type: ignore[union-attr]
    (archive,) = archives({}, DEBIAN | {"arch": "arm64"})
    assert archive.source == f"{release}/ollama-linux-arm64.tar.zst"


@pytest.mark.parametrize(
    ("version", "fmt"),
    [
        ("0.12.6", "tgz"),
        ("0.13.5", "tgz"),
        ("0.14.0", "tar.zst"),
        ("0.14.0-rc1", "tar.zst"),
        ("0.32.15", "tar.zst"),
        ("1.0.0", "tar.zst"),
    ],
)
def test_archive_format_follows_the_version(version: str, fmt: str) -> None:
    (archive,) = archives({"version": version}, DEBIAN)
    release = f"https://github.com/ollama/ollama/releases/download/v{version}"
    assert archive.source == f"{release}/ollama-linux-amd64.{fmt}"
    # the override stays, for a mirror that repacks
    other = "tgz" if fmt == "tar.zst" else "tar.zst"
    (archive,) = archives({"version": version, "archive_format": other}, DEBIAN)
    assert archive.source == f"{release}/ollama-linux-amd64.{other}"


@pytest.mark.parametrize(
    ("facts", "bundle"),
    [
        ({}, None),
        ({"gpu": "nvidia"}, None),  # CUDA is in the main archive
        ({"gpu": "amd intel"}, "ollama-linux-amd64-rocm.tar.zst"),
        ({"gpu": "amd", "arch": "arm64"}, None),  # no ROCm build for arm64
        ({"arch": "arm64", "jetson": "36"}, "ollama-linux-arm64-jetpack6.tar.zst"),
        ({"arch": "arm64", "jetson": "35"}, "ollama-linux-arm64-jetpack5.tar.zst"),
        ({"arch": "arm64", "jetson": "32"}, None),
    ],
)
def test_gpu_bundle_follows_the_targets_gpu(facts: dict, bundle: str | None) -> None:
    found = archives({}, DEBIAN | facts)
    release = "https://github.com/ollama/ollama/releases/download/v0.32.15"
    assert [a.source for a in found[1:]] == ([f"{release}/{bundle}"] if bundle else [])
    for archive in found:
        assert archive.checksums == f"{release}/sha256sum.txt"
    # an old release: the bundle in the same (.tgz) format; a mirror on this machine
    found = archives({"version": "0.13.5", "release_url": "/srv/mirror"}, DEBIAN | facts)
    if bundle:
        assert found[1].source == "/srv/mirror/" + bundle.replace(".tar.zst", ".tgz")
    # chosen by hand, whatever the facts
    found = archives({"gpu_component": ""}, DEBIAN | facts)
    assert len(found) == 1


def test_preflight_and_requirements_follow_the_platform() -> None:
    recipe = load_recipe("ollama-llama3")
    plain = target_context(DEBIAN)
    wsl = target_context(DEBIAN | {"osrelease": "5.15.167.4-microsoft-standard-WSL2"})
    assert requirements_here(recipe, {}, plain) == []
    assert requirements_here(recipe, {}, wsl) == ["wsl-systemd"]
    kinds = [c.check.kind for c in prepare_preflight(recipe, {}, plain)]
    assert kinds == ["command", "command", "disk", "memory"]
    kinds = [c.check.kind for c in prepare_preflight(recipe, {}, wsl)]
    assert kinds == ["command", "disk", "memory"]  # systemd comes with wsl-systemd there


@pytest.mark.parametrize(
    ("facts", "extra"),
    [
        ({"gpu": "nvidia"}, ["nvidia-smi -L"]),
        ({"gpu": "amd"}, ["uname -m", "/dev/kfd"]),
        ({"gpu": "amd", "arch": "arm64"}, ["uname -m"]),
        ({"arch": "arm64", "jetson": "36", "gpu": "nvidia"}, ["head -n 1 /etc/nv_tegra_release"]),
    ],
)
def test_preflight_warns_when_the_gpu_will_not_be_used(facts: dict, extra: list[str]) -> None:
    checks = prepare_preflight(load_recipe("ollama-llama3"), {}, target_context(DEBIAN | facts))
    gpu = checks[4:]
    assert [c.args.get("run") or c.args.get("path") for c in gpu] == extra
    assert all(c.check.warn for c in gpu)


def test_disk_preflight_counts_the_libraries_with_the_model() -> None:
    checks = prepare_preflight(load_recipe("ollama-llama3"), {}, target_context(DEBIAN))
    disk = next(c for c in checks if c.check.kind == "disk")
    assert disk.args["also"] == ["/usr/local/lib/ollama=4G"]
    one_disk = (
        "absent /dev/vda 263174148 29007368 9000000 27% /\n"
        "absent /dev/vda 263174148 29007368 9000000 27% /\n"
    )
    assert evaluate("disk", disk.args, 0, one_disk) == (
        "failed",
        "9.2 GB free on / (for /usr/share/ollama/.ollama/models and /usr/local/lib/ollama), "
        "12.0 GB needed",
    )
    libraries_there = one_disk.replace("absent", "present", 2).replace("present", "absent", 1)
    assert evaluate("disk", disk.args, 0, libraries_there)[0] == "ok"
    two_disks = (
        "absent /dev/vdb 263174148 29007368 9000000 27% /srv\n"
        "absent /dev/vda 263174148 29007368 3000000 27% /\n"
    )
    assert evaluate("disk", disk.args, 0, two_disks) == (
        "failed",
        "9.2 GB free on /srv (for /usr/share/ollama/.ollama/models), 8.0 GB needed; "
        "3.1 GB free on / (for /usr/local/lib/ollama), 4.0 GB needed",
    )
    assert evaluate("disk", disk.args, 0, "absent df: /x: No such file\n")[0] == "failed"


def test_schema_checks_preflight_and_requirement_keys(tmp_path: Path) -> None:
    def error(text: str) -> str:
        with pytest.raises(RecipeError) as info:
            parse_recipe(text, tmp_path / "recipe.yaml")
        return str(info.value).split(": ", 1)[1]

    head = "name: r\nsummary: s\nsteps: []\n"
    assert error(head + "requires: [{recipe: a, if: x}]\n") == (
        "requires[0].if: unknown key 'if' (expected one of: recipe, when)"
    )
    assert error(head + "requires: [{recipe: a, when: nope.x}]\n") == (
        "requires[0].when: unknown variable 'nope' in template (declared: none; "
        "target facts: target.distro, target.version, target.arch, target.user)"
    )
    assert error(head + "preflight: [{memory: {total: 8G}, warn: maybe}]\n") == (
        "preflight[0].warn: expected a boolean, got 'maybe'"
    )
    step = "steps: [{name: s, shell: {run: x}, verify: [{memory: {total: 1G}, warn: true}]}]\n"
    assert error("name: r\nsummary: s\n" + step).endswith(
        "a check is a mapping with one kind "
        "(command, disk, env_file, file, http, ini, login_env, "
        "memory, package, torch, version)"
    )


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_rendered_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    recipe = load_recipe("ollama-llama3")
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "ollama").write_text("#!/bin/sh\n")
    (prefix / "bin" / "ollama").chmod(0o755)
    context = {
        "prefix": str(prefix),
        "host": "0.0.0.0:11434",
        "models_dir": "/srv/models",
        "https_proxy": "http://proxy.example:3128",
    }
    unit = render_file(recipe.directory, "ollama.service.j2", context)
    assert "HTTPS_PROXY" not in render_file(
        recipe.directory, "ollama.service.j2", context | {"https_proxy": ""}
    )
    assert f"ExecStart={prefix}/bin/ollama serve\n" in unit
    assert 'Environment="OLLAMA_MODELS=/srv/models"\n' in unit
    # Ollama's FAQ: HTTPS_PROXY for pulls; HTTP_PROXY would break clients of the server
    assert 'Environment="HTTPS_PROXY=http://proxy.example:3128"\n' in unit
    assert "HTTP_PROXY" not in unit.replace("HTTPS_PROXY", "")
    assert "Restart=always\nRestartSec=3\n" in unit
    assert "WantedBy=multi-user.target" in unit
    path = tmp_path / "ollama.service"
    path.write_text(unit)
    done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")


def test_rendered_shell_commands_carry_no_html_escapes() -> None:
    """`tojson` gives Markup, which the shell-quoting renderer HTML-escapes: not used there."""
    recipe = load_recipe("ollama-llama3")
    for step in prepare(recipe, "apply", {"models_dir": "/srv/m"}, target_context(DEBIAN)):
        action = step.action
        kwargs = getattr(action, "kwargs", {}) or {}
        texts = [str(v) for v in kwargs.values()] + [c.command for c in step.checks]
        assert not [t for t in texts if "&#" in t or "&quot;" in t], step.step.name

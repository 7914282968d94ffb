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


def test_recipe_defaults_point_at_the_real_release() -> None:
    recipe = load_recipe("ollama-llama3")
    steps = prepare(recipe, "apply", {}, target_context(DEBIAN))
    archive = next(s for s in steps if s.step.kind == "archive").action
    assert isinstance(archive, Unpack)
    release = "https://github.com/ollama/ollama/releases/download/v0.12.6"
    assert archive.source == f"{release}/ollama-linux-amd64.tgz"
    assert archive.checksums == f"{release}/sha256sum.txt"
    arm = prepare(
        recipe, "apply", {"archive_format": "tar.zst"}, target_context(DEBIAN | {"arch": "arm64"})
    )
    archive = next(s for s in arm if s.step.kind == "archive").action
    assert isinstance(archive, Unpack)
    assert archive.source == f"{release}/ollama-linux-arm64.tar.zst"
    apt = next(s for s in arm if s.step.kind == "apt").action
    assert "zstd" in apt.kwargs["packages"]  # type: ignore[union-attr]


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
    }
    unit = render_file(recipe.directory, "ollama.service.j2", context)
    assert f"ExecStart={prefix}/bin/ollama serve\n" in unit
    assert 'Environment="OLLAMA_MODELS=/srv/models"\n' in unit
    assert "Restart=always\nRestartSec=3\n" in unit
    assert "WantedBy=multi-user.target" in unit
    path = tmp_path / "ollama.service"
    path.write_text(unit)
    done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")

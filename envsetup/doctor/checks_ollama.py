"""Ollama: binary, service, API at OLLAMA_HOST, models, and room for the model."""

from __future__ import annotations

import re

from envsetup.doctor.machine import Machine
from envsetup.doctor.model import Finding

GB = 10**9
FIX = "envsetup apply ollama-llama3"
MODEL_DISK = 4.7 * GB  # llama3 8B, q4_0
MODEL_RAM = 8 * GB


def base_url(host: str | None) -> str:
    host = (host or "127.0.0.1:11434").strip()
    if "://" not in host:
        host = f"http://{host}"
    if host.count(":") < 2:
        host += ":11434"
    return host.rstrip("/")


def binary_version(machine: Machine, binary: str) -> str | None:
    """The installed binary's own version: with no server to ask (port 1 on loopback),
    ``ollama -v`` prints "client version is X" (cmd/cmd.go, versionHandler)."""
    _, out, _ = machine.run(["env", "OLLAMA_HOST=127.0.0.1:1", binary, "-v"])
    match = re.search(r"client version is ([0-9][0-9A-Za-z.+-]*)", out)
    return match.group(1) if match else None


def ollama(machine: Machine) -> list[Finding]:
    binary = machine.which("ollama") or (
        "/usr/local/bin/ollama" if machine.exists("/usr/local/bin/ollama") else None
    )
    url = base_url(machine.env("OLLAMA_HOST"))
    version, error = None, ""
    try:
        version = machine.http_json(f"{url}/api/version", timeout=0.5).get("version")
    except Exception as exc:  # connection refused, timeout, bad JSON
        error = str(exc)
    if binary is None and version is None:
        return [Finding("ollama", "skip", "Ollama is not installed", fix=FIX)]
    findings = [
        Finding(
            "ollama.binary", "ok" if binary else "warn", f"ollama binary: {binary or 'not found'}"
        )
    ]
    if machine.exists("/etc/systemd/system/ollama.service"):
        _, state, _ = machine.run(["systemctl", "is-active", "ollama"])
        state = state.strip() or "unknown"
        findings.append(
            Finding(
                "ollama.service",
                "ok" if state == "active" else "fail",
                f"ollama.service is {state}",
                fix=None if state == "active" else "sudo systemctl start ollama",
            )
        )
    if version is None:
        findings.append(
            Finding(
                "ollama.api",
                "fail",
                f"nothing answers at {url}",
                error,
                "sudo systemctl start ollama (or " + FIX + ")",
            )
        )
        return findings
    findings.append(Finding("ollama.api", "ok", f"Ollama {version} answers at {url}"))
    installed = binary_version(machine, binary) if binary else None
    if installed and installed != version:
        findings.append(
            Finding(
                "ollama.upgrade",
                "fail",
                f"the server answering is {version}, the installed binary is {installed}",
                "an upgrade replaced the files but the old server still runs",
                "sudo systemctl restart ollama (or " + FIX + ")",
            )
        )
    try:
        models = [m["name"] for m in machine.http_json(f"{url}/api/tags").get("models", [])]
    except Exception as exc:
        models, findings = [], [*findings, Finding("ollama.models", "warn", f"/api/tags: {exc}")]
    if models:
        findings.append(Finding("ollama.models", "ok", f"models: {', '.join(models)}"))
    else:
        findings.append(Finding("ollama.models", "warn", "no model pulled", fix=FIX))
    free = machine.free_bytes("/usr/share/ollama")
    ram = machine.mem_total_bytes()
    if free is not None and not models and free < MODEL_DISK * 1.2:
        findings.append(
            Finding("ollama.disk", "warn", f"{free / GB:.1f} GB free; llama3 needs about 4.7 GB")
        )
    if ram is not None and ram < MODEL_RAM:
        findings.append(
            Finding("ollama.ram", "warn", f"{ram / GB:.1f} GB RAM; 8B models want 8 GB")
        )
    return findings

from __future__ import annotations

import json
import re
import shlex
from typing import Any, ClassVar

from envsetup.kinds import Action, Field, StepContext, Stream

MODEL_RE = re.compile(r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?")
HOST_RE = re.compile(r"[A-Za-z0-9.\[\]:-]+")


def full_name(model: str) -> str:
    """Ollama lists ``llama3`` as ``llama3:latest``."""
    return model if ":" in model.rpartition("/")[2] else f"{model}:latest"


def api_base(host: str) -> str:
    """OLLAMA_HOST as a base URL: ``0.0.0.0`` binds every address, so ask on loopback."""
    host = host.removeprefix("http://")
    host = host if ":" in host.rpartition("]")[2] else f"{host}:11434"
    name, _, port = host.rpartition(":")
    if name in ("0.0.0.0", "", "[::]"):
        name = "127.0.0.1"
    return f"http://{name}:{port}"


class PullProgress:
    """Reads Ollama's streamed ``/api/pull`` answer: one JSON object a line."""

    def __init__(self) -> None:
        self.failure: str | None = None
        self.succeeded = False

    def feed(self, line: str) -> str | None:
        try:
            event = json.loads(line)
        except ValueError:
            return None
        if not isinstance(event, dict):
            return None
        if event.get("error"):
            self.failure = str(event["error"])
            return None
        status = str(event.get("status", ""))
        if status == "success":
            self.succeeded = True
        total, completed = event.get("total"), event.get("completed")
        if isinstance(total, int) and total > 0 and isinstance(completed, int):
            return f"{status} {bar(completed / total)} {completed / 1e9:.2f}/{total / 1e9:.2f} GB"
        return status or None

    def error(self) -> str | None:
        if self.failure:
            return f"ollama could not pull the model: {self.failure}"
        if not self.succeeded:
            return "the pull ended without Ollama's final 'success'"
        return None


def bar(fraction: float, width: int = 20) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:3.0f}%"


class OllamaPull:
    """A model pulled by the Ollama server on the target (``POST /api/pull``, streamed).

    Skipped when ``GET /api/tags`` already lists it; progress shows on a terminal.
    """

    name: ClassVar[str] = "ollama_pull"
    fields: ClassVar[dict[str, Field]] = {
        "model": Field("str", required=True, doc="model name, e.g. llama3 or llama3:8b"),
        "host": Field("str", default="127.0.0.1:11434", doc="OLLAMA_HOST of the server"),
    }

    @staticmethod
    def action(args: dict[str, Any], ctx: StepContext) -> Action:
        if not MODEL_RE.fullmatch(args["model"]):
            raise ValueError(f"{args['model']!r} is not an Ollama model name")
        if not HOST_RE.fullmatch(args["host"].removeprefix("http://")):
            raise ValueError(f"{args['host']!r} is not host:port")
        base = api_base(args["host"])
        body = json.dumps({"model": args["model"], "stream": True})
        pull = (
            f"curl -sS -N --fail -X POST -d {shlex.quote(body)} {shlex.quote(base + '/api/pull')}"
        )
        # Ollama (Go's encoding/json) writes compact JSON: "name":"llama3:latest"
        wanted = '"name":' + json.dumps(full_name(args["model"]))
        listed = (
            f"curl -sS --fail --max-time 30 {shlex.quote(base + '/api/tags')} "
            f"| grep -qF {shlex.quote(wanted)}"
        )
        return Stream(pull, listed, PullProgress)

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"model {full_name(args['model'])} pulled through {api_base(args['host'])}/api/pull"

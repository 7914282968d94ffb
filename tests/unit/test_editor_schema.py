"""The JSON Schema in a real editor backend: yaml-language-server checks and completes recipes.

The server (npm package, installed by .ci/run into .ci/tools) is driven over stdio with
the Language Server Protocol, as VS Code, Neovim or Helix drive it.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from envsetup.recipe_schema import schema_text

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / ".ci/tools/node_modules/.bin/yaml-language-server"

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and SERVER.exists()),
    reason="yaml-language-server (npm package, installed by .ci/run into .ci/tools) is missing",
)


class LanguageServer:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [str(SERVER), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.last_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while True:
            length = 0
            while line := self.process.stdout.readline().decode().strip():
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not length:
                return
            self.messages.put(json.loads(self.process.stdout.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        data = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.last_id += 1
        wanted = self.last_id
        self.send({"id": wanted, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == wanted and "method" not in m)["result"]

    def wait(self, match: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.messages.get(timeout=1)
            except queue.Empty:
                continue
            if "id" in message and "method" in message:  # the server asks for settings
                items = message.get("params", {}).get("items", [])
                result = [{"validate": True, "completion": True}] * len(items) or None
                self.send({"id": message["id"], "result": result})
            elif match(message):
                return message
        raise TimeoutError("no answer from yaml-language-server")

    def open(self, path: Path) -> list[tuple[int, str]]:
        """Open a file; its diagnostics as (line, message)."""
        uri = path.as_uri()
        document = {"uri": uri, "languageId": "yaml", "version": 1, "text": path.read_text()}
        self.send({"method": "textDocument/didOpen", "params": {"textDocument": document}})
        found = self.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            )
        )
        return [
            (d["range"]["start"]["line"] + 1, d["message"]) for d in found["params"]["diagnostics"]
        ]


@pytest.fixture
def server(tmp_path: Path) -> Any:
    (tmp_path / "recipe.schema.json").write_text(schema_text())
    ls = LanguageServer()
    ls.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
    ls.send({"method": "initialized", "params": {}})
    settings = {"yaml": {"validate": True, "completion": True, "schemaStore": {"enable": False}}}
    ls.send({"method": "workspace/didChangeConfiguration", "params": {"settings": settings}})
    yield ls
    ls.process.kill()
    ls.process.wait()


MODELINE = "# yaml-language-server: $schema=recipe.schema.json\n"


def test_built_in_recipes_have_no_diagnostics(server: LanguageServer, tmp_path: Path) -> None:
    for recipe in sorted((ROOT / "recipes").glob("*/recipe.yaml")):
        copy = tmp_path / f"{recipe.parent.name}.yaml"
        copy.write_text(MODELINE + recipe.read_text())
        assert server.open(copy) == [], recipe.parent.name


def test_mistakes_are_flagged_on_their_lines(server: LanguageServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MODELINE + "name: bad\nsummary: broken on purpose\nsteps:\n"
        "  - Install curl\n"  # line 5: a step as a string (README's old mistake)
        "  - name: Two kinds\n    apt: [curl]\n    shell: {run: x, creates: /x}\n"
        "  - name: Unknown key\n    ini: {path: /etc/wsl.conf, sektion: boot, key: systemd}\n"
    )
    found = server.open(bad)
    assert {line for line, _ in found} == {5, 6, 10}
    assert (10, "Property sektion is not allowed.") in found
    assert (10, 'Missing property "section".') in found


def test_keys_of_a_kind_are_completed(server: LanguageServer, tmp_path: Path) -> None:
    recipe = tmp_path / "complete.yaml"
    recipe.write_text(
        MODELINE + "name: c\nsummary: c\nsteps:\n  - name: Install\n    apt:\n      \n"
    )
    server.open(recipe)
    result = server.request(
        "textDocument/completion",
        {"textDocument": {"uri": recipe.as_uri()}, "position": {"line": 6, "character": 6}},
    )
    items = result["items"] if isinstance(result, dict) else result
    labels = {item["label"] for item in items}
    assert {"packages", "present", "update", "cache_time", "no_recommends"} <= labels

"""The download step against a real HTTPS server on loopback (test fixture: Python's
http.server with a self-signed certificate that the test trusts through SSL_CERT_FILE),
installing into a real Debian 12 root."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import envsetup, run_json
from tests.integration.roots import DebianRoot

PAYLOAD = b"#!/bin/sh\necho hello from a downloaded file\n" * 100
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/tool":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:100])  # then the connection closes early
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def https_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust this server, and only it
    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def recipe(tmp_path: Path, url: str, sha: str) -> str:
    path = tmp_path / "dl" / "recipe.yaml"
    path.parent.mkdir()
    path.write_text(
        "name: dl\nsummary: download test\nsteps:\n  - name: Fetch the tool\n    download:\n"
        f"      url: '{url}'\n      sha256: '{sha}'\n      dest: /usr/local/bin/tool\n"
        "      mode: '0755'\n    verify:\n      - command: {run: tool, output: hello}\n"
    )
    return str(path)


def test_download_checked_installed_and_idempotent(
    bookworm: DebianRoot, https_server: str, tmp_path: Path
) -> None:
    file = recipe(tmp_path, f"{https_server}/tool", SHA)
    target = ("-t", f"@chroot{bookworm.path}")
    plan = envsetup("plan", file, *target)
    assert f"download {https_server}/tool" in plan.stdout
    assert f"check sha256 {SHA} before use" in plan.stdout
    code, doc, _ = run_json("apply", file, *target)
    assert code == 0, doc
    tool = bookworm.file("/usr/local/bin/tool")
    assert tool.read_bytes() == PAYLOAD and tool.stat().st_mode & 0o777 == 0o755
    code, doc, _ = run_json("apply", file, *target)
    assert (code, doc["changed"]) == (0, 0)


@pytest.mark.parametrize(
    ("path", "sha", "message"),
    [
        (
            "/tool",
            "0" * 64,
            f"checksum mismatch for URL/tool: expected {'0' * 64}, got {SHA}; the file was removed",
        ),
        (
            "/truncated",
            SHA,
            f"the download of URL/truncated was cut short: 100 of {len(PAYLOAD)} bytes; "
            "the partial file was removed",
        ),
        ("/missing", SHA, "could not download URL/missing: Not Found"),
    ],
    ids=["mismatch", "truncated", "not-found"],
)
def test_bad_downloads_leave_nothing(
    bookworm: DebianRoot, https_server: str, tmp_path: Path, path: str, sha: str, message: str
) -> None:
    code, doc, _ = run_json(
        "apply", recipe(tmp_path, f"{https_server}{path}", sha), "-t", f"@chroot{bookworm.path}"
    )
    assert code == 1
    step = doc["targets"][0]["recipes"][0]["steps"][0]
    assert step["status"] == "failed"
    assert step["error"].startswith(message.replace("URL", https_server))
    assert not bookworm.file("/usr/local/bin/tool").exists()
    assert not list(bookworm.file("/usr/local/bin").glob("tool*"))


def test_plain_http_is_refused_before_anything_runs(bookworm: DebianRoot, tmp_path: Path) -> None:
    code, doc, _ = run_json(
        "apply", recipe(tmp_path, "http://127.0.0.1:1/tool", SHA), "-t", f"@chroot{bookworm.path}"
    )
    assert code == 2
    assert "'http://127.0.0.1:1/tool': downloads must use https://" in doc["targets"][0]["error"]


def test_a_hostile_root_cannot_lead_the_upload_to_this_machine(
    bookworm: DebianRoot, https_server: str, tmp_path: Path
) -> None:
    """pyinfra's @chroot upload is a `cp` on this machine, which would follow a link the root
    holds; envsetup resolves every link inside the root instead."""
    host = tmp_path / "host"  # a folder of this machine, beside the root
    host.mkdir()
    local = bookworm.file("/usr/local/bin")
    local.rename(bookworm.file("/usr/local/bin.real"))
    local.symlink_to(str(host))  # absolute: on this machine it is `host`
    bookworm.file(str(host)).mkdir(parents=True)  # and inside the root, this folder
    code, doc, _ = run_json(
        "apply", recipe(tmp_path, f"{https_server}/tool", SHA), "-t", f"@chroot{bookworm.path}"
    )
    assert code == 0, doc
    assert list(host.iterdir()) == []
    inside = bookworm.file(str(host) + "/tool")  # where the link leads inside the root
    assert inside.read_bytes() == PAYLOAD

"""Downloads for the ``download`` step: HTTPS only, SHA-256 checked before anything uses
the file, a partial or mismatched file removed. No ``curl | sh`` anywhere."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

SHA256_RE = re.compile(r"[0-9a-f]{64}")
CHUNK = 1 << 20


class FetchError(Exception):
    pass


def check_source(url: str, sha256: str) -> None:
    """Refuse what would not be safe to download, before anything runs."""
    if not url.startswith("https://"):
        raise ValueError(f"{url!r}: downloads must use https://")
    if not SHA256_RE.fullmatch(sha256):
        raise ValueError(f"{sha256!r} is not a SHA-256 checksum (64 lower-case hex digits)")


def fetch(url: str, sha256: str, timeout: float = 60) -> Path:
    """Download ``url`` to a temporary file and return it once its SHA-256 matches.

    On any failure the partial file is removed and FetchError says what happened.
    """
    check_source(url, sha256)
    handle, name = tempfile.mkstemp(prefix="envsetup-download-")
    path = Path(name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            if not resp.geturl().startswith("https://"):
                raise FetchError(f"{url} redirected to {resp.geturl()}, which is not https")
            expected = resp.headers.get("Content-Length")
            received = 0
            while chunk := resp.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
            if expected is not None and expected.isdigit() and received != int(expected):
                raise FetchError(
                    f"the download of {url} was cut short: {received} of {expected} bytes; "
                    "the partial file was removed"
                )
    except FetchError:
        path.unlink(missing_ok=True)
        raise
    except (urllib.error.URLError, OSError, ValueError) as exc:
        path.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"could not download {url}: {reason}") from None
    actual = digest.hexdigest()
    if actual != sha256:
        path.unlink(missing_ok=True)
        raise FetchError(
            f"checksum mismatch for {url}: expected {sha256}, got {actual}; the file was removed"
        )
    return path


def discard(path: Path) -> None:
    path.unlink(missing_ok=True)

"""Downloads for the ``download`` and ``archive`` steps: HTTPS only, SHA-256 checked before
anything uses the file, a partial or mismatched file removed. No ``curl | sh`` anywhere.

An archive may also be a file on this machine (air-gapped installs): it is checked the same way.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
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
    import urllib.error  # only when downloading: keeps start-up fast
    import urllib.request

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


def is_url(location: str) -> bool:
    return "://" in location


def check_location(location: str) -> None:
    """An https:// URL or an absolute path on this machine; anything else is refused."""
    if is_url(location):
        if not location.startswith("https://"):
            raise ValueError(f"{location!r}: downloads must use https://")
    elif not location.startswith("/"):
        raise ValueError(f"{location!r}: expected an https:// URL or an absolute local path")


def read_small(location: str, limit: int = 1 << 20, timeout: float = 60) -> str:
    """The text of a small file (a checksum list) from an https:// URL or a local path."""
    import urllib.error
    import urllib.request

    check_location(location)
    try:
        if not is_url(location):
            with open(location, "rb") as file:
                return file.read(limit).decode("utf-8", "replace")
        with urllib.request.urlopen(location, timeout=timeout) as resp:
            if not resp.geturl().startswith("https://"):
                raise FetchError(f"{location} redirected to {resp.geturl()}, which is not https")
            data: bytes = resp.read(limit)
            return data.decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"could not read {location}: {reason}") from None


def checksum_from_list(listing: str, name: str, where: str) -> str:
    """The SHA-256 of ``name`` in a ``sha256sum`` listing (``HASH  ./name`` or ``HASH *name``)."""
    for line in listing.splitlines():
        parts = line.split(None, 1)
        if len(parts) != 2 or not SHA256_RE.fullmatch(parts[0].lower()):
            continue
        listed = parts[1].strip().lstrip("*")
        if listed.removeprefix("./").rpartition("/")[2] == name:
            return parts[0].lower()
    raise FetchError(f"{where} lists no checksum for {name}; nothing was installed")


def obtain(location: str, sha256: str) -> tuple[Path, bool]:
    """A checked copy of ``location``: (path, whether it is a temporary download)."""
    if is_url(location):
        return fetch(location, sha256), True
    digest = hashlib.sha256()
    try:
        with open(location, "rb") as file:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise FetchError(f"cannot read {location}: {exc.strerror}") from None
    if digest.hexdigest() != sha256:
        raise FetchError(
            f"checksum mismatch for {location}: expected {sha256}, got {digest.hexdigest()}; "
            "nothing was installed"
        )
    return Path(location), False

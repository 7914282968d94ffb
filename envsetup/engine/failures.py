"""What a failed command or connection most likely means, and the fix to name."""

from __future__ import annotations

_FAILURE_HINTS = (
    (
        "read-only file system",
        "the target's filesystem is mounted read-only: remount it "
        "read-write (mount -o remount,rw MOUNTPOINT) and apply again",
    ),
    ("no space left on device", "the target's disk is full: free space (df -h) and apply again"),
    ("enough free space", "the target's disk is full: free space (df -h) and apply again"),
    (
        "temporary failure resolving",
        "the target cannot reach the package archive: check its "
        "network, DNS and apt proxy settings",
    ),
    (
        "could not resolve",
        "the target cannot reach the package archive: check its network, "
        "DNS and apt proxy settings",
    ),
    (
        "unable to connect to",
        "the target cannot reach the package archive: check its network and apt proxy settings",
    ),
    (
        "could not get lock",
        "another apt or dpkg process held the lock for 5 minutes: wait for "
        "it to finish and apply again",
    ),
)


def explain_failure(output: str) -> str:
    """A failed command's output, plus the likely cause and fix when it is a known one."""
    lowered = output.lower()
    hint = next((h for key, h in _FAILURE_HINTS if key in lowered), None)
    text = output or "the command failed with no output"
    return f"{text}\nFix: {hint}" if hint else text


_CONNECT_HINTS = (
    ("authentication", "check the user and the SSH key (ssh -v HOST tells more)"),
    ("permission denied", "check the user and the SSH key (ssh -v HOST tells more)"),
    ("host key", "the host key is unknown or changed: check it, then ssh-keygen -R HOST"),
    ("could not resolve", "check the host name, or its alias in ~/.ssh/config"),
    ("could not connect", "check that the host is up and that sshd listens on that port"),
    ("timed out", "check that the host is up and that sshd listens on that port"),
    ("chroot", "check the path, and that you are root (chroot needs root)"),
)


def explain_connect_error(name: str, message: str) -> str:
    lowered = message.lower()
    hint = next((h for key, h in _CONNECT_HINTS if key in lowered), "check the target")
    return f"cannot connect to {name}: {message.strip() or 'unknown error'} ({hint})"

from __future__ import annotations

import base64
import shlex
from typing import Any, ClassVar

from envsetup.editors import envfile
from envsetup.editors.envfile import KEY_RE
from envsetup.kinds import Field, ProbeResult

MARK = "ENVSETUP-LOGIN-ENV:"
FILE = "ENVSETUP-LOGIN-ENV-FILE:"
KEPT = "ENVSETUP-LOGIN-ENV-KEPT:"  # the login shell's value when pam_env gave SENTINEL
SENTINEL = "@@envsetup-pam-env@@"

# One's own login session, without a password: /etc/environment is sent back to be read
# with envsetup's pam_env model (the one proven against the real pam_env), and the login
# shell runs twice in a clean environment, once with KEY unset and once with KEY set to
# SENTINEL, so that what the profile scripts do to it shows. No shell re-reads the file.
OWN_SESSION = r"""e=$(getent passwd "$1") || { echo "no user $1" >&2; exit 1; }
home=$(printf %s "$e" | cut -d: -f6) shell=$(printf %s "$e" | cut -d: -f7)
printf '%s%s\n' "$3" "$(base64 -w0 /etc/environment 2>/dev/null)"
set -- "$1" "$2" "$4" "$5"
run() { user=$1 inner=$2; shift 2; env -i HOME="$home" SHELL="$shell" USER="$user" \
  LOGNAME="$user" PATH=/usr/local/bin:/usr/bin:/bin "$@" "$shell" -l -c "$inner" </dev/null; }
run "$1" "$2"
run "$1" "$3" "$4"
"""


class LoginEnvCheck:
    """A fresh login session of ``user`` (``su - USER``) sees ``KEY=value``.

    The shell that ran envsetup does not: it sees the change at the next login,
    or at once after ``set -a; . /etc/environment; set +a``.

    As root the session is ``su - USER``: the real pam_env and profile. As ``user``
    itself, who needs no password for their own session, /etc/environment is read
    with envsetup's pam_env model (proven against the real one) and the user's login
    shell is run in a clean environment to show what its profile does to the
    variable. Any other login needs root for it.
    """

    name: ClassVar[str] = "login_env"
    fields: ClassVar[dict[str, Field]] = {
        "user": Field("str", required=True, doc="whose login session"),
        "key": Field("str", required=True, doc="variable name"),
        "value": Field("str", required=True, doc="expected value"),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        if not KEY_RE.fullmatch(args["key"]):
            raise ValueError(f"'{args['key']}' is not a valid environment variable name")

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        key = args["key"]
        if not KEY_RE.fullmatch(key):
            raise ValueError(f"'{key}' is not a valid environment variable name")
        inner = f"printf '{MARK}%s\\n' \"${{{key}-<unset>}}\""
        kept = f"printf '{KEPT}%s\\n' \"${{{key}-<unset>}}\""
        user = shlex.quote(args["user"])
        own = " ".join(
            shlex.quote(part)
            for part in (OWN_SESSION, "sh", args["user"], inner, FILE, kept, f"{key}={SENTINEL}")
        )
        return (
            f'if [ "$(id -u)" = 0 ]; then su - {user} -c {shlex.quote(inner)} </dev/null; '
            f"else sh -c {own}; fi"
        )

    @staticmethod
    def needs_root(args: dict[str, Any]) -> tuple[str, str] | None:
        """Another user's session needs root (``su``); one's own does not."""
        user = shlex.quote(args["user"])
        condition = f'[ "$(id -u)" != 0 ] && [ "$(id -un)" != {user} ]'
        return condition, f"a login session of {args['user']} needs root (su)"

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        who = f"a login session of {args['user']}"
        seen = LoginEnvCheck._seen(args["key"], output)
        if status != 0 or seen is None:
            return ProbeResult("failed", f"could not start {who}: {output.strip()[-200:]}")
        if seen != args["value"]:
            return ProbeResult(
                "failed", f"{who} sees {args['key']}={seen}, expected {args['value']}"
            )
        return ProbeResult("ok", f"{who} sees {args['key']}={seen}")

    @staticmethod
    def _seen(key: str, output: str) -> str | None:
        """What the session sees: ``su``'s line as root; for one's own session, pam_env's
        value (the model, from the file) as the login shell's profile leaves it."""
        lines = output.split("\n")  # only LF: a value may hold a CR
        found = {
            mark: [line[len(mark) :] for line in lines if line.startswith(mark)]
            for mark in (MARK, FILE, KEPT)
        }
        if not found[FILE]:
            return found[MARK][-1] if found[MARK] else None
        if not found[MARK] or not found[KEPT]:
            return None
        text = base64.b64decode(found[FILE][-1]).decode("utf-8", errors="surrogateescape")
        pam = envfile.get_value(text or None, key)
        if pam is None:
            return found[MARK][-1]  # the profile's own doing, from nothing
        return found[KEPT][-1].replace(SENTINEL, pam)

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"login session of {args['user']} sees {args['key']}={args['value']}"

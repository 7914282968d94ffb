from __future__ import annotations

import shlex
from typing import Any, ClassVar

from envsetup.editors.envfile import KEY_RE
from envsetup.kinds import Field, ProbeResult

MARK = "ENVSETUP-LOGIN-ENV:"

# /etc/environment as pam_env reads it (KEY=VALUE lines, an optional "export ",
# quotes around the value dropped), into a clean environment, then the login shell.
_PAM_ENV = r"""while IFS= read -r l || [ -n "$l" ]; do
  l=${l#"${l%%[![:space:]]*}"}
  case $l in ""|"#"*) continue;; esac
  l=${l#export }; k=${l%%=*}; v=${l#*=}
  [ "$k" = "$l" ] && continue
  case $k in [0-9]*|*[!A-Za-z0-9_]*) continue;; esac
  case $v in \"*\") v=${v#\"}; v=${v%\"};; \'*\') v=${v#\'}; v=${v%\'};; esac
  export "$k=$v"
done </etc/environment
exec "$SHELL" -l -c "$1" </dev/null"""
OWN_SESSION = (
    "e=$(getent passwd {user}); "
    'env -i HOME="$(echo "$e" | cut -d: -f6)" SHELL="$(echo "$e" | cut -d: -f7)" '
    "USER={user} LOGNAME={user} PATH=/usr/local/bin:/usr/bin:/bin "
    + "sh -c "
    + shlex.quote(_PAM_ENV).replace("{", "{{").replace("}", "}}")
    + " sh {inner} </dev/null"
)


class LoginEnvCheck:
    """A fresh login session of ``user`` (``su - USER``) sees ``KEY=value``.

    The shell that ran envsetup does not: it sees the change at the next login,
    or at once after ``set -a; . /etc/environment; set +a``.

    As root the session is ``su - USER``. As ``user`` itself, who needs no
    password for their own session, it is started the way a login starts it:
    a clean environment, /etc/environment read as pam_env reads it, then the
    user's shell as a login shell. Any other login needs root for it.
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
        user = shlex.quote(args["user"])
        own = OWN_SESSION.format(user=user, inner=shlex.quote(inner))
        return (
            f'if [ "$(id -u)" = 0 ]; then su - {user} -c {shlex.quote(inner)} </dev/null; '
            f"else {own}; fi"
        )

    @staticmethod
    def needs_root(args: dict[str, Any]) -> tuple[str, str] | None:
        """Another user's session needs root (``su``); one's own does not."""
        user = shlex.quote(args["user"])
        condition = f'[ "$(id -u)" != 0 ] && [ "$(id -un)" != {user} ]'
        return condition, f"a login session of {args['user']} needs root (su)"

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        seen = [line[len(MARK) :] for line in output.splitlines() if line.startswith(MARK)]
        who = f"a login session of {args['user']}"
        if status != 0 or not seen:
            return ProbeResult("failed", f"could not start {who}: {output.strip()[-200:]}")
        value = seen[-1]
        if value != args["value"]:
            return ProbeResult(
                "failed", f"{who} sees {args['key']}={value}, expected {args['value']}"
            )
        return ProbeResult("ok", f"{who} sees {args['key']}={value}")

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        return f"login session of {args['user']} sees {args['key']}={args['value']}"

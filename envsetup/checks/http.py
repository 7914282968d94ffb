from __future__ import annotations

import json
import re
import shlex
from typing import Any, ClassVar

from envsetup.checks.command import last_lines
from envsetup.kinds import Field, ProbeResult

STATUS_MARK = "@@envsetup-http@@"


class HttpCheck:
    """An HTTP endpoint on the target answers 2xx with JSON whose ``field`` is as expected.

    curl runs on the target, so services bound to the target's loopback are
    reachable; the answer is judged here. ``field`` is a dotted path where
    ``[]`` maps over a list (``models[].name``); without a comparison the value
    must be non-empty.
    """

    name: ClassVar[str] = "http"
    fields: ClassVar[dict[str, Field]] = {
        "url": Field("str", required=True, doc="http:// or https:// URL, fetched on the target"),
        "method": Field("str", default="GET", choices=("GET", "POST"), doc="request method"),
        "body": Field("str", doc="a JSON request body (sent with POST)"),
        "field": Field("str", doc="a path into the JSON answer, e.g. models[].name"),
        "equals": Field("str", doc="the value (or one of the values) equals this"),
        "matches": Field("str", doc="regex searched in the value"),
        "timeout": Field("int", default=30, doc="seconds before curl gives up"),
        "retries": Field("int", default=0, doc="retries, a second apart, while nothing listens"),
    }

    @staticmethod
    def validate(args: dict[str, Any]) -> None:
        if not re.match(r"https?://", args["url"]):
            raise ValueError(f"url must start with http:// or https://, got {args['url']!r}")
        if args.get("matches"):
            re.compile(args["matches"])
        if args.get("body") is not None:
            json.loads(args["body"])

    @staticmethod
    def command(args: dict[str, Any]) -> str:
        parts = ["curl", "-sS", "--max-time", str(args["timeout"]), "-X", args["method"]]
        if args["retries"]:
            parts += ["--retry", str(args["retries"]), "--retry-connrefused", "--retry-delay", "1"]
        if args.get("body") is not None:
            parts += ["-H", "Content-Type: application/json", "--data-binary", args["body"]]
        parts += ["-w", f"\\n{STATUS_MARK}%{{http_code}}", args["url"]]
        return " ".join(shlex.quote(part) for part in parts)

    @staticmethod
    def evaluate(args: dict[str, Any], status: int, output: str) -> ProbeResult:
        body, _, code = output.rpartition(STATUS_MARK)
        if status != 0 or not code.strip().isdigit():
            return ProbeResult("failed", f"no answer from {args['url']}: {last_lines(output, 1)}")
        if not 200 <= int(code) < 300:
            return ProbeResult("failed", f"HTTP {code.strip()}: {last_lines(body, 1)}")
        if not args.get("field"):
            return ProbeResult("ok", f"HTTP {code.strip()}")
        try:
            values = select(json.loads(body), args["field"])
        except (ValueError, KeyError, TypeError) as exc:
            return ProbeResult("failed", f"no {args['field']} in the answer ({exc}): {body[:200]}")
        return judge_values(args, values)

    @staticmethod
    def describe(args: dict[str, Any]) -> str:
        what = f"{args['method']} {args['url']}"
        if not args.get("field"):
            return f"{what} answers"
        if args.get("equals") is not None:
            return f"{what}: {args['field']} = {args['equals']}"
        if args.get("matches"):
            return f"{what}: {args['field']} matches /{args['matches']}/"
        return f"{what}: {args['field']} is not empty"


def select(document: Any, path: str) -> list[Any]:
    """The values at a dotted path; ``name[]`` maps the rest of the path over a list."""
    values = [document]
    for part in path.split("."):
        over_list = part.endswith("[]")
        key = part[:-2] if over_list else part
        values = [value[key] for value in values]
        if over_list:
            values = [item for value in values for item in value]
    return values


def judge_values(args: dict[str, Any], values: list[Any]) -> ProbeResult:
    texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
    shown = ", ".join(text[:80] for text in texts[:5]) or "(none)"
    field = args["field"]
    if args.get("equals") is not None:
        ok = args["equals"] in texts
        return ProbeResult("ok" if ok else "failed", f"{field}: {shown}")
    if args.get("matches"):
        ok = any(re.search(args["matches"], text) for text in texts)
        return ProbeResult("ok" if ok else "failed", f"{field}: {shown}")
    ok = any(text.strip() and text != "null" for text in texts)
    return ProbeResult("ok" if ok else "failed", f"{field}: {shown if ok else 'empty'}")

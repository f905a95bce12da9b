"""OpenAI's error shape on the OpenAI-compatible paths (/v1/chat/completions, /v1/models).

The rest of the API answers errors as problem+json. OpenAI clients (the `openai` SDK,
LangChain's ChatOpenAI) only read `{"error": {"message", "type", "param", "code"}}`; given
anything else they show a bare "Error code: 422". So on these paths an ASGI middleware
rewrites every problem+json response, whoever raised it (validation, auth, rate limit,
a route, a body-size guard), into OpenAI's shape with the status code OpenAI uses.
"""

from __future__ import annotations

import json

from assistant.api.problems import PROBLEM_JSON

OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")

# Status → (OpenAI error type, status OpenAI sends). OpenAI answers invalid input with 400.
_TYPES: dict[int, tuple[str, int]] = {
    400: ("invalid_request_error", 400),
    401: ("authentication_error", 401),
    403: ("permission_error", 403),
    404: ("not_found_error", 404),
    405: ("invalid_request_error", 405),
    413: ("invalid_request_error", 413),
    422: ("invalid_request_error", 400),
    429: ("rate_limit_error", 429),
}
# Problem titles with a specific OpenAI code (and, for an unknown model, OpenAI's 404).
_CODES: dict[str, tuple[str, int | None, str | None]] = {
    "Unknown backend": ("model_not_found", 404, "model"),
    "Unknown model": ("model_not_found", 404, "model"),
    "Unusable backend": ("model_not_available", 400, "model"),
    "Unsupported option": ("unsupported_value", 400, None),
    "Unauthorized": ("invalid_api_key", None, None),
    "Too many requests": ("rate_limit_exceeded", None, None),
}


def is_openai_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in OPENAI_PATHS)


def openai_error(status: int, message: str, *, param: str | None = None,
                 code: str | None = None, kind: str | None = None) -> dict:
    """The body OpenAI sends: `{"error": {"message", "type", "param", "code"}}`."""
    default = "server_error" if status >= 500 else "invalid_request_error"
    error_type = kind or _TYPES.get(status, (default, status))[0]
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def from_problem(problem: dict) -> tuple[int, dict]:
    """(status, OpenAI error body) for a problem+json body."""
    status = int(problem.get("status", 500))
    title = str(problem.get("title", ""))
    code, status_override, param = _CODES.get(title, (None, None, None))
    param = problem.get("param") or param or _first_param(problem)
    sent = status_override or _TYPES.get(status, ("", status))[1]
    message = str(problem.get("detail") or title or "request failed")
    if status >= 500:
        code = code or ("service_unavailable" if status == 503 else None)
    return sent, openai_error(sent, message, param=param, code=code,
                              kind=_TYPES.get(sent, (None, sent))[0] if status < 500 else None)


def _first_param(problem: dict) -> str | None:
    """The request field a validation error is about: `messages.0.role`, not `body.…`."""
    errors = problem.get("errors") or []
    if not errors:
        return None
    location = str(errors[0].get("loc", ""))
    return location.removeprefix("body.").removeprefix("body") or None


class OpenAIErrorShape:
    """ASGI middleware: problem+json → OpenAI error bodies on the OpenAI-compatible paths."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not is_openai_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        held: dict = {}

        async def rewrite(message) -> None:
            if message["type"] == "http.response.start":
                if _content_type(message).startswith(PROBLEM_JSON):
                    held["start"], held["body"] = message, b""
                    return
                await send(message)
            elif "start" in held:
                held["body"] += message.get("body", b"")
                if not message.get("more_body"):
                    await _send_converted(send, held["start"], held["body"])
            else:
                await send(message)

        await self.app(scope, receive, rewrite)


def _content_type(start: dict) -> str:
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return ""


async def _send_converted(send, start: dict, body: bytes) -> None:
    try:
        status, converted = from_problem(json.loads(body))
    except ValueError:
        status, converted = start["status"], openai_error(start["status"], "request failed")
    payload = json.dumps(converted, ensure_ascii=False).encode()
    headers = [(k, v) for k, v in start.get("headers", [])
               if k.lower() not in (b"content-type", b"content-length")]
    headers += [(b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})

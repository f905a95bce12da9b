"""/openapi.json as the service behaves: every error status a route can return, in the
shape it is sent (problem+json, or OpenAI's error object on the OpenAI-compatible paths),
and request limits taken from the settings the server runs with.

FastAPI documents only the 200 and its own 422 (as application/json, which is not what is
sent); the middleware (assistant/api/guards.py, server.py) and the auth dependency add
413, 401, 403, 429 and 503 it cannot see. `install_openapi` post-processes the generated
document once, so schemathesis and client generators see the real contract.
"""

from __future__ import annotations

from fastapi import FastAPI

from assistant.api.openai_errors import is_openai_path
from assistant.api.problems import PROBLEM_JSON
from assistant.service.request_rules import role_limits
from assistant.settings import Settings

PROBLEM_SCHEMA = {
    "type": "object", "required": ["type", "title", "status", "detail"],
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "properties": {"loc": {"type": "string"},
                                             "msg": {"type": "string"}}}},
    },
}
OPENAI_ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "description": "OpenAI's error object",
    "properties": {"error": {"type": "object", "required": ["message", "type"], "properties": {
        "message": {"type": "string"}, "type": {"type": "string"},
        "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}},
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying",
                               "schema": {"type": "string"}}}

WHY = {
    400: "a malformed request line or body",
    401: "no API key, or a wrong one (WWW-Authenticate says which)",
    403: "the key may read but not write (use an admin key)",
    404: "no such document, clause or model",
    405: "the path exists but not with this method (Allow lists the methods)",
    413: "the body is over ASSISTANT_LIMITS__MAX_REQUEST_BYTES "
         "(uploads: ASSISTANT_LIMITS__MAX_UPLOAD_BYTES)",
    415: "a file type that cannot be ingested",
    422: "invalid input, or a request rule refused it (limits, empty question, bad text)",
    429: "rate limit, or too many failed keys from this address (see Retry-After)",
    500: "an unexpected error (logged on the server), or the data folder is not writable",
    502: "the answer backend (LLM server) failed",
    503: "overloaded (ask queue full), too many connections, or the index is not built",
    507: "the disk is full: nothing was changed",
}
_KEYED = (401, 429)
_QUESTION = (502, 503)
_WRITE = (403, 415, 507)


def statuses(path: str, method: str) -> list[int]:
    """The error statuses one operation can answer with."""
    if not path.startswith("/v1/"):
        return [503] if path == "/readyz" else []
    found = [*_KEYED, 400, 413, 422, 500, 503]
    if path in ("/v1/ask", "/v1/search", "/v1/chat/completions"):
        found += [*_QUESTION, 404]  # 404: a document named in filters.doc_ids
    if "{" in path:
        found.append(404)
    if path.startswith("/v1/documents") and method in ("post", "delete"):
        found += _WRITE + (404,)
    return sorted(set(found))


def _error_response(status: int, openai: bool) -> dict:
    content = ({"application/json": {"schema": OPENAI_ERROR_SCHEMA}} if openai
               else {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}})
    response = {"description": WHY[status], "content": content}
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def _bound_question(schema: dict, settings: Settings) -> None:
    """The question and history limits of the request rules, as JSON Schema."""
    props = schema.get("properties", {})
    if "question" in props:
        props["question"].update(minLength=1, maxLength=settings.limits.max_question_chars,
                                 pattern=HAS_LETTER_OR_DIGIT)
    if "top_k" in props:
        # null accepted as omitted, as the request models do
        props["top_k"] = {"anyOf": [{"type": "integer", "minimum": 1,
                                     "maximum": settings.limits.max_top_k}, {"type": "null"}],
                          "description": "clauses to retrieve"}
    if "history" in props:
        props["history"]["maxItems"] = settings.limits.max_history_turns


# A letter or digit of the scripts staff write (the service accepts any script's):
# a schema-valid question is never refused as empty.
HAS_LETTER_OR_DIGIT = ("[0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0400-\u0481"
                       "\u048a-\u04ff\u3041-\u3096\u30a1-\u30fa\u3400-\u4dbf\u4e00-\u9fff"
                       "\uff10-\uff19]")


def _bound_turn(schema: dict, settings: Settings) -> None:
    # Exact per role. The total over all turns (max_history_chars) is a rule across items
    # that JSON Schema cannot state: the service refuses it with a specific 422.
    props = schema.get("properties", {})
    if "content" not in props:
        return
    props["content"].pop("maxLength", None)
    roles = props.get("role", {}).get("enum", ["user", "assistant"])
    limits = role_limits(settings)
    schema["oneOf"] = [{"properties": {"role": {"const": role},
                                       "content": {"maxLength": limits[role]}}}
                       for role in roles]
    schema["description"] = (
        f"an earlier turn: a user turn at most {settings.limits.max_question_chars} characters, an "
        f"assistant turn at most {settings.limits.max_turn_chars}; all turns together at most "
        f"{settings.limits.max_history_chars} (refused with 422 beyond)")


# One Server-Sent Event as sent (assistant/api/sse.py): /v1/ask names its events and
# sends JSON; the OpenAI facade sends unnamed chunk objects, then `data: [DONE]`.
ASK_EVENT = {
    "type": "object", "required": ["event", "data"],
    "description": "delta {text}…, then final (the AnswerResponse) or error (a problem), "
                   "then done {}",
    "properties": {"event": {"enum": ["delta", "final", "error", "done"]},
                   "data": {"type": "string", "contentMediaType": "application/json"}},
}
CHAT_EVENT = {
    "type": "object", "required": ["data"],
    "description": "chat.completion.chunk objects (or an OpenAI error object), then [DONE]",
    "properties": {"data": {"type": "string"}},
}


def _document_stream(path: str, operation: dict) -> None:
    event = {"/v1/ask": ASK_EVENT, "/v1/chat/completions": CHAT_EVENT}.get(path)
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    if event is not None and "text/event-stream" in content:
        content["text/event-stream"] = {"schema": event}


def _bound_chat(schemas: dict, settings: Settings) -> None:
    """Chat messages within the per-role limits, and at least one user message that asks."""
    request = schemas.get("ChatRequest", {}).get("properties", {})
    if "messages" in request:
        request["messages"]["maxItems"] = settings.limits.max_history_turns + 1
        request["messages"]["contains"] = {
            "type": "object", "required": ["role", "content"],
            "properties": {"role": {"const": "user"},
                           "content": {"type": "string", "pattern": HAS_LETTER_OR_DIGIT}}}
    message = schemas.get("ChatMessage")
    if message is not None:
        roles = message.get("properties", {}).get("role", {}).get("enum", [])
        limits = role_limits(settings)
        message["oneOf"] = [{"properties": {"role": {"const": role},
                                            "content": _content_within(limits[role])}}
                            for role in roles]
        message["description"] = (
            f"a user message at most {settings.limits.max_question_chars} characters, any other at "
            f"most {settings.limits.max_turn_chars}; the user and assistant messages before the "
            f"question together at most {settings.limits.max_history_chars} (refused beyond)")


def _content_within(limit: int) -> dict:
    """A message's content (text, one text part, or null) of at most `limit` characters."""
    part = {"type": "object", "required": ["text"],
            "properties": {"type": {"const": "text"},
                           "text": {"type": "string", "maxLength": limit}}}
    return {"anyOf": [{"type": "string", "maxLength": limit},
                      {"type": "array", "maxItems": 1, "items": part}, {"type": "null"}]}


def _name_backends(schemas: dict, settings: Settings) -> None:
    from assistant.api.routes.chat import usable_models

    backend = schemas.get("AskRequest", {}).get("properties", {}).get("backend")
    if backend is not None:
        names = usable_models(settings)
        backend.clear()
        backend.update({"anyOf": [{"enum": names}, {"type": "null"}],
                        "description": "the answer backend (default: the server's); one of "
                                       + ", ".join(names)})


def build(app: FastAPI, settings: Settings, generate) -> dict:
    document = generate()
    for path, methods in document.get("paths", {}).items():
        _document_path(path, methods)
    schemas = document.get("components", {}).get("schemas", {})
    _bound_schemas(schemas, settings)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _document_path(path: str, methods: dict) -> None:
    """Every operation of one path: its error responses, its stream; /readyz open to all."""
    openai = is_openai_path(path)
    for method, operation in methods.items():
        responses = operation.setdefault("responses", {})
        for status in statuses(path, method):
            responses[str(status)] = _error_response(status, openai)
        if openai and "422" in responses:  # OpenAI clients get 400 for invalid input
            responses["400"] = responses.pop("422")
            responses["400"]["description"] = WHY[422]
        _document_stream(path, operation)
    if path == "/readyz":  # open to all; a valid key gets the details
        for operation in methods.values():
            operation["security"] = [{}, {"HTTPBearer": []}]


def _bound_schemas(schemas: dict, settings: Settings) -> None:
    """The request schemas say the limits and backends this server's settings allow."""
    for name in ("AskRequest", "SearchRequest", "ChatRequest"):
        if name in schemas:
            _bound_question(schemas[name], settings)
    if "Turn" in schemas:
        _bound_turn(schemas["Turn"], settings)
    _bound_chat(schemas, settings)
    _name_backends(schemas, settings)


def install_openapi(app: FastAPI, settings: Settings) -> None:
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, settings, generate)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

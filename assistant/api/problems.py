"""Errors as RFC 9457 problem+json: domain errors mapped to statuses in one place.

Every error response has `type`, `title`, `status` and a specific `detail`; validation
errors add `errors` [{loc, msg}]. Unexpected exceptions are logged with their traceback
on the server and answered with a generic 500: never a stack trace to the client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from assistant.errors import (
    AssistantError,
    BackendError,
    IndexMismatchError,
    IndexNotBuiltError,
    LoadError,
    RegistryError,
    StorageError,
    UnknownClauseError,
    UnknownDocumentError,
    storage_error,
)
from assistant.service.request_rules import RateLimited

log = logging.getLogger("assistant.api")

PROBLEM_JSON = "application/problem+json"
BACKEND_FAILED = ("the answer backend (LLM server) failed; the server log has the details. "
                  "Retry later, or ask with the 'extractive' backend")

# Most specific first: the first matching class decides status and title.
_DOMAIN_STATUS: list[tuple[type[AssistantError], int, str]] = [
    (UnknownDocumentError, 404, "Unknown document"),
    (UnknownClauseError, 404, "Unknown clause"),
    (RegistryError, 422, "Unknown name"),
    (LoadError, 422, "Unreadable document"),
    (IndexNotBuiltError, 503, "Index not built"),
    (IndexMismatchError, 503, "Index built with other settings"),
    (BackendError, 502, "Answer backend failed"),
    (AssistantError, 422, "Invalid request"),
]


class ApiError(Exception):
    """An error raised by the API layer itself (auth, limits, bad filters)."""

    def __init__(self, status: int, title: str, detail: str,
                 headers: dict[str, str] | None = None, **extra) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, title: str, detail: str, **extra) -> dict:
    slug = title.lower().replace(" ", "-")
    return {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail,
            **extra}


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra) -> JSONResponse:
    return JSONResponse(problem_body(status, title, detail, **extra), status_code=status,
                        headers=headers, media_type=PROBLEM_JSON)


def domain_problem(err: AssistantError) -> tuple[int, str, str]:
    """(status, title, detail) for a domain error."""
    if isinstance(err, BackendError):  # its message names the internal LLM server: log it
        log.error("answer backend failed: %s", err)
        return 502, "Answer backend failed", BACKEND_FAILED
    for kind, status, title in _DOMAIN_STATUS:
        if isinstance(err, kind):
            return status, title, str(err)
    return 422, "Invalid request", str(err)  # unreachable: AssistantError is last


def _location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(err: RequestValidationError) -> list[dict]:
    # Only location and message: echoing the input back could be huge or sensitive.
    return [{"loc": _location(e.get("loc", ())), "msg": _message(e)} for e in err.errors()]


def _message(error: dict) -> str:
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")  # our validators' messages stand alone


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, err: ApiError) -> JSONResponse:
        return problem(err.status, err.title, err.detail, err.headers, **err.extra)

    @app.exception_handler(AssistantError)
    async def _domain(request: Request, err: AssistantError) -> JSONResponse:
        if isinstance(err, StorageError):
            return _storage_problem(request, err, err)
        if isinstance(err, RateLimited):
            return problem(429, "Too many requests", str(err),
                           {"Retry-After": err.retry_after_header})
        return problem(*domain_problem(err))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = validation_errors(err)
        detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]) or "invalid request"
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed",
                 413: "Request too large"}.get(err.status_code, "HTTP error")
        headers = dict(err.headers or {})
        if err.status_code == 405:  # Starlette names only the first matching route's methods
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(err.status_code, title, str(err.detail), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        storage = storage_error(err)
        if storage is not None:
            return _storage_problem(request, storage, err)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error",
                       "an unexpected error occurred; it has been logged on the server")


def _storage_problem(request: Request, storage: StorageError, cause: BaseException):
    """Disk full (507) or not writable (500), said specifically; the path only in the log."""
    log.error("%s %s: %s (%r)", request.method, request.url.path, storage, cause)
    return problem(507 if storage.full else 500,
                   "Insufficient storage" if storage.full else "Storage not writable",
                   str(storage))


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (GET implies HEAD)."""
    methods = _methods_at(request.app.routes, {**request.scope, "method": "GET"})
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _methods_at(routes, scope: dict) -> set[str]:
    methods: set[str] = set()
    for route in routes:
        if route.matches(scope)[0] is Match.NONE:
            continue
        if getattr(route, "methods", None):
            methods |= set(route.methods)
        elif hasattr(route, "original_router"):  # FastAPI's wrapper of an included router
            methods |= _methods_at(route.original_router.routes, scope)
    return methods

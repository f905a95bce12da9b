"""ASGI middleware that bounds what one request can cost, before any route runs.

- `BodyLimit`: a body over the cap is refused (413) before it is read or parsed: by its
  Content-Length, or, sent chunked, once the bytes read pass the cap.
- `LoadShedder`: question routes run at most `max_concurrent_asks` at once with a bounded
  queue behind them; beyond it a 503 with Retry-After, and a log line for every drop.
- `LoginGuard`: the chat page's login is throttled per address like API keys are, and
  Gradio's upload routes are closed (the page has no upload: no key may write files).
- `SecurityHeaders`: nosniff, no framing, no referrer on every response; no-store on the
  API's JSON.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.exceptions import HTTPException

from assistant.api.problems import problem
from assistant.api.security import AuthThrottle

log = logging.getLogger("assistant.api")

UPLOAD_PATH = "/v1/documents"
MULTIPART_OVERHEAD = 64 * 1024
QUESTION_PATHS = ("/v1/ask", "/v1/search", "/v1/chat/completions")
# Gradio routes that write files to the server's disk; the chat page needs none of them.
GRADIO_WRITE_SUFFIXES = ("/upload", "/upload/", "/process_recording", "/process_recording/")
LOGIN_PATHS = ("/login", "/login/")


def client_host(scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a chunked body passes the cap (an HTTPException, so the
    routes' body parsing passes it on as a 413 rather than a parse error)."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes ({setting})")


class BodyLimit:
    """413 for a body over the cap: `upload_limit` on the upload route, `limit` elsewhere."""

    def __init__(self, app, limit: int, upload_limit: int) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    def _cap(self, scope) -> int:
        return self.upload_limit if scope["path"] == UPLOAD_PATH else self.limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self._cap(scope)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > cap:
            await self._refuse(scope, receive, send, cap, f"the body is {int(declared)} bytes")
            return
        seen, started = 0, False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge(*self._limit(scope, cap))
            return message

        async def tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send, cap, "the body is larger")

    @staticmethod
    def _limit(scope, cap: int) -> tuple[int, str]:
        """(the limit as configured, its setting): an upload's cap includes the envelope."""
        if scope["path"] == UPLOAD_PATH:
            return cap - MULTIPART_OVERHEAD, "ASSISTANT_MAX_UPLOAD_BYTES"
        return cap, "ASSISTANT_MAX_REQUEST_BYTES"

    async def _refuse(self, scope, receive, send, cap: int, size: str) -> None:
        limit, setting = self._limit(scope, cap)
        title = "File too large" if scope["path"] == UPLOAD_PATH else "Request too large"
        response = problem(413, title, f"{size}; the limit is {limit} bytes ({setting})",
                           {"Connection": "close"})
        await response(scope, receive, send)


class LoadShedder:
    """A bounded queue in front of the question routes: 503 + Retry-After beyond it."""

    def __init__(self, app, concurrent: int, queued: int, wait_s: float) -> None:
        self.app = app
        self.concurrent, self.queued, self.wait_s = max(1, concurrent), max(0, queued), wait_s
        self._slots: asyncio.Semaphore | None = None
        self.waiting = 0
        self.shed = 0

    def _applies(self, scope) -> bool:
        return (scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"] in QUESTION_PATHS)

    async def __call__(self, scope, receive, send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # created on the server's loop
            self._slots = asyncio.Semaphore(self.concurrent)
        if self._slots.locked() and self.waiting >= self.queued:
            await self._drop(scope, receive, send, "the queue is full")
            return
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait_s)
        except TimeoutError:
            await self._drop(scope, receive, send, f"no slot within {self.wait_s:g} s")
            return
        finally:
            self.waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()

    async def _drop(self, scope, receive, send, why: str) -> None:
        self.shed += 1
        log.warning("shed %s %s from %s: %s (%d running at most, %d may wait; %d shed so far)",
                    scope["method"], scope["path"], client_host(scope), why, self.concurrent,
                    self.queued, self.shed)
        retry = str(max(1, round(self.wait_s / 4)))
        response = problem(503, "Overloaded", f"the server is busy ({why}); retry in {retry} s",
                           {"Retry-After": retry})
        await response(scope, receive, send)


class LoginGuard:
    """Throttle the chat page's login per address; refuse Gradio's file-writing routes."""

    def __init__(self, app, throttle: AuthThrottle) -> None:
        self.app, self.throttle = app, throttle

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("/gradio_api/") and path.endswith(GRADIO_WRITE_SUFFIXES):
            response = problem(403, "Forbidden", "the chat page accepts no file uploads")
            await response(scope, receive, send)
            return
        if path not in LOGIN_PATHS:
            await self.app(scope, receive, send)
            return
        host = client_host(scope)
        wait = self.throttle.blocked_for(host)
        if wait:
            await self.throttle.refusal(wait)(scope, receive, send)
            return

        async def watched(message):
            if message["type"] == "http.response.start" and message["status"] >= 400:
                self.throttle.failed(host)
            await send(message)

        await self.app(scope, receive, watched)


class SecurityHeaders:
    """Headers every response carries; API responses are never cached."""

    COMMON = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
              (b"content-security-policy", b"frame-ancestors 'none'"),
              (b"referrer-policy", b"no-referrer"))

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith(("/v1/", "/readyz", "/healthz"))

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", [])
                           if h[0].lower() not in {name for name, _ in self.COMMON}]
                headers += list(self.COMMON)
                if api:
                    headers = [h for h in headers if h[0].lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

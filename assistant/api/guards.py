"""ASGI middleware that bounds what one request can cost, before any route runs.

- `BodyLimit`: a body over the cap is refused (413) before it is read or parsed: by its
  Content-Length, or, sent chunked, once the bytes read pass the cap.
- `LoadShedder`: question routes run at most `max_concurrent_asks` at once with a bounded,
  fair queue behind them (`FairSlots`: a share per key); a slot is taken only after the
  whole body is in and the key is valid; beyond the queue a 503 with Retry-After, and a
  log line for every drop.
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
        except BodyTooLarge as err:  # raised while a guard (LoadShedder) read the body
            if not started:
                title = "File too large" if scope["path"] == UPLOAD_PATH else "Request too large"
                await problem(413, title, str(err.detail),
                              {"Connection": "close"})(scope, receive, send)

    @staticmethod
    def _limit(scope, cap: int) -> tuple[int, str]:
        """(the limit as configured, its setting): an upload's cap includes the envelope."""
        if scope["path"] == UPLOAD_PATH:
            return cap - MULTIPART_OVERHEAD, "ASSISTANT_LIMITS__MAX_UPLOAD_BYTES"
        return cap, "ASSISTANT_LIMITS__MAX_REQUEST_BYTES"

    async def _refuse(self, scope, receive, send, cap: int, size: str) -> None:
        limit, setting = self._limit(scope, cap)
        title = "File too large" if scope["path"] == UPLOAD_PATH else "Request too large"
        response = problem(413, title, f"{size}; the limit is {limit} bytes ({setting})",
                           {"Connection": "close"})
        await response(scope, receive, send)


class FairSlots:
    """`concurrent` slots shared fairly between callers, with at most `queued` waiting.

    A freed slot goes to the waiting caller with the fewest slots in use (oldest first
    among equals), so one client's burst cannot starve another's asks or streams. When
    the queue is full, a newcomer from a caller with fewer waiters than the longest queue
    pushes out that queue's newest waiter (it gets the 503 instead: longest-queue drop).
    """

    def __init__(self, concurrent: int, queued: int) -> None:
        self.concurrent, self.queued = concurrent, queued
        self.running: dict[str, int] = {}
        self.waiters: dict[str, list[asyncio.Future]] = {}
        self._order = 0

    @property
    def busy(self) -> int:
        return sum(self.running.values())

    @property
    def waiting(self) -> int:
        return sum(len(w) for w in self.waiters.values())

    def _start(self, bucket: str) -> None:
        self.running[bucket] = self.running.get(bucket, 0) + 1

    async def acquire(self, bucket: str, wait_s: float) -> str | None:
        """None once a slot is held, else why not (the caller answers 503)."""
        if self.busy < self.concurrent and not self.waiting:
            self._start(bucket)
            return None
        if self.waiting >= self.queued and not self._push_out(bucket):
            return "the queue is full"
        future = asyncio.get_running_loop().create_future()
        self._order += 1
        future.order = self._order  # type: ignore[attr-defined]
        self.waiters.setdefault(bucket, []).append(future)
        try:
            return await asyncio.wait_for(future, wait_s)
        except TimeoutError:
            if future.done() and not future.cancelled() and future.result() is None:
                return None  # the slot was handed over as the wait ran out: it is held
            return f"no slot within {wait_s:g} s"
        finally:
            self._forget(bucket, future)

    def _push_out(self, bucket: str) -> bool:
        longest = max(self.waiters, key=lambda b: len(self.waiters[b]), default=None)
        if longest is None or len(self.waiters[longest]) <= len(self.waiters.get(bucket, [])) + 1:
            return False
        self.waiters[longest][-1].set_result("the queue is full; another client's request "
                                             "took this place (fair share)")
        self._forget(longest, self.waiters[longest][-1])
        return True

    def _forget(self, bucket: str, future: asyncio.Future) -> None:
        queue = self.waiters.get(bucket, [])
        if future in queue:
            queue.remove(future)
        if not queue:
            self.waiters.pop(bucket, None)

    def release(self, bucket: str) -> None:
        left = self.running.get(bucket, 1) - 1
        if left > 0:
            self.running[bucket] = left
        else:
            self.running.pop(bucket, None)
        self._hand_on()

    def _hand_on(self) -> None:
        while self.busy < self.concurrent and self.waiting:
            bucket = min(self.waiters, key=lambda b: (self.running.get(b, 0),
                                                      self.waiters[b][0].order))
            future = self.waiters[bucket].pop(0)
            self._forget(bucket, future)
            if not future.done():
                self._start(bucket)
                future.set_result(None)


class LoadShedder:
    """A bounded, fair queue in front of the question routes: 503 + Retry-After beyond it.

    A slot is taken only for a complete body from a caller whose key is valid: a client
    that trickles its body, or sends no key or a wrong one, holds no slot (the body
    deadline of assistant/api/server.py cuts the trickle; the route answers 401/429).
    """

    def __init__(self, app, concurrent: int, queued: int, wait_s: float,
                 keys=None) -> None:
        self.app = app
        self.concurrent, self.queued, self.wait_s = max(1, concurrent), max(0, queued), wait_s
        self.keys = keys
        self._slots: FairSlots | None = None
        self.shed = 0

    @property
    def waiting(self) -> int:
        return self._slots.waiting if self._slots else 0

    def _applies(self, scope) -> bool:
        return (scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"] in QUESTION_PATHS)

    async def __call__(self, scope, receive, send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        replay = await _read_body(receive)
        if replay is None:  # the client went away before its body was in
            return
        bucket = self._bucket(scope)
        if bucket is None:  # no valid key: the route refuses it at no cost
            await self.app(scope, replay, send)
            return
        if self._slots is None:  # created on the server's loop
            self._slots = FairSlots(self.concurrent, self.queued)
        why = await self._slots.acquire(bucket, self.wait_s)
        if why:
            await self._drop(scope, replay, send, why)
            return
        try:
            await self.app(scope, replay, send)
        finally:
            self._slots.release(bucket)

    def _bucket(self, scope) -> str | None:
        """Whose share a request counts against: its key's id; None for a key that is
        missing or wrong (when keys are configured)."""
        if self.keys is None or not self.keys.enabled:
            return f"ip:{client_host(scope)}"
        auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        principal = self.keys.principal(token.strip(), client_host(scope))
        return principal.bucket if principal else None

    async def _drop(self, scope, receive, send, why: str) -> None:
        self.shed += 1
        log.warning("shed %s %s from %s: %s (%d running at most, %d may wait; %d shed so far)",
                    scope["method"], scope["path"], client_host(scope), why, self.concurrent,
                    self.queued, self.shed)
        retry = str(max(1, round(self.wait_s / 4)))
        response = problem(503, "Overloaded", f"the server is busy ({why}); retry in {retry} s",
                           {"Retry-After": retry})
        await response(scope, receive, send)


async def _read_body(receive):
    """The whole request body, read now; a `receive` that replays it (then waits for the
    client's disconnect, as the real one would). None if the client disconnected."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


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

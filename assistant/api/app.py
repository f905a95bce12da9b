"""The FastAPI application: `create_app(settings, assistant)`.

Routes are thin (assistant/api/routes/); they call the same `Assistant` the CLI and the
chat page use. Errors are problem+json (assistant/api/problems.py); auth, rate limit
and shared state are dependencies (assistant/api/deps.py).

>>> app = create_app(Settings(embedder="hashing", index_dir=Path("/tmp/idx")))  # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=7860)                              # doctest: +SKIP
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assistant.api.deps import ApiState
from assistant.api.problems import install_handlers, problem
from assistant.api.routes import ask, chat, documents, health
from assistant.api.security import KeyRing, RateLimiter
from assistant.audit import open_audit_log
from assistant.errors import AssistantError
from assistant.service import Assistant
from assistant.settings import Settings

UPLOAD_PATH = "/v1/documents"
_MULTIPART_OVERHEAD = 64 * 1024


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    state = ApiState(settings=settings, assistant=assistant or Assistant(settings),
                     keys=KeyRing.from_settings(settings),
                     limiter=RateLimiter(settings.rate_limit_per_minute),
                     audit=open_audit_log(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        _warm_up(state.assistant)  # before the first request (a no-op after `serve`'s)
        yield
        if state.audit is not None:
            state.audit.close()

    app = FastAPI(title="Policy assistant API", version="1", lifespan=lifespan,
                  description="Answers from Chinese policy documents, citing 文号 and clause. "
                              "Authenticate with `Authorization: Bearer <key>`.")
    app.state.api = state
    install_handlers(app)
    for router in (ask.router, chat.router, documents.router, health.router):
        app.include_router(router)
    app.add_middleware(UploadLimit, limit=settings.max_upload_bytes + _MULTIPART_OVERHEAD)
    origins = Settings.split_keys(settings.cors_origins)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    return app


def _warm_up(assistant: Assistant) -> None:
    from assistant.warmup import warm_up

    try:
        warm_up(assistant)
    except AssistantError:  # no index yet: /readyz says so, asks get the error
        pass


class UploadLimit:
    """Refuse an upload whose declared size is over the limit before its body is read.

    (The route checks the actual size too, for uploads sent without Content-Length.)
    """

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == UPLOAD_PATH:
            declared = dict(scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.limit:
                response = problem(413, "File too large",
                                   f"the upload is {int(declared)} bytes; the limit is "
                                   f"{self.limit - _MULTIPART_OVERHEAD} bytes "
                                   "(ASSISTANT_MAX_UPLOAD_BYTES)")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

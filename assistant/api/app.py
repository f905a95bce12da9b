"""The FastAPI application: `create_app(settings, assistant)`.

Routes are thin (assistant/api/routes/); they call the same `Assistant` the CLI and the
chat page use, whose request rules (limits, rate limit, audit) every question passes.
Errors are problem+json (assistant/api/problems.py); auth and shared state are
dependencies (assistant/api/deps.py); body size, load shedding, login throttling and
security headers are middleware (assistant/api/guards.py), outside every route.

>>> app = create_app(Settings(embedder="hashing", index_dir=Path("/tmp/idx")))  # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=7860)                              # doctest: +SKIP
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assistant.api.deps import ApiState
from assistant.api.docs_pages import install_offline_docs
from assistant.api.guards import (
    MULTIPART_OVERHEAD,
    BodyLimit,
    LoadShedder,
    LoginGuard,
    SecurityHeaders,
)
from assistant.api.openai_errors import OpenAIErrorShape
from assistant.api.openapi_doc import install_openapi
from assistant.api.problems import install_handlers
from assistant.api.routes import ask, chat, documents, health
from assistant.api.security import AuthThrottle, KeyRing
from assistant.embedders import cpu_cores
from assistant.errors import AssistantError
from assistant.service import Assistant
from assistant.service.warmup import warm_up
from assistant.settings import Settings

# An ask spends about four fifths of its CPU in the embedder (one handle per core) and the
# rest in Python; three asks per core keep every handle fed while the others do their
# Python part (16 clients on 2 cores: 0.93 of the CPU ceiling with 6 at once, 0.76 with 4;
# docs/performance.md).
ASKS_PER_CORE = 3


def concurrent_asks(settings: Settings) -> int:
    """Question requests worked on at once: the setting, else ASKS_PER_CORE per core."""
    return settings.server.max_concurrent_asks or ASKS_PER_CORE * cpu_cores()


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    state = ApiState(settings=settings, assistant=assistant or Assistant(settings),
                     keys=KeyRing.from_settings(settings),
                     throttle=AuthThrottle(settings.server.auth_failures_allowed))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        _warm_up(state.assistant)  # before the first request (a no-op after `serve`'s)
        yield
        state.assistant.rules.close()

    app = FastAPI(title="Policy assistant API", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # served offline by install_offline_docs
                  description="Answers from Chinese policy documents, citing 文号 and clause. "
                              "Authenticate with `Authorization: Bearer <key>`.")
    app.state.api = state
    install_handlers(app)
    install_offline_docs(app)
    install_openapi(app, settings)
    for router in (ask.router, chat.router, documents.router, health.router):
        app.include_router(router)
    origins = Settings.split_keys(settings.server.cors_origins)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    # Added last = runs first: headers on everything, then the cheap refusals, then work.
    app.add_middleware(LoadShedder, concurrent=concurrent_asks(settings),
                       queued=settings.server.max_queued_asks, wait_s=settings.server.queue_wait_s,
                       keys=state.keys)
    app.add_middleware(LoginGuard, throttle=state.throttle)
    app.add_middleware(BodyLimit, limit=settings.limits.max_request_bytes,
                       upload_limit=settings.limits.max_upload_bytes + MULTIPART_OVERHEAD)
    app.add_middleware(OpenAIErrorShape)  # outside the guards: it reshapes all their errors
    app.add_middleware(SecurityHeaders)
    return app


def _warm_up(assistant: Assistant) -> None:
    try:
        warm_up(assistant)
    except AssistantError:  # no index yet: /readyz says so, asks get the error
        pass

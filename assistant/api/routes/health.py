"""GET /healthz (the process is up) and GET /readyz (index loaded, backend reachable)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from assistant.api.deps import StateDep
from assistant.api.problems import ApiError
from assistant.api.schemas import Health, Ready
from assistant.errors import AssistantError
from assistant.settings import Settings

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz():
    return Health()


@router.get("/readyz", response_model=Ready, responses={503: {"description": "not ready"}})
def readyz(state: StateDep):
    try:
        store = state.assistant.store
    except AssistantError as err:
        raise ApiError(503, "Not ready", str(err)) from None
    problem = backend_problem(state.settings)
    if problem:
        raise ApiError(503, "Not ready", problem)
    return Ready(documents=len(store.documents), clauses=len(store.rows),
                 generation=store.manifest.generation, backend=state.settings.backend)


def backend_problem(settings: Settings) -> str | None:
    """Why the default backend cannot answer, or None. Only HTTP backends can be away."""
    from assistant.answer.backends import get_backend

    try:
        get_backend(settings.backend, settings)
    except AssistantError as err:
        return f"backend {settings.backend!r} cannot be built: {err}"
    if settings.backend != "openai":
        return None
    url = settings.openai_base_url.rstrip("/") + "/models"
    try:
        httpx.get(url, timeout=2.0)  # any HTTP reply means the server is there
    except httpx.HTTPError as err:
        return f"backend {settings.backend!r} is unreachable at {url}: {type(err).__name__}"
    return None

"""GET /healthz (the process is up) and GET /readyz (index loaded, backend reachable).

/readyz answers anyone "ready" or "not ready" with a reason that names no path, host or
port; only a valid key (or an API without keys, loopback only) sees the counts and the
specific reason, which may hold internal addresses.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request

from assistant.answer.backend_choice import get_backend
from assistant.api.deps import Credentials, StateDep
from assistant.api.problems import ApiError
from assistant.api.schemas import Health, Ready
from assistant.errors import AssistantError, IndexNotBuiltError
from assistant.settings import Settings

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz():
    return Health()


@router.get("/readyz", response_model=Ready, response_model_exclude_none=True,
            responses={503: {"description": "not ready"}})
def readyz(request: Request, state: StateDep, credentials: Credentials):
    detailed = _may_see_details(request, state, credentials)
    try:
        store = state.assistant.store
    except AssistantError as err:
        public = ("no index is built yet (run `assistant ingest`)"
                  if isinstance(err, IndexNotBuiltError) else "the index cannot be opened")
        raise ApiError(503, "Not ready", str(err) if detailed else public) from None
    problem = backend_problem(state.settings)
    if problem:
        backend = state.settings.answer.backend
        raise ApiError(503, "Not ready", problem if detailed else f"the answer backend "
                                                                 f"{backend!r} is not usable")
    if not detailed:
        return Ready()
    return Ready(documents=len(store.documents), clauses=len(store.rows),
                 generation=store.manifest.generation, backend=state.settings.answer.backend)


def _may_see_details(request: Request, state: StateDep, credentials) -> bool:
    if not state.keys.enabled:
        return True
    if credentials is None:
        return False
    client = request.client.host if request.client else "unknown"
    if state.throttle.blocked_for(client):
        return False
    if state.keys.role_of(credentials.credentials) is None:
        state.throttle.failed(client)  # /readyz must not be a free oracle for guessing keys
        return False
    return True


def backend_problem(settings: Settings) -> str | None:
    """Why the default backend cannot answer, or None. Only HTTP backends can be away."""
    try:
        get_backend(settings.answer.backend, settings)
    except AssistantError as err:
        return f"backend {settings.answer.backend!r} cannot be built: {err}"
    if settings.answer.backend != "openai":
        return None
    url = settings.answer.openai_base_url.rstrip("/") + "/models"
    try:
        httpx.get(url, timeout=2.0)  # any HTTP reply means the server is there
    except httpx.HTTPError as err:
        return f"backend {settings.answer.backend!r} is unreachable at {url}: {type(err).__name__}"
    return None

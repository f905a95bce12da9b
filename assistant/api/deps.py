"""Dependencies the routes declare: the shared state, and who is calling (auth + rate limit).

Routes ask for `Reader` or `Admin` (a `Principal`), `AssistantDep`, `SettingsDep` or
`StateDep` by annotation; nothing else reaches into `app.state`.

The dependencies are `async def` because none of them blocks (lookups, a lock held for a
counter): FastAPI runs a plain `def` dependency on the threadpool, one thread hand-off
each, three per ask (docs/performance.md).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.api.problems import ApiError
from assistant.api.security import AuthThrottle, KeyRing, Principal, RateLimiter, Role
from assistant.service import Assistant
from assistant.service.request_rules import Caller
from assistant.settings import Settings


@dataclass
class ApiState:
    """Everything the routes share, built once by `create_app`."""

    settings: Settings
    assistant: Assistant
    keys: KeyRing
    throttle: AuthThrottle
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    def caller(self, principal: Principal, endpoint: str) -> Caller:
        """The service-level caller of an admitted request (its rate-limit token is taken)."""
        return Caller(endpoint, key_id=principal.key_id, bucket=principal.bucket, admitted=True)


async def get_state(request: Request) -> ApiState:
    return request.app.state.api


StateDep = Annotated[ApiState, Depends(get_state)]


async def get_settings(state: StateDep) -> Settings:
    return state.settings


async def get_assistant(state: StateDep) -> Assistant:
    return state.assistant


SettingsDep = Annotated[Settings, Depends(get_settings)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]

_bearer = HTTPBearer(auto_error=False, description="an API key: Authorization: Bearer <key>")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _unauthorized(detail: str, error: str | None = None) -> ApiError:
    challenge = 'Bearer realm="assistant"' + (f', error="{error}"' if error else "")
    return ApiError(401, "Unauthorized", detail, {"WWW-Authenticate": challenge})


async def authenticate(request: Request, state: StateDep, credentials: Credentials) -> Principal:
    """The caller, from the bearer key; the API is open (as admin) when no key is configured."""
    client = request.client.host if request.client else "unknown"
    if not state.keys.enabled:
        return Principal(Role.ADMIN, None, client)
    wait = state.throttle.blocked_for(client)
    if wait:  # after repeated failures even a right key waits: guessing gains nothing
        retry = RateLimiter.retry_after(wait)
        raise ApiError(429, "Too many failed attempts", "too many failed API keys from this "
                       f"address; retry in {retry} s", {"Retry-After": retry})
    if credentials is None:
        raise _unauthorized("missing API key: send the header 'Authorization: Bearer <key>'")
    principal = state.keys.principal(credentials.credentials, client)
    if principal is None:
        state.throttle.failed(client)
        raise _unauthorized("invalid API key", "invalid_token")
    return principal


def _rate_limited(state: ApiState, principal: Principal) -> Principal:
    state.assistant.rules.admit(principal.bucket)  # RateLimited → 429 + Retry-After
    return principal


async def require_reader(state: StateDep,
                   principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    return _rate_limited(state, principal)


async def require_admin(state: StateDep,
                  principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    if principal.role is not Role.ADMIN:
        raise ApiError(403, "Forbidden", "this API key may read but not add or delete "
                                         "documents: use an admin key "
                                         "(ASSISTANT_SERVER__ADMIN_KEYS)")
    return _rate_limited(state, principal)


Reader = Annotated[Principal, Depends(require_reader)]
Admin = Annotated[Principal, Depends(require_admin)]

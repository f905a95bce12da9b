"""API keys with two roles, failed-key throttling by address, and the bind-address rule.

(The per-caller rate limit is one of the request rules: assistant/service/request_rules.py.)

Keys come from settings (`ASSISTANT_SERVER__API_KEYS` read, `ASSISTANT_SERVER__ADMIN_KEYS`
admin; an admin key also reads). With no key configured the API is open, which is only allowed on a
loopback address: `check_bind` refuses anything else.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from dataclasses import dataclass
from enum import Enum

from assistant.api.problems import problem
from assistant.errors import AssistantError
from assistant.service.audit import key_id
from assistant.service.request_rules import RateLimiter
from assistant.settings import Settings

__all__ = [
    "AuthThrottle",
    "KeyRing",
    "PageLogins",
    "Principal",
    "RateLimiter",
    "Role",
    "check_bind",
]

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class Role(str, Enum):
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: `key_id` is a hash of the key (None when the API is open)."""

    role: Role
    key_id: str | None
    client: str

    @property
    def bucket(self) -> str:
        """What the rate limit counts: the key, or the client address when keys are off."""
        return self.key_id or f"ip:{self.client}"


class KeyRing:
    def __init__(self, read_keys: list[str], admin_keys: list[str]) -> None:
        self._keys = [(k, Role.ADMIN) for k in admin_keys] + [(k, Role.READ) for k in read_keys]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        server = settings.server
        return cls(Settings.split_keys(server.api_keys), Settings.split_keys(server.admin_keys))

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def role_of(self, token: str) -> Role | None:
        """The key's role (admin wins if a key is in both lists); constant-time compare."""
        found = None
        for key, role in self._keys:
            if hmac.compare_digest(key.encode(), token.encode()) and found is None:
                found = role
        return found

    def principal(self, token: str, client: str) -> Principal | None:
        role = self.role_of(token)
        return Principal(role, key_id(token), client) if role else None


class PageLogins:
    """Who is logged in to the chat page, so its actions get the roles the API gives.

    Gradio's login keeps only the user name, so each name is bound to the key it first
    logged in with: the same name with another key is refused (a read key cannot take
    over a name an admin used). With no key configured everyone is admin, as on the API.
    """

    MAX_NAMES = 10_000

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys
        self._by_name: dict[str, Principal] = {}
        self._lock = threading.Lock()

    def login(self, name: str, key: str) -> bool:
        principal = self.keys.principal(key, "chat page")
        if principal is None:
            return False
        with self._lock:
            bound = self._by_name.get(name)
            if bound is not None and bound.key_id != principal.key_id:
                return False
            if len(self._by_name) >= self.MAX_NAMES and bound is None:
                self._by_name.pop(next(iter(self._by_name)))
            self._by_name[name] = principal
        return True

    def principal(self, name: str | None) -> Principal | None:
        """The logged-in caller of a page event; None when it is not logged in."""
        if not self.keys.enabled:
            return Principal(Role.ADMIN, None, "chat page")
        with self._lock:
            return self._by_name.get(name) if name is not None else None


class AuthThrottle:
    """Failed keys and logins per client address: past `allowed` failures in a minute the
    address is refused (429) until a minute after its last failure. Bounded memory."""

    WINDOW_S = 60.0
    MAX_ADDRESSES = 10_000

    def __init__(self, allowed: int, clock=time.monotonic) -> None:
        self.allowed = allowed
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def failed(self, address: str) -> None:
        if self.allowed <= 0:
            return
        with self._lock:
            now = self._clock()
            if len(self._failures) >= self.MAX_ADDRESSES and address not in self._failures:
                self._forget(now)
            times = [t for t in self._failures.get(address, []) if now - t < self.WINDOW_S]
            self._failures[address] = [*times, now][-(self.allowed + 1):]

    def blocked_for(self, address: str) -> float:
        """Seconds until `address` may try again; 0 when it may now."""
        with self._lock:
            times = self._failures.get(address)
            if not times or len(times) <= self.allowed:
                return 0.0
            wait = self.WINDOW_S - (self._clock() - times[-1])
            return max(0.0, wait)

    def _forget(self, now: float) -> None:
        self._failures = {a: t for a, t in self._failures.items() if now - t[-1] < self.WINDOW_S}
        if len(self._failures) >= self.MAX_ADDRESSES:  # all recent: keep the newest half
            newest = sorted(self._failures.items(), key=lambda item: item[1][-1])
            self._failures = dict(newest[len(newest) // 2:])

    def refusal(self, wait: float):
        retry = RateLimiter.retry_after(wait)
        return problem(429, "Too many failed attempts",
                       f"too many failed keys or logins from this address; retry in {retry} s",
                       {"Retry-After": retry})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class UnsafeBindError(AssistantError):
    """Refused: an unauthenticated API on a non-loopback address."""


def check_bind(settings: Settings, host: str) -> str | None:
    """Raise if the API would be open to the network; a warning line if it is open locally."""
    if KeyRing.from_settings(settings).enabled:
        return None
    if not is_loopback(host):
        raise UnsafeBindError(
            f"refusing to serve on {host}: no API key is configured, so the API would be "
            "open to anyone on the network. Set ASSISTANT_SERVER__API_KEYS / "
            "ASSISTANT_SERVER__ADMIN_KEYS, or bind to 127.0.0.1.")
    return ("WARNING: no API key configured "
            "(ASSISTANT_SERVER__API_KEYS / ASSISTANT_SERVER__ADMIN_KEYS): "
            f"the API is unauthenticated and served on {host} (this machine) only.")

"""API keys with two roles, a per-caller token-bucket rate limit, and the bind-address rule.

Keys come from settings (`ASSISTANT_API_KEYS` read, `ASSISTANT_ADMIN_KEYS` admin; an admin
key also reads). With no key configured the API is open, which is only allowed on a
loopback address: `check_bind` refuses anything else.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import threading
import time
from dataclasses import dataclass
from enum import Enum

from assistant.audit import key_id
from assistant.errors import AssistantError
from assistant.settings import Settings

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
        return cls(Settings.split_keys(settings.api_keys), Settings.split_keys(settings.admin_keys))

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


class RateLimiter:
    """Token bucket per caller: `per_minute` requests in a burst, refilled continuously.

    `per_minute <= 0` disables the limit.
    """

    MAX_BUCKETS = 10_000

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # caller → (tokens, last time)
        self._lock = threading.Lock()

    def acquire(self, caller: str) -> float:
        """0 if the request may go ahead, else seconds until it may (Retry-After)."""
        if self.capacity <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(caller, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._store(caller, tokens - 1, now)
                return 0.0
            self._store(caller, tokens, now)
            return (1 - tokens) / self.rate

    def _store(self, caller: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= self.MAX_BUCKETS and caller not in self._buckets:
            self._forget_full(now)
        self._buckets[caller] = (tokens, now)

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is indistinguishable from a new one: safe to drop.
        self._buckets = {c: (t, last) for c, (t, last) in self._buckets.items()
                         if t + (now - last) * self.rate < self.capacity}

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))


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
            "open to anyone on the network. Set ASSISTANT_API_KEYS / ASSISTANT_ADMIN_KEYS, "
            "or bind to 127.0.0.1.")
    return (f"WARNING: no API key configured (ASSISTANT_API_KEYS / ASSISTANT_ADMIN_KEYS): "
            f"the API is unauthenticated and served on {host} (this machine) only.")

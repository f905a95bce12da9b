"""The rules every question passes, whoever asks: the HTTP API, the chat page and the CLI.

`Assistant.ask` / `ask_stream` apply them (assistant/service/assistant.py), so no caller can skip
them: limits on every input that reaches the pipeline (the question, each earlier turn,
their count and total: a follow-up is rewritten from the earlier question, so an
unbounded history would be unbounded work), text that can be encoded (a lone surrogate
is refused here, not met as a 500 inside the embedder), the per-caller rate limit, and
one audit row per answer. A refused request raises before any work starts.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.errors import AssistantError
from assistant.service.audit import AuditLog, open_audit_log
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.models import Answer

log = logging.getLogger("assistant.requests")
HISTORY_TOO_LONG = "之前的对话太长，请点「清空对话」后重新提问。"


class RequestRefused(AssistantError):
    """The request breaks a limit or holds invalid text (a 422 over HTTP)."""


class RateLimited(AssistantError):
    """Too many requests from one caller; `retry_after` seconds until the next may go."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, staff=f"提问过于频繁，请 {RateLimiter.retry_after(retry_after)} "
                                        "秒后再试。")
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        return RateLimiter.retry_after(self.retry_after)


@dataclass(frozen=True)
class Caller:
    """Who asks, for the rate limit and the audit row.

    `bucket` is what the rate limit counts (a key id or "ip:<address>"); None is not
    rate limited (the CLI). `admitted` says the caller already took its token (the API
    admits every HTTP request in its auth dependency, whatever the route). `audited`
    is off only for in-process use that is not a user's request (evaluation, benchmarks).
    """

    endpoint: str
    key_id: str | None = None
    bucket: str | None = None
    admitted: bool = False
    audited: bool = True

    @classmethod
    def cli(cls) -> Caller:
        return cls("cli")

    @classmethod
    def internal(cls) -> Caller:
        """Library use (eval, bench): the limits still apply; no rate limit, no audit row."""
        return cls("internal", audited=False)


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


def check_text(text: str, what: str) -> str:
    """`text` if it is valid Unicode (encodable as UTF-8), else a specific refusal."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise RequestRefused(f"{what} holds invalid text: a lone surrogate "
                             f"(U+{ord(text[err.start]):04X}) at character {err.start}; "
                             "send valid UTF-8",
                             staff="内容中有无法识别的字符（可能是复制时带入的），请删除后重试。"
                             ) from None
    return text


# C0 controls (and DEL) other than tab and line breaks: never meaningful in a question, and
# NUL breaks C libraries and logs downstream. Removed once the length (as sent) is checked.
_CONTROLS = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def strip_controls(text: str) -> str:
    return text.translate(_CONTROLS)


def has_content(text: str) -> bool:
    """True when `text` holds a letter or a digit (any script): punctuation, symbols,
    spaces and controls alone ask nothing."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


class RequestRules:
    """The limits, the rate limit and the audit log of one `Assistant`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = RateLimiter(settings.server.rate_limit_per_minute)
        self._audit: AuditLog | None = None
        self._audit_opened = False
        self._lock = threading.Lock()

    # --- limits
    def check_question(self, question: str) -> str:
        # Lengths count the text as sent, as the published schema's maxLength does: a
        # question padded with controls or spaces past the limit is refused, not trimmed.
        sent = check_text(question or "", "the question")
        limit = self.settings.limits.max_question_chars
        if len(sent) > limit:
            raise RequestRefused(f"question is {len(sent)} characters long; the limit is "
                                 f"{limit} (ASSISTANT_LIMITS__MAX_QUESTION_CHARS)",
                                 staff=f"问题共 {len(sent)} 字，超过了 {limit} 字的上限，"
                                       "请精简后再发送。")
        question = strip_controls(sent).strip()
        if not has_content(question):
            raise RequestRefused("问题为空 (question is empty: it holds no letter or digit): "
                                 "send the question to answer", staff="请先输入问题。")
        return question

    def check_history(self, history: list[dict] | None) -> list[dict]:
        """Earlier turns within the count, per-turn and total limits (an earlier user turn
        is a question: it obeys the question limit, since a follow-up is rewritten from it)."""
        history = [dict(turn) for turn in history or []]
        settings = self.settings
        if len(history) > settings.limits.max_history_turns:
            raise RequestRefused(f"history has {len(history)} turns; the limit is "
                                 f"{settings.limits.max_history_turns} "
                                 "(ASSISTANT_LIMITS__MAX_HISTORY_TURNS)",
                                 staff=HISTORY_TOO_LONG)
        total = 0
        for number, turn in enumerate(history, 1):
            sent = check_text(str(turn.get("content", "")), f"history turn {number}")
            turn["content"] = strip_controls(sent)
            user = turn.get("role") == "user"
            limits = settings.limits
            limit, name = ((limits.max_question_chars, "ASSISTANT_LIMITS__MAX_QUESTION_CHARS")
                           if user else
                           (limits.max_turn_chars, "ASSISTANT_LIMITS__MAX_TURN_CHARS"))
            if len(sent) > limit:
                raise RequestRefused(f"history turn {number} ({turn.get('role')}) is "
                                     f"{len(sent)} characters long; the limit is {limit} "
                                     f"({name})", staff=HISTORY_TOO_LONG)
            total += len(sent)
        if total > settings.limits.max_history_chars:
            raise RequestRefused(f"history holds {total} characters; the limit is "
                                 f"{settings.limits.max_history_chars} "
                                 "(ASSISTANT_LIMITS__MAX_HISTORY_CHARS)",
                                 staff=HISTORY_TOO_LONG)
        return history

    def fit_history(self, history: list[dict]) -> list[dict]:
        """The newest turns of a conversation that pass `check_history` (for a client, like
        the chat page, that keeps the whole conversation): long answers are cut, and
        earlier turns are left out once the count or the total would be over."""
        settings = self.settings
        kept: list[dict] = []
        total = 0
        for turn in reversed(history):
            content = str(turn.get("content", ""))
            if turn.get("role") == "user":
                if len(content) > settings.limits.max_question_chars:
                    break
            else:
                content = content[:settings.limits.max_turn_chars]
            if (len(kept) >= settings.limits.max_history_turns
                    or total + len(content) > settings.limits.max_history_chars):
                break
            kept.append({**turn, "content": content})
            total += len(content)
        return kept[::-1]

    def check_top_k(self, top_k: int | None) -> int | None:
        if top_k is not None and not 1 <= top_k <= self.settings.limits.max_top_k:
            raise RequestRefused(f"top_k must be between 1 and {self.settings.limits.max_top_k}, "
                                 f"got {top_k}")
        return top_k

    # --- rate limit
    def admit(self, bucket: str | None) -> None:
        """Take one request from `bucket`'s allowance, or raise `RateLimited`."""
        if bucket is None:
            return
        wait = self.limiter.acquire(bucket)
        if wait:
            per_minute = self.settings.server.rate_limit_per_minute
            raise RateLimited(f"rate limit of {per_minute} requests per "
                              f"minute exceeded; retry in {RateLimiter.retry_after(wait)} s",
                              wait)

    def admit_caller(self, caller: Caller) -> None:
        if not caller.admitted:
            self.admit(caller.bucket)

    # --- audit
    @property
    def audit(self) -> AuditLog | None:
        """The audit log (opened on first use), or None when it is off or cannot open."""
        if not self._audit_opened:
            with self._lock:
                if not self._audit_opened:
                    self._audit = self._open_audit()
                    self._audit_opened = True
        return self._audit

    def _open_audit(self) -> AuditLog | None:
        try:
            return open_audit_log(self.settings)
        except Exception:  # an unwritable audit database must not stop answering
            log.exception("cannot open the audit log at %s", self.settings.audit_path)
            return None

    def record(self, caller: Caller, answer: Answer, started: float) -> None:
        """One audit row; a failure is logged, never raised (the answer is not lost)."""
        audit = self.audit if caller.audited else None
        if audit is None:
            return
        latency = (time.perf_counter() - started) * 1000
        try:
            audit.record(key_id=caller.key_id, answer=answer, latency_ms=latency,
                         endpoint=caller.endpoint)
        except Exception:
            log.exception("audit row for %s could not be written", caller.endpoint)

    def close(self) -> None:
        with self._lock:
            if self._audit is not None:
                self._audit.close()
            self._audit, self._audit_opened = None, False


def role_limits(settings: Settings) -> dict[str, int]:
    """Characters one message may hold, by role: a user message is a question (earlier
    ones too: a follow-up is rewritten from them); any other is an earlier answer or an
    instruction, at most max_turn_chars."""
    turn = settings.limits.max_turn_chars
    return {"user": settings.limits.max_question_chars, "assistant": turn, "system": turn,
            "developer": turn, "tool": turn}

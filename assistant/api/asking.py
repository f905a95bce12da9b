"""Turn an API request into `Assistant.ask` options, checking the settings' limits first.

Shared by /v1/ask, /v1/search and /v1/chat/completions so all three refuse the same bad
input with the same messages, before any work starts (a stream never opens on a request
that is going to fail).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.api.deps import ApiState
from assistant.api.problems import ApiError
from assistant.api.schemas import Filters
from assistant.api.security import Principal
from assistant.errors import AssistantError, UnknownDocumentError
from assistant.models import Answer, SearchFilters
from assistant.settings import Settings


def bad_request(detail: str, title: str = "Invalid request") -> ApiError:
    return ApiError(422, title, detail)


def check_question(question: str, settings: Settings) -> str:
    question = question.strip()
    if not question:
        raise bad_request("question is empty: send the question to answer")
    if len(question) > settings.max_question_chars:
        raise bad_request(f"question is {len(question)} characters long; the limit is "
                          f"{settings.max_question_chars} (ASSISTANT_MAX_QUESTION_CHARS)")
    return question


def check_top_k(top_k: int | None, settings: Settings) -> int | None:
    if top_k is not None and not 1 <= top_k <= settings.max_top_k:
        raise bad_request(f"top_k must be between 1 and {settings.max_top_k}, got {top_k}")
    return top_k


def check_backend(backend: str | None, settings: Settings) -> str | None:
    """A backend name that exists and can be built from the settings (no network yet)."""
    if backend is None:
        return None
    from assistant.answer.backends import BACKENDS, get_backend, load_builtin_backends

    load_builtin_backends()
    if backend not in BACKENDS.names():
        raise bad_request(f"unknown backend {backend!r}; known: {', '.join(BACKENDS.names())}",
                          "Unknown backend")
    try:
        get_backend(backend, settings)
    except AssistantError as err:
        raise bad_request(f"backend {backend!r} cannot be used over HTTP: {err}",
                          "Unusable backend") from None
    return backend


def search_filters(filters: Filters | None, state: ApiState) -> SearchFilters | None:
    """Domain filters; document references (doc_id or 文号) must name indexed documents."""
    if filters is None:
        return None
    values = filters.model_dump()
    if filters.doc_ids is not None:
        values["doc_ids"] = [_doc_id(ref, state) for ref in filters.doc_ids]
    return SearchFilters(**values)


def _doc_id(ref: str, state: ApiState) -> str:
    try:
        return state.assistant.document(ref).doc_id
    except UnknownDocumentError as err:
        raise bad_request(f"filters.doc_ids: {err}", "Unknown document in filter") from None


@dataclass
class AskJob:
    """A checked question and its options, plus what the audit log needs when it ends."""

    question: str
    options: dict
    principal: Principal
    endpoint: str
    started: float = field(default_factory=time.perf_counter)

    def run(self, state: ApiState) -> Answer:
        answer = state.assistant.ask(self.question, **self.options)
        self.finished(state, answer)
        return answer

    def stream(self, state: ApiState) -> Iterator[str | Answer]:
        """Chunks then the Answer; the first item is computed now, so errors raise here."""
        items = iter(state.assistant.ask_stream(self.question, **self.options))
        first = next(items)
        return self._audited(state, first, items)

    def _audited(self, state: ApiState, first, items) -> Iterator[str | Answer]:
        for item in _chain(first, items):
            if isinstance(item, Answer):
                self.finished(state, item)
            yield item

    def finished(self, state: ApiState, answer: Answer) -> None:
        if state.audit is not None:
            latency = (time.perf_counter() - self.started) * 1000
            state.audit.record(key_id=self.principal.key_id, answer=answer,
                               latency_ms=latency, endpoint=self.endpoint)


def _chain(first, rest):
    yield first
    yield from rest


def ask_job(state: ApiState, principal: Principal, endpoint: str, *, question: str,
            filters: Filters | None, top_k: int | None, backend: str | None,
            history: list[dict]) -> AskJob:
    settings = state.settings
    question = check_question(question, settings)
    options = {"backend": check_backend(backend, settings), "top_k": check_top_k(top_k, settings),
               "filters": search_filters(filters, state), "history": history}
    return AskJob(question, options, principal, endpoint)

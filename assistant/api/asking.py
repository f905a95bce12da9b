"""Turn an API request into `Assistant.ask` options: the backend and filters it names.

Shared by /v1/ask, /v1/search and /v1/chat/completions. The question, its history and
top_k are checked once, by the service (`Assistant.ask`, `ask_stream`, `search` apply the
request rules of assistant/service/request_rules.py for the API, the chat page and the CLI alike);
a stream computes its first item before it opens, so a refused request is a 422, never a
broken stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from assistant.answer.backend_choice import get_backend, is_configured
from assistant.answer.backends import BACKENDS
from assistant.api.deps import ApiState
from assistant.api.problems import ApiError
from assistant.api.schemas import Filters
from assistant.api.security import Principal
from assistant.errors import AssistantError, UnknownDocumentError
from assistant.models import Answer, SearchFilters
from assistant.service.request_rules import Caller
from assistant.settings import Settings


def bad_request(detail: str, title: str = "Invalid request") -> ApiError:
    return ApiError(422, title, detail)


def check_backend(backend: str | None, settings: Settings) -> str | None:
    """A backend name that exists and can be built from the settings (no network yet)."""
    if backend is None:
        return None
    if backend not in BACKENDS.names():
        raise bad_request(f"unknown backend {backend!r}; known: {', '.join(BACKENDS.names())}",
                          "Unknown backend")
    try:
        get_backend(backend, settings)
    except AssistantError as err:
        raise bad_request(f"backend {backend!r} cannot be used over HTTP: {err}",
                          "Unusable backend") from None
    if not is_configured(backend, settings):
        raise bad_request(f"backend {backend!r} is not set up on this server (its LLM server "
                          "is not configured); use the default or 'extractive'",
                          "Unusable backend")
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
        # 404: the request is well formed; a document it names does not exist
        raise ApiError(404, "Unknown document in filter", f"filters.doc_ids: {err}") from None


@dataclass
class AskJob:
    """A question and its options, asked through the service's request rules (limits, rate
    limit, audit) on behalf of an admitted API caller."""

    question: str
    options: dict
    caller: Caller

    def run(self, state: ApiState) -> Answer:
        return state.assistant.ask(self.question, caller=self.caller, **self.options)

    def stream(self, state: ApiState) -> Iterator[str | Answer]:
        """Chunks then the Answer; the first item is computed now, so errors raise here."""
        items = iter(state.assistant.ask_stream(self.question, caller=self.caller,
                                                **self.options))
        first = next(items)
        return _chain(first, items)


def _chain(first, rest):
    yield first
    yield from rest


def ask_job(state: ApiState, principal: Principal, endpoint: str, *, question: str,
            filters: Filters | None, top_k: int | None, backend: str | None,
            history: list[dict]) -> AskJob:
    """The ask, its backend and filters checked (the service checks the rest when it runs)."""
    options = {"backend": check_backend(backend, state.settings), "top_k": top_k,
               "filters": search_filters(filters, state), "history": history}
    return AskJob(question, options, state.caller(principal, endpoint))

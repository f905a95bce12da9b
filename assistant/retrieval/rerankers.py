"""Rerankers: a small Protocol, a registry, and a sentence-transformers CrossEncoder backend.

A reranker re-orders the retrieved clauses by its own (question, clause) relevance score.
Off by default (`reranker = "none"`): no cross-encoder ships offline. Users bring one
(bge-reranker-v2-m3 or similar) as a local directory:

    ASSISTANT_RETRIEVAL__RERANKER=cross-encoder
    ASSISTANT_RETRIEVAL__RERANKER_MODEL=/models/bge-reranker-v2-m3

Adding a reranker is one class with `score(question, passages)` plus
`@RERANKERS.register("name")`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from assistant.embedders import offline_sentence_transformers
from assistant.errors import AssistantError
from assistant.models import ScoredClause
from assistant.query import Query
from assistant.registry import Registry
from assistant.settings import Settings


@runtime_checkable
class Reranker(Protocol):
    name: str

    def score(self, question: str, passages: Sequence[str]) -> list[float]:
        """One relevance score per passage (higher is more relevant)."""
        ...


RERANKERS: Registry[type] = Registry("reranker")
_LOADED: dict[tuple, Reranker] = {}
_LOCK = threading.Lock()


class RerankerError(AssistantError):
    """A reranker could not be loaded (package missing, model directory absent)."""


@RERANKERS.register("cross-encoder")
class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder from a local directory (never the hub)."""

    name = "cross-encoder"

    def __init__(self, settings: Settings) -> None:
        if not settings.retrieval.reranker_model or not settings.retrieval.reranker_model.is_dir():
            raise RerankerError(
                "the cross-encoder reranker needs a local model directory: set "
                f"ASSISTANT_RETRIEVAL__RERANKER_MODEL (got {settings.retrieval.reranker_model!s})")
        CrossEncoder = offline_sentence_transformers(RerankerError).CrossEncoder
        try:
            self._model = CrossEncoder(str(settings.retrieval.reranker_model), device="cpu")
        except Exception as err:
            raise RerankerError(f"cannot load CrossEncoder from "
                                f"{settings.retrieval.reranker_model}: {err}") from err

    def score(self, question: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        scores = self._model.predict([(question, p) for p in passages], show_progress_bar=False)
        return [float(s) for s in scores]


def get_reranker(settings: Settings) -> Reranker | None:
    """The reranker the settings name, loaded once per process; None when off."""
    if settings.retrieval.reranker == "none":
        return None
    key = (settings.retrieval.reranker, str(settings.retrieval.reranker_model))
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = RERANKERS.get(settings.retrieval.reranker)(settings)
        return _LOADED[key]


def rerank(query: Query, found: list[ScoredClause], settings: Settings) -> list[ScoredClause]:
    """`found` re-ordered by the reranker (clauses the question names stay first)."""
    reranker = get_reranker(settings)
    if reranker is None or len(found) < 2:
        return found
    named = [s for s in found if s.routed]
    rest = [s for s in found if not s.routed]
    scores = reranker.score(query.text, [s.clause.embed_text() for s in rest])
    order = sorted(range(len(rest)), key=lambda i: -scores[i])
    return named + [rest[i] for i in order]

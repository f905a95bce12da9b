"""The retriever contract every stage above retrieval programs against."""

from __future__ import annotations

from typing import Protocol

from assistant.models import ScoredClause, SearchFilters


class ClauseRetriever(Protocol):
    def search(
        self, question: str, k: int = 8, filters: SearchFilters | None = None
    ) -> list[ScoredClause]:
        """Best clauses for the question, best first; scores are comparable within one call."""
        ...

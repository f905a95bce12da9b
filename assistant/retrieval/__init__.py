"""Clause retrieval over one opened index: `retrieve(query, store, settings)` is the one path.

`assistant.retrieval.pipeline` holds it; `hybrid` the candidates (BM25 + dense fused, routed
by `routing`, filtered), `rerankers` the reranker extension point, `versions` and
`documents` the orderings for replaced texts and for questions about documents.
"""

from __future__ import annotations

from assistant.retrieval.pipeline import effective_filters, retrieve, retrieve_parts

__all__ = ["effective_filters", "retrieve", "retrieve_parts"]

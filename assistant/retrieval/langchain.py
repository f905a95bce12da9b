"""The clause retriever as a langchain-core `BaseRetriever`, to drop into LangChain chains.

>>> lc = ClauseLangChainRetriever(retriever=HybridRetriever(store), k=4)   # doctest: +SKIP
>>> lc.invoke("医保支付方式改革")[0].metadata["number"]                 # doctest: +SKIP
'川办函〔2021〕56号'
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever

from assistant.models import ScoredClause, SearchFilters


def to_langchain(scored: ScoredClause) -> LCDocument:
    """page_content = the clause text; metadata = the search result fields without the text."""
    metadata = {key: value for key, value in scored.to_result().items() if key != "text"}
    metadata["routed"] = scored.routed
    return LCDocument(page_content=scored.clause.text, metadata=metadata,
                      id=scored.clause.clause_id)


class ClauseLangChainRetriever(BaseRetriever):
    """Wraps any ClauseRetriever (e.g. `HybridRetriever(IndexStore)`)."""

    retriever: Any
    k: int = 8
    filters: SearchFilters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [to_langchain(s) for s in self.retriever.search(query, self.k, self.filters)]

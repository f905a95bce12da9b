"""The read-side contracts: what retrieval programs against, whatever holds the index.

An index backend (FAISS files, Milvus) opens into an `IndexReader`: the corpus
metadata plus two search legs, dense by vector and sparse (BM25) by question, both
restricted by a row mask. The hybrid retriever above fuses the legs with the project's
own fusion, so every backend ranks the same way.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import numpy as np

from assistant.embedders import get_embedder
from assistant.lexicon import region_of, region_parts
from assistant.models import Clause, Document, DocumentInfo, ScoredClause, SearchFilters

if TYPE_CHECKING:
    from assistant.settings import Settings
    from assistant.stores.layout import Manifest

QUERY_CACHE_SIZE = 1024
Hits = tuple[np.ndarray, np.ndarray]  # (clause rows, scores), best first


class ClauseRetriever(Protocol):
    def search(
        self, question: str, k: int = 8, filters: SearchFilters | None = None
    ) -> list[ScoredClause]:
        """Best clauses for the question, best first; scores are comparable within one call."""
        ...


class DenseLeg(Protocol):
    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> Hits:
        """The k best clause rows by their best passage, only rows admitted by `mask`."""
        ...

    def scores_for(self, query: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Exact dense score (best passage) of each given clause row."""
        ...


class SparseLeg(Protocol):
    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> Hits:
        """The k best rows with a positive BM25 score, only rows admitted by `mask`."""
        ...

    def scores_for(self, question: str, rows: list[int]) -> dict[int, float]:
        """BM25 score of each given row (0.0 where no token matches)."""
        ...


class IndexReader(Protocol):
    """One opened, immutable corpus version: metadata plus the two legs."""

    settings: Settings
    manifest: Manifest
    documents: list[Document]
    infos: list[DocumentInfo]
    rows: list[tuple[Clause, DocumentInfo]]
    row_doc: np.ndarray
    dense: DenseLeg
    sparse: SparseLeg | None
    version: str

    def document(self, doc_id: str) -> Document | None: ...

    def embed_query(self, question: str) -> np.ndarray: ...

    @property
    def places(self) -> frozenset[str]: ...


class CorpusRows:
    """The metadata half every reader shares: documents, clause rows, the query cache.

    Row i is the i-th clause in document order; both legs number rows the same way.
    """

    def __init__(self, documents: list[Document], settings: Settings) -> None:
        self.documents = documents
        self.settings = settings
        self._by_id = {d.doc_id: d for d in documents}
        self.infos = [d.info() for d in documents]
        self.rows: list[tuple[Clause, DocumentInfo]] = []
        row_doc = []
        for index, doc in enumerate(documents):
            for clause in doc.clauses:
                self.rows.append((clause, self.infos[index]))
                row_doc.append(index)
        self.row_doc = np.asarray(row_doc, dtype=np.int32)
        self._query_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    def document(self, doc_id: str) -> Document | None:
        return self._by_id.get(doc_id)

    @cached_property
    def places(self) -> frozenset[str]:
        """The places the documents' issuers name (佛山市, 顺德区 of 佛山市顺德区): a question
        naming one is about a place, even one the tokenizer's dictionary lacks (新会区)."""
        # From the issuer, not the stored region: an index built before a fix to
        # `region_of` (国家市 of 国家市场监督管理总局) names no false place.
        return frozenset(p for info in self.infos for p in region_parts(region_of(info.issuer)))

    def embedder(self):
        return get_embedder(self.settings)

    def forget_queries(self) -> None:
        """Empty the query cache (a benchmark timing each ask's own embedding)."""
        with self._cache_lock:
            self._query_cache.clear()

    def embed_query(self, question: str) -> np.ndarray:
        """The question's vector; recent questions are remembered (repeats, eval sweeps)."""
        vector = self._query_cache.get(question)
        if vector is None:
            vector = self.embedder().embed_queries([question])[0]
            with self._cache_lock:  # shared by the API's worker threads
                if len(self._query_cache) >= QUERY_CACHE_SIZE:
                    self._query_cache.pop(next(iter(self._query_cache)), None)
                self._query_cache[question] = vector
        return vector

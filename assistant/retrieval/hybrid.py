"""Hybrid clause retrieval: dense (FAISS) + sparse (BM25) fused, filtered, routed.

Filters and routing become a row mask before ranking, so the k results are the best
admitted clauses (never "top k, then filtered down to fewer").

BM25 runs first. With `dense_mode="adaptive"` (the default) the dense leg, which costs
a query embedding, runs only when BM25's evidence is weak or ambiguous (`DenseGate`);
otherwise the ranking is BM25's and the results carry no dense similarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.errors import IndexMismatchError
from assistant.models import ScoredClause, SearchFilters
from assistant.query import Query, as_query
from assistant.retrieval.fusion import FUSIONS
from assistant.retrieval.routing import Route, clause_matches, normalise_numbers_in, route
from assistant.stores.sparse import tokenize

if TYPE_CHECKING:
    from assistant.stores.base import IndexReader

MODES = ("hybrid", "dense", "sparse")
DENSE_MODES = ("always", "adaptive")
LABEL_ONLY_POOL = 10  # candidates a label named without a document may lift to the top


@dataclass(frozen=True)
class DenseGate:
    """When BM25 alone is trusted: its best clause scores at least `min_top` per query
    token and the runner-up at most `max_ratio` of it. Otherwise the dense leg runs.

    Fitted on eval/gold.jsonl with folds split by document
    (`python -m assistant.evaluation.dense_gate`; docs/performance.md).
    """

    min_top: float = 0.0
    max_ratio: float = 0.9

    @staticmethod
    def evidence(sparse: dict[int, float], query_tokens: int) -> tuple[float, float]:
        """(best BM25 score per query token, runner-up / best); (-1, 1) when there is none."""
        if len(sparse) < 2 or query_tokens <= 0:
            return -1.0, 1.0
        first, second = sorted(sparse.values(), reverse=True)[:2]
        return first / query_tokens, (second / first if first > 0 else 1.0)

    def trusts_bm25(self, evidence: tuple[float, float]) -> bool:
        top_per_token, ratio = evidence
        return top_per_token >= self.min_top and ratio <= self.max_ratio


DEFAULT_GATE = DenseGate()


class HybridRetriever:
    """`search(question, k, filters)` over one opened index version (any backend).

    mode: "hybrid" (default), "dense" (vectors only) or "sparse" (BM25 only).
    Options override the settings: fusion, dense_weight, rrf_k, depth, routing.
    """

    def __init__(self, store: IndexReader, mode: str = "hybrid", *, fusion: str | None = None,
                 dense_weight: float | None = None, rrf_k: int | None = None,
                 depth: int = 50, routing: bool = True, dense_mode: str | None = None,
                 gate: DenseGate = DEFAULT_GATE) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; known: {', '.join(MODES)}")
        settings = store.settings
        self.dense_mode = dense_mode or settings.retrieval.dense_mode
        if self.dense_mode not in DENSE_MODES:
            raise ValueError(f"unknown dense mode {self.dense_mode!r}; known: always, adaptive")
        self.gate = gate
        self.store = store
        self.mode = mode
        self.fuse = FUSIONS.get(fusion or settings.retrieval.fusion)
        self.dense_weight = settings.fusion_dense_weight if dense_weight is None else dense_weight
        self.rrf_k = rrf_k or settings.retrieval.rrf_k
        self.depth = depth
        self.routing = routing

    def search(self, question: str | Query, k: int = 8, filters: SearchFilters | None = None,
               expansion: str | None = None) -> list[ScoredClause]:
        """The k best clauses for the question (a `Query`, or text analysed here once).
        expansion: further words for the BM25 leg only (by default the Query's: the formal
        words of the question's everyday ones); the embedder reads the question as asked."""
        if isinstance(question, str) and not question.strip() or not self.store.rows or k <= 0:
            return []
        query = as_query(question.strip() if isinstance(question, str) else question)
        question = query.text.strip()
        expansion = query.expansion if expansion is None else expansion
        wanted = route(query, self.store.infos) if self.routing else Route()
        mask = self._mask(filters, wanted)
        if mask is not None and not mask.any():
            return []
        depth = max(self.depth, 4 * k)
        text = self._content_of(question, wanted)
        words = f"{text} {expansion}" if expansion else text
        sparse = self._sparse(words, depth, mask)
        query = self._query_vector(text) if self._wants_dense(words, sparse) else None
        dense = self._dense(query, depth, mask)
        fused = self._fused(dense, sparse, query is not None)
        named = self._routed_rows(wanted, mask, fused)
        return self._results(fused, (named, bool(wanted.doc_ids)), dense, sparse, query,
                             words, k)

    def _content_of(self, question: str, wanted: Route) -> str:
        """The question without the 文号s it names: the search is already restricted to those
        documents, and the number would only pull each one's preamble (which carries it) up."""
        if not wanted.doc_ids:
            return question
        text = normalise_numbers_in(question)
        for doc_id in wanted.doc_ids:
            number = self.store.document(doc_id).number
            if number:
                text = text.replace(number, " ")
        return text.strip() or question

    def evidence(self, question: str | Query, filters: SearchFilters | None = None
                 ) -> tuple[float, float]:
        """BM25's evidence for `question` as the gate sees it (for fitting the gate)."""
        query = as_query(question)
        wanted = route(query, self.store.infos) if self.routing else Route()
        text = self._content_of(query.text.strip(), wanted)
        sparse = self._sparse(text, self.depth, self._mask(filters, wanted))
        return DenseGate.evidence(sparse, _token_count(text))

    def _wants_dense(self, text: str, sparse: dict[int, float]) -> bool:
        """Whether this search runs the dense leg (always in dense mode, never in sparse)."""
        if self.mode != "hybrid":
            return self.mode == "dense"
        if self.dense_mode == "always" or self.store.sparse is None:
            return True
        return not self.gate.trusts_bm25(DenseGate.evidence(sparse, _token_count(text)))

    # --- candidate rows
    def _mask(self, filters: SearchFilters | None, wanted: Route) -> np.ndarray | None:
        """Admitted rows, or None when every row is admitted."""
        infos = self.store.infos
        admitted = [True] * len(infos)
        if filters is not None:
            admitted = [filters.admits(info) for info in infos]
        if wanted.doc_ids:
            named = set(wanted.doc_ids)
            admitted = [ok and info.doc_id in named for ok, info in zip(admitted, infos)]
        if all(admitted):
            return None
        return np.asarray(admitted, dtype=bool)[self.store.row_doc]

    def _query_vector(self, question: str) -> np.ndarray:
        vector = self.store.embed_query(question)
        if vector.shape[0] != self.store.manifest.dim:
            raise IndexMismatchError(
                f"the embedder gives {vector.shape[0]}-dim vectors but the index holds "
                f"{self.store.manifest.dim}-dim ones; rebuild it: "
                "`assistant ingest --rebuild`")
        return vector

    def _dense(self, query, depth: int, mask) -> dict[int, float]:
        if query is None:
            return {}
        found, scores = self.store.dense.search(query, depth, mask)
        return {int(r): float(s) for r, s in zip(found, scores)}

    def _sparse(self, question: str, depth: int, mask) -> dict[int, float]:
        if self.mode == "dense" or self.store.sparse is None:
            return {}
        found, scores = self.store.sparse.search(question, depth, mask)
        return {int(r): float(s) for r, s in zip(found, scores)}

    def _fused(self, dense: dict[int, float], sparse: dict[int, float], dense_ran: bool
               ) -> dict[int, float]:
        if self.mode == "dense":
            return dict(dense)
        if self.mode == "sparse":
            return dict(sparse)
        # Without the dense leg BM25 carries the whole weight, so scores keep their range.
        weight = self.dense_weight if dense_ran else 0.0
        return self.fuse(dense, sparse, weight, self.rrf_k)

    def _routed_rows(self, wanted: Route, mask, fused: dict[int, float]) -> list[int]:
        """Rows of the clauses the question names: within named documents, else among the
        top candidates (a bare label such as （一） exists in almost every document)."""
        if not wanted.labels and not (wanted.about_document and wanted.doc_ids):
            return []
        if wanted.doc_ids:
            pool = range(len(self.store.rows)) if mask is None else np.flatnonzero(mask)
        else:
            pool = sorted(fused, key=lambda r: -fused[r])[:LABEL_ONLY_POOL]
        return [int(r) for r in pool if clause_matches(self.store.rows[r][0], wanted)]

    # --- results
    def _results(self, fused, named, dense, sparse, query, question, k) -> list[ScoredClause]:
        routed, document_named = named
        ordered = sorted(fused, key=lambda r: -fused[r])
        top = max(fused.values(), default=0.0)
        head = routed[:k]
        rows = head + [r for r in ordered if r not in set(head)][: k - len(head)]
        dense_scores = self._scores_for(rows, dense, query)
        sparse_scores = self._sparse_scores_for(rows, sparse, question)
        dense_rank = _ranks(dense)
        sparse_rank = _ranks(sparse)
        # Only a clause of a document the question names is "routed" (trusted as named);
        # a bare label match is just moved up.
        results = []
        for position, row in enumerate(rows):
            clause, info = self.store.rows[row]
            boosted = row in head
            # Named clauses rank above every fused score, in the order they were found.
            score = top + (len(head) - position) * 1e-3 if boosted else fused[row]
            results.append(ScoredClause(
                clause=clause, doc=info, score=float(score), routed=boosted and document_named,
                dense_score=dense_scores.get(row), sparse_score=sparse_scores.get(row),
                dense_rank=dense_rank.get(row), sparse_rank=sparse_rank.get(row)))
        return results

    def _scores_for(self, rows, dense: dict[int, float], query) -> dict[int, float]:
        scores = dict(dense)
        missing = [r for r in rows if r not in scores]
        if query is not None and missing:
            scores.update(self.store.dense.scores_for(query, missing))
        return scores

    def _sparse_scores_for(self, rows, sparse: dict[int, float], question) -> dict[int, float]:
        missing = [r for r in rows if r not in sparse]
        if not missing or self.mode == "dense" or self.store.sparse is None:
            return dict(sparse)
        return {**sparse, **self.store.sparse.scores_for(question, missing)}


def _token_count(text: str) -> int:
    return len(set(tokenize(text)))


def _ranks(scores: dict[int, float]) -> dict[int, int]:
    ordered = sorted(scores, key=lambda r: -scores[r])
    return {row: rank for rank, row in enumerate(ordered, start=1)}

"""The common RAG approach, as a yardstick: fixed-size character chunks, dense retrieval only.

Each document's text is cut into `size`-character chunks overlapping by `overlap`, embedded
with the same embedder as the real index, searched by cosine similarity in memory, and
answered extractively with the top chunk. To score it with the same metrics, each chunk is
mapped back to the clauses its character span overlaps (by the clauses' start/end offsets);
the answer cites all of them. It never abstains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answer.citations import render_reference
from assistant.embedders import EmbeddingCache, embed_passages_cached
from assistant.models import Answer, AnswerSentence, Citation, Clause, Document, ScoredClause

BACKEND_NAME = "baseline-chunks"


@dataclass(frozen=True, eq=False)
class Chunk:
    doc: Document
    start: int
    end: int
    clauses: tuple[Clause, ...]

    @property
    def text(self) -> str:
        return self.doc.text[self.start:self.end]


def make_chunks(documents: Sequence[Document], size: int = 300, overlap: int = 50) -> list[Chunk]:
    """Fixed-size overlapping character windows over each document's text."""
    if size <= overlap or overlap < 0:
        raise ValueError("chunk size must exceed the overlap, and the overlap be ≥ 0")
    chunks = []
    for doc in documents:
        for start in range(0, max(len(doc.text) - overlap, 1), size - overlap):
            end = min(start + size, len(doc.text))
            overlapped = tuple(c for c in doc.clauses if c.start < end and c.end > start)
            chunks.append(Chunk(doc, start, end, overlapped))
    return chunks


class ChunkBaseline:
    """Dense-only retrieval over character chunks, answering with the best chunk."""

    def __init__(self, documents: Sequence[Document], embedder, *, size: int = 300,
                 overlap: int = 50, cache_path: Path | None = None,
                 embed_query: Callable[[str], np.ndarray] | None = None) -> None:
        self.embedder = embedder
        self.chunks = make_chunks(documents, size, overlap)
        self.vectors = self._embed_chunks(cache_path)
        # The index store remembers query vectors; sharing it spares a second embedding.
        self._embed_query = embed_query or (lambda q: embedder.embed_queries([q])[0])

    def _embed_chunks(self, cache_path: Path | None) -> np.ndarray:
        """Chunk vectors, cached by content (embedding them with the real model takes minutes)."""
        texts = [c.text for c in self.chunks]
        cache = EmbeddingCache(cache_path) if cache_path else None
        try:
            vectors, _ = embed_passages_cached(self.embedder, texts, cache)
        finally:
            if cache:
                cache.close()
        return vectors

    def search(self, question: str, k: int = 10) -> list[tuple[Chunk, float]]:
        query = np.asarray(self._embed_query(question), dtype=np.float32)
        scores = self.vectors @ query
        order = np.argsort(-scores)[:k]
        return [(self.chunks[i], float(scores[i])) for i in order]

    def ask(self, question: str, k: int = 10) -> tuple[Answer, list[Chunk]]:
        """The top chunk as the answer, citing every clause it overlaps; also the ranked chunks."""
        hits = self.search(question, k)
        chunks = [chunk for chunk, _ in hits]
        if not hits:
            return Answer(question=question, answer="", abstained=True, backend=BACKEND_NAME), []
        top, _ = hits[0]
        citations = [_citation(i, top.doc, clause) for i, clause in enumerate(top.clauses, 1)]
        markers = "".join(f"[{c.marker}]" for c in citations)
        text = top.text.strip()
        answer = Answer(
            question=question, answer=f"{text}{markers}", abstained=False, citations=citations,
            sentences=[AnswerSentence(text=text, markers=[c.marker for c in citations])],
            retrieved=_retrieved(hits), backend=BACKEND_NAME,
        )
        return answer, chunks


def _citation(marker: int, doc: Document, clause: Clause) -> Citation:
    rendered = render_reference(doc, clause)
    return Citation(marker=marker, clause_id=clause.clause_id, doc_id=doc.doc_id,
                    number=doc.number, title=doc.title, status=doc.status, path=clause.path,
                    label=clause.label, text=clause.text, rendered=rendered,
                    warning=doc.status_warning(), replaced_by=doc.replacement)


def _retrieved(hits: list[tuple[Chunk, float]]) -> list[ScoredClause]:
    """The clauses the ranked chunks overlap, first occurrence kept, in chunk order."""
    seen: set[str] = set()
    out = []
    for chunk, score in hits:
        for clause in chunk.clauses:
            if clause.clause_id not in seen:
                seen.add(clause.clause_id)
                out.append(ScoredClause(clause=clause, doc=chunk.doc.info(), score=score,
                                        dense_score=score))
    return out

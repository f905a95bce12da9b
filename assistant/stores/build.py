"""What every backend's build needs: clause rows, passages, their vectors, the BM25 texts.

Backends differ only in where they put the result (FAISS files, a Milvus collection).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from assistant.embedders import EmbeddingCache, embed_passages_cached, get_embedder
from assistant.models import Clause, Document, DocumentInfo
from assistant.settings import Settings
from assistant.stores.layout import Manifest, Progress, corpus_fingerprint
from assistant.stores.passages import clause_passages, index_text


@dataclass
class Prepared:
    """One corpus, embedded: row i is the i-th clause in document order."""

    documents: list[Document]
    pairs: list[tuple[Clause, DocumentInfo]]
    vectors: np.ndarray  # one per passage
    owners: np.ndarray  # clause row of each passage
    texts: list[str]  # BM25 text of each row
    embedder: object
    fresh: int

    def manifest(self, name: str, index_type: str, settings: Settings) -> Manifest:
        counts = np.bincount(self.owners) if len(self.owners) else np.zeros(1, dtype=np.int64)
        embedder = self.embedder
        return Manifest(
            generation=name, embedder=embedder.name, model=embedder.model, dim=embedder.dim,
            settings_fingerprint=settings.index_fingerprint(),
            corpus_fingerprint=corpus_fingerprint(self.documents),
            documents=len(self.documents), clauses=len(self.pairs),
            passages=len(self.owners), max_passages=int(counts.max()), index_type=index_type,
            embedded=self.fresh, reused=len(self.owners) - self.fresh,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def prepare(documents: list[Document], settings: Settings,
            progress: Progress | None = None) -> Prepared:
    """Embed every passage of every clause (through the embedding cache)."""
    pairs = [(clause, doc.info()) for doc in documents for clause in doc.clauses]
    passages, owners = [], []
    for row, (clause, info) in enumerate(pairs):
        for text in clause_passages(clause, info):
            passages.append(text)
            owners.append(row)
    embedder = get_embedder(settings)
    cache = EmbeddingCache(settings.cache_path / "embeddings.sqlite3")
    try:
        report = (lambda done, total: progress("embed", done, total)) if progress else None
        vectors, fresh = embed_passages_cached(embedder, passages, cache, report)
    finally:
        cache.close()
    texts = [index_text(c, info) for c, info in pairs]
    return Prepared(documents, pairs, vectors, np.asarray(owners, dtype=np.int64), texts,
                    embedder, fresh)


def merge(existing: list[Document], new: list[Document]) -> list[Document]:
    merged = {d.doc_id: d for d in existing}
    for document in new:
        merged[document.doc_id] = document  # upsert: same doc_id replaces
    return list(merged.values())

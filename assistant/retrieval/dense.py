"""FAISS inner-product index over L2-normalised clause vectors.

Exact (IndexFlatIP) up to `exact_max` rows, HNSW (IndexHNSWFlat, inner product) above.
A filtered search over a subset small enough is done exactly on that subset, so filters
never lose recall; a large subset goes through HNSW with an id selector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96


def build_faiss(vectors: np.ndarray, exact_max: int):
    """The FAISS index for these rows: exact when small, HNSW when large."""
    import faiss

    dim = vectors.shape[1]
    if len(vectors) <= exact_max:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def index_type(index) -> str:
    import faiss

    return "hnsw-ip" if isinstance(index, faiss.IndexHNSW) else "flat-ip"


class DenseIndex:
    """A FAISS index plus the raw vectors (memory-mapped) for exact filtered search."""

    def __init__(self, index, vectors: np.ndarray, exact_max: int) -> None:
        self.index = index
        self.vectors = vectors
        self.exact_max = exact_max

    @property
    def kind(self) -> str:
        return index_type(self.index)

    @classmethod
    def build(cls, vectors: np.ndarray, exact_max: int) -> DenseIndex:
        return cls(build_faiss(vectors, exact_max), vectors, exact_max)

    def save(self, directory: Path) -> None:
        import faiss

        np.save(directory / "vectors.npy", self.vectors)
        faiss.write_index(self.index, str(directory / "dense.faiss"))

    @classmethod
    def load(cls, directory: Path, exact_max: int) -> DenseIndex:
        import faiss

        vectors = np.load(directory / "vectors.npy", mmap_mode="r")
        return cls(faiss.read_index(str(directory / "dense.faiss")), vectors, exact_max)

    def search(self, query: np.ndarray, k: int, rows: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the k nearest rows, restricted to `rows` when given."""
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        total = self.index.ntotal if rows is None else len(rows)
        k = min(k, total)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if rows is not None and (len(rows) <= self.exact_max or self.kind == "flat-ip"):
            return self._exact_subset(query[0], k, rows)
        scores, found = self.index.search(query, k, params=self._params(rows, k))
        keep = found[0] >= 0
        return found[0][keep].astype(np.int64), scores[0][keep]

    def _exact_subset(self, query: np.ndarray, k: int, rows: np.ndarray):
        scores = np.asarray(self.vectors[rows] @ query, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return rows[top].astype(np.int64), scores[top]

    def _params(self, rows: np.ndarray | None, k: int):
        import faiss

        if self.kind != "hnsw-ip":
            return None
        ef = max(HNSW_EF_SEARCH, 2 * k)
        if rows is None:
            return faiss.SearchParametersHNSW(efSearch=ef)
        selector = faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64))
        return faiss.SearchParametersHNSW(sel=selector, efSearch=max(ef, 4 * k))

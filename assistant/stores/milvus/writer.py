"""The Milvus backend's write side: build a new collection pair, then move the alias.

Readers keep answering from the collections the alias named until it moves; a failed
build drops what it created and leaves the alias alone. Writers in one process take a
lock; writers in different processes or replicas compare the alias with the version
they started from just before moving it, and redo the change on top of a newer one
(ConcurrentChangeError, retried by assistant/stores/backends.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from assistant.errors import ConcurrentChangeError
from assistant.models import Document
from assistant.settings import Settings
from assistant.stores.build import Prepared, prepare
from assistant.stores.faiss.dense import HNSW_EF_CONSTRUCTION, HNSW_M, IVF_MIN, ivf_lists
from assistant.stores.layout import KEEP_GENERATIONS, Progress
from assistant.stores.milvus.reader import (
    META_SUFFIX,
    NO_TOKEN,
    MilvusStore,
    client,
    live_collection,
    token_dim,
)
from assistant.stores.sparse import SparseIndex

INSERT_BATCH = 2000
META_CHUNK_CHARS = 16_000  # ≤ 48 KB of UTF-8, under VARCHAR's 65,535-byte cap

_local_writers = threading.Lock()


@contextmanager
def publish_lock(settings: Settings) -> Iterator[None]:
    with _local_writers:
        yield


def publish(documents: list[Document], settings: Settings, progress: Progress | None,
            expected: str | None) -> MilvusStore:
    prepared = prepare(documents, settings, progress)
    milvus = client(settings)
    name = f"{settings.store.milvus_collection}_g{time.time_ns()}"
    try:
        index_type = _create_collections(milvus, name, prepared, settings)
        _insert_passages(milvus, name, prepared, progress)
        _insert_meta(milvus, name, prepared, index_type, settings)
        for collection in (name, name + META_SUFFIX):
            milvus.flush(collection)
        if live_collection(settings) != expected:
            raise ConcurrentChangeError("another writer changed the corpus meanwhile")
        _move_alias(milvus, settings.store.milvus_collection, name, expected)
    except BaseException:
        _drop(milvus, name)
        raise
    _collect_garbage(milvus, settings.store.milvus_collection, keep=name)
    return MilvusStore.load(name, settings)


def _create_collections(milvus, name: str, prepared: Prepared, settings: Settings) -> str:
    from pymilvus import DataType  # start-up cost (~0.7 s): Milvus backend only

    index_type = create_passage_collection(milvus, name, prepared.embedder.dim,
                                           len(prepared.owners), settings.index.exact_search_max)
    meta = milvus.create_schema(auto_id=False)
    meta.add_field("id", DataType.INT64, is_primary=True)
    meta.add_field("data", DataType.VARCHAR, max_length=65_535)
    meta.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
    meta_params = milvus.prepare_index_params()
    meta_params.add_index("unused", index_type="FLAT", metric_type="L2")
    milvus.create_collection(name + META_SUFFIX, schema=meta, index_params=meta_params,
                             consistency_level="Strong")
    return index_type


def create_passage_collection(milvus, name: str, dim: int, passages: int,
                              exact_max: int) -> str:
    """The passage collection: exact (FLAT) up to `exact_max` passages, HNSW above, IVF_FLAT
    above IVF_MIN, with the FAISS backend's parameters so both trade recall for speed alike.
    Returns the index type as the FAISS backend names it."""
    from pymilvus import DataType  # start-up cost (~0.7 s): Milvus backend only

    schema = milvus.create_schema(auto_id=False)
    schema.add_field("pid", DataType.INT64, is_primary=True)
    schema.add_field("row", DataType.INT64)
    schema.add_field("doc", DataType.INT64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    if passages <= exact_max:
        kind, index_type, options = "flat-ip", "FLAT", {}
    elif passages <= max(IVF_MIN, exact_max):
        kind, index_type = "hnsw-ip", "HNSW"
        options = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
    else:
        kind, index_type, options = "ivf-flat-ip", "IVF_FLAT", {"nlist": ivf_lists(passages)}
    params = milvus.prepare_index_params()
    params.add_index("vector", index_type=index_type, metric_type="IP", params=options)
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    milvus.create_collection(name, schema=schema, index_params=params,
                             consistency_level="Strong")
    return kind


def _sparse_rows(prepared: Prepared) -> list[dict[int, float]]:
    if not prepared.pairs:
        return []
    rows = []
    for weights in SparseIndex.build(prepared.texts).term_weights():
        vector: dict[int, float] = {}
        for token, weight in weights.items():
            dim = token_dim(token)
            vector[dim] = vector.get(dim, 0.0) + weight
        rows.append(vector or {NO_TOKEN: 1.0})
    return rows


def _insert_passages(milvus, name: str, prepared: Prepared, progress: Progress | None) -> None:
    sparse = _sparse_rows(prepared)
    owners = prepared.owners
    first = np.ones(len(owners), dtype=bool)
    first[1:] = owners[1:] != owners[:-1]  # a clause's first passage carries its BM25 weights
    row_doc = [index for index, doc in enumerate(prepared.documents) for _ in doc.clauses]
    total = len(owners)
    for start in range(0, total, INSERT_BATCH):
        end = min(start + INSERT_BATCH, total)
        milvus.insert(name, [
            {"pid": pid, "row": int(owners[pid]), "doc": row_doc[owners[pid]],
             "vector": prepared.vectors[pid].tolist(),
             "sparse": sparse[owners[pid]] if first[pid] else {NO_TOKEN: 1.0}}
            for pid in range(start, end)])
        if progress:
            progress("index", end, total)


def _insert_meta(milvus, name: str, prepared: Prepared, index_type: str,
                 settings: Settings) -> None:
    manifest = prepared.manifest(name, index_type, settings)
    blob = "".join(d.model_dump_json() + "\n" for d in prepared.documents)
    chunks = [blob[i:i + META_CHUNK_CHARS] for i in range(0, len(blob), META_CHUNK_CHARS)]
    entities = [{"id": 0, "data": manifest.model_dump_json(), "unused": [0.0, 0.0]}]
    entities += [{"id": i, "data": chunk, "unused": [0.0, 0.0]}
                 for i, chunk in enumerate(chunks, start=1)]
    for start in range(0, len(entities), 200):
        milvus.insert(name + META_SUFFIX, entities[start:start + 200])


def _move_alias(milvus, alias: str, name: str, expected: str | None) -> None:
    if expected is None:
        try:
            milvus.create_alias(name, alias)
        except Exception as err:  # noqa: BLE001 - someone created it first
            raise ConcurrentChangeError(f"alias {alias} appeared meanwhile: {err}") from None
    else:
        milvus.alter_alias(name, alias)


def _drop(milvus, name: str) -> None:
    for collection in (name, name + META_SUFFIX):
        try:
            milvus.drop_collection(collection)
        except Exception:  # noqa: BLE001, S110 - cleaning up after a failure; keep its error
            pass


def _collect_garbage(milvus, alias: str, keep: str) -> None:
    """Drop all but the newest versions (the live one and the one before it)."""
    prefix = f"{alias}_g"
    names = sorted({c.removesuffix(META_SUFFIX) for c in milvus.list_collections()
                    if c.startswith(prefix)}, key=lambda n: int(n[len(prefix):]))
    survivors = {keep} | set(names[-KEEP_GENERATIONS:])
    for name in names:
        if name not in survivors:
            _drop(milvus, name)

"""The FAISS write side: durable swaps, cleanup after killed builds, vectors stored once."""

from __future__ import annotations

import os

import numpy as np
from test_store import docs, make_doc, settings  # noqa: F401  (pytest fixtures by name)

from assistant.stores.backends import write_index
from assistant.stores.faiss.store import IndexStore
from assistant.stores.layout import current_generation, generations_dir


def test_every_generation_file_is_fsynced_before_current_moves(settings, docs,  # noqa: F811
                                                               monkeypatch):
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    def replace(source, target) -> None:
        events.append(("replace", str(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store = write_index(docs, settings, replace_all=True)
    swap = events.index(("replace", str(settings.paths.index_dir / "CURRENT")))
    synced = {path for kind, path in events[:swap] if kind == "fsync"}
    staging = str(store.directory.parent / f".{store.directory.name}.building")
    files = [p for p in store.directory.rglob("*")]
    assert files and all(str(p).replace(str(store.directory), staging, 1) in synced
                         for p in files)
    assert str(generations_dir(settings)) in synced  # the folder's new entry, too
    assert ("fsync", str(settings.paths.index_dir)) in events[swap:]  # and the pointer's rename


def test_a_killed_builds_leftovers_are_removed_by_the_next_writer(settings, docs):  # noqa: F811
    write_index(docs[:1], settings, replace_all=True)
    leftover = generations_dir(settings) / ".g1.building"  # fresh: a kill a moment ago
    (leftover / "bm25").mkdir(parents=True)
    (leftover / "vectors.npy").write_bytes(b"half")
    stray = settings.paths.index_dir / ".CURRENT.99999.tmp"
    stray.write_text("g1\n")
    write_index(docs[1:], settings, replace_all=False)
    assert not leftover.exists() and not stray.exists()
    assert [d.doc_id for d in IndexStore.open(settings).documents] == ["a", "b"]


def test_vectors_are_stored_once_in_the_faiss_file(settings, docs):  # noqa: F811
    store = write_index(docs, settings, replace_all=True)
    generation = current_generation(settings)
    assert not (generation / "vectors.npy").exists()
    reopened = IndexStore.open(settings)
    dim = reopened.manifest.dim
    vectors = reopened.dense.vectors
    assert vectors.shape == (reopened.manifest.passages, dim)
    assert np.allclose(vectors, store.dense.index.reconstruct_n(0, len(vectors)))
    assert (generation / "dense.faiss").stat().st_size < vectors.nbytes * 1.1


def test_a_generation_written_with_a_vectors_file_still_opens(settings, docs):  # noqa: F811
    store = write_index(docs, settings, replace_all=True)
    np.save(store.directory / "vectors.npy", store.dense.vectors)  # as older versions wrote
    older = IndexStore.open(settings)
    assert isinstance(older.dense.vectors, np.memmap)
    assert older.dense.search(older.embed_query("三明医改"), 1)[0].tolist() == [0]


def test_a_large_hnsw_index_exposes_its_stored_vectors(settings):  # noqa: F811
    many = [make_doc(f"d{i}", None, {"一、": f"一、第{i}号条款，关于带量采购的第{i}项安排。"})
            for i in range(40)]
    hnsw = settings.with_(exact_search_max=10)
    store = write_index(many, hnsw, replace_all=True)
    assert store.manifest.index_type == "hnsw-ip"
    reopened = IndexStore.open(hnsw)
    assert reopened.dense.vectors.shape[0] == reopened.manifest.passages
    assert np.allclose(np.linalg.norm(reopened.dense.vectors, axis=1), 1.0, atol=1e-4)


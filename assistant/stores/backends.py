"""Index backends: a Protocol plus a registry, chosen by `ASSISTANT_STORE__INDEX_BACKEND`.

    faiss   (default) FAISS + bm25s files under settings.paths.index_dir, one process's memory
    milvus  a Milvus collection (Milvus Lite file or server/cluster URI) that every API
            replica reads; the replica keeps nothing on disk

Each backend opens into an `IndexReader` (assistant/stores/base.py) and publishes a
whole new corpus version atomically. `version()` is cheap (one small read or one RPC)
so a server can poll it and reopen when another process changed the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from assistant.errors import ConcurrentChangeError, IndexNotBuiltError
from assistant.ingest.validity import apply_validity
from assistant.models import Document
from assistant.registry import Registry
from assistant.settings import Settings
from assistant.stores.base import IndexReader
from assistant.stores.build import merge
from assistant.stores.faiss import generations
from assistant.stores.faiss.store import IndexStore
from assistant.stores.layout import Progress, current_generation
from assistant.stores.milvus import reader as milvus_reader
from assistant.stores.milvus import writer as milvus_writer

PUBLISH_ATTEMPTS = 3


class IndexBackend(Protocol):
    def open(self, settings: Settings) -> IndexReader:
        """The live corpus (raises IndexNotBuiltError / IndexMismatchError)."""
        ...

    def version(self, settings: Settings) -> str | None:
        """Name of the live corpus version, None when there is none; cheap to call."""
        ...

    def documents(self, settings: Settings) -> list[Document]:
        """The documents of the live version ([] when there is none)."""
        ...

    def lock(self, settings: Settings) -> AbstractContextManager[None]:
        """Held while reading the live documents and publishing a new version."""
        ...

    def publish(self, documents: list[Document], settings: Settings, progress: Progress | None,
                expected: str | None) -> IndexReader:
        """Build `documents` as a new version and make it live, unless the live version is
        no longer `expected` (then raise ConcurrentChangeError and leave everything)."""
        ...


INDEX_BACKENDS: Registry[IndexBackend] = Registry("index backend")


class FaissBackend:
    """FAISS + bm25s generations under settings.paths.index_dir (`faiss/generations.py`)."""

    def open(self, settings: Settings) -> IndexReader:
        return IndexStore.open(settings)

    def version(self, settings: Settings) -> str | None:
        generation = current_generation(settings)
        return generation.name if generation else None

    def documents(self, settings: Settings) -> list[Document]:
        return generations.existing_documents(settings)

    def lock(self, settings: Settings) -> AbstractContextManager[None]:
        return generations.write_lock(settings)

    def publish(self, documents, settings, progress, expected) -> IndexReader:
        return generations.publish(documents, settings, progress)  # the lock rules out a race


class MilvusBackend:
    """A Milvus collection behind an alias: indexing/milvus.py writes, retrieval/milvus.py reads."""

    def open(self, settings: Settings) -> IndexReader:
        return milvus_reader.MilvusStore.open(settings)

    def version(self, settings: Settings) -> str | None:
        return milvus_reader.live_collection(settings)

    def documents(self, settings: Settings) -> list[Document]:
        return milvus_reader.live_documents(settings)

    def lock(self, settings: Settings) -> AbstractContextManager[None]:
        return milvus_writer.publish_lock(settings)

    def publish(self, documents, settings, progress, expected) -> IndexReader:
        return milvus_writer.publish(documents, settings, progress, expected)


INDEX_BACKENDS.register("faiss")(FaissBackend())
INDEX_BACKENDS.register("milvus")(MilvusBackend())


def backend_for(settings: Settings) -> IndexBackend:
    return INDEX_BACKENDS.get(settings.store.index_backend)


def open_index(settings: Settings) -> IndexReader:
    return backend_for(settings).open(settings)


def corpus_version(settings: Settings) -> str | None:
    return backend_for(settings).version(settings)


def _change(settings: Settings, change, progress: Progress | None) -> IndexReader:
    """Apply `change(live documents) -> new documents` and publish it; a writer elsewhere
    that published meanwhile makes us redo the change on top of its version."""
    backend = backend_for(settings)
    for attempt in range(PUBLISH_ATTEMPTS):
        with backend.lock(settings):
            expected = backend.version(settings)
            # Versions and repeals are a property of the whole library: derived again on
            # every change, so the order documents arrive in does not matter.
            documents = apply_validity(change(backend.documents(settings), expected))
            try:
                return backend.publish(documents, settings, progress, expected)
            except ConcurrentChangeError:
                if attempt == PUBLISH_ATTEMPTS - 1:
                    raise
    raise AssertionError("unreachable")


def write_index(documents: Sequence[Document], settings: Settings, *, replace_all: bool,
                progress: Progress | None = None) -> IndexReader:
    """Upsert `documents` (or replace everything) into a new version and make it live.

    A failure anywhere leaves the live index untouched. Returns the new reader; its
    manifest says how many passages were embedded fresh and how many came from the cache.
    """
    return _change(settings, lambda live, _: merge([] if replace_all else live,
                                                   list(documents)), progress)


def remove_documents(doc_ids: Sequence[str], settings: Settings) -> IndexReader:
    """A new version without these documents (and their clauses)."""
    drop = set(doc_ids)

    def without(live: list[Document], version: str | None) -> list[Document]:
        if version is None:
            raise IndexNotBuiltError(f"no index in {where(settings)}: nothing to remove")
        return [d for d in live if d.doc_id not in drop]

    return _change(settings, without, None)


def reindex(settings: Settings, progress: Progress | None = None) -> IndexReader:
    """Rebuild the documents already indexed with the current settings (e.g. a new embedder)."""
    def same(live: list[Document], version: str | None) -> list[Document]:
        if version is None:
            raise IndexNotBuiltError(f"no index in {where(settings)}: nothing to rebuild")
        return live

    return _change(settings, same, progress)


def where(settings: Settings) -> str:
    if settings.store.index_backend == "milvus":
        return f"Milvus {settings.milvus_uri_or_default} (alias {settings.store.milvus_collection})"
    return str(settings.paths.index_dir)

"""The FAISS backend's read side: one generation of files, opened into memory.

The layout is described in assistant/stores/layout.py; builds and swaps live in
assistant/stores/faiss/generations.py (the write side). A reader loads one generation and keeps
using it while a writer builds the next one; the previous generation is kept so a reader that
read CURRENT just before a swap still finds its files.
"""

from __future__ import annotations

import time
from pathlib import Path

from assistant.errors import IndexMismatchError, IndexNotBuiltError
from assistant.models import Document
from assistant.settings import Settings
from assistant.stores.base import CorpusRows
from assistant.stores.faiss.dense import DenseIndex
from assistant.stores.layout import (
    Manifest,
    check_compatible,
    current_generation,
    read_documents,
    rebuild_hint,
)
from assistant.stores.sparse import SparseIndex


class IndexStore(CorpusRows):
    """One opened FAISS generation: documents, clause rows, dense and sparse legs.

    >>> store = IndexStore.open(Settings(embedder="hashing", index_dir=tmp))  # doctest: +SKIP
    >>> HybridRetriever(store).search("医保支付方式改革", k=3)                 # doctest: +SKIP
    """

    def __init__(self, directory: Path, manifest: Manifest, documents: list[Document],
                 dense: DenseIndex, sparse: SparseIndex | None, settings: Settings) -> None:
        super().__init__(documents, settings)
        self.directory = directory
        self.manifest = manifest
        self.dense = dense
        self.sparse = sparse
        self.version = directory.name

    @classmethod
    def open(cls, settings: Settings) -> IndexStore:
        """The live generation (raises IndexNotBuiltError / IndexMismatchError)."""
        for attempt in range(3):
            generation = current_generation(settings)
            if generation is None:
                break
            try:
                return cls.load(generation, settings)
            except FileNotFoundError as err:
                if current_generation(settings) == generation:  # not a swap race: broken
                    raise IndexMismatchError(
                        f"the index in {settings.paths.index_dir} is incomplete or from an older "
                        f"version ({err.filename} is missing); rebuild it: "
                        f"{rebuild_hint(settings)}") from None
                time.sleep(0.05 * (attempt + 1))  # swapped and collected while we read: retry
        raise IndexNotBuiltError(
            f"no index in {settings.paths.index_dir}: build it with `assistant ingest` "
            f"(reads {settings.paths.corpus_dir} when given no files)")

    @classmethod
    def load(cls, generation: Path, settings: Settings, check: bool = True) -> IndexStore:
        manifest = Manifest.model_validate_json((generation / "manifest.json").read_text("utf-8"))
        if check:
            check_compatible(manifest, settings, settings.paths.index_dir)
        documents = read_documents(generation)
        dense = DenseIndex.load(generation, settings.index.exact_search_max)
        sparse = SparseIndex.load(generation / "bm25") if (generation / "bm25").is_dir() else None
        return cls(generation, manifest, documents, dense, sparse, settings)

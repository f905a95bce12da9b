"""The on-disk index: clause store + FAISS + BM25, built aside and swapped in atomically.

Layout under ``settings.index_dir``::

    CURRENT                      name of the live generation (replaced with os.replace)
    generations/<gen>/           one complete, immutable build
        manifest.json            embedder, model, dim, tokenizer, fingerprints, counts, type
        documents.jsonl          one Document (with its clauses) per line
        rows.json                clause id of each clause row
        vectors.npy, dense.faiss passage vectors (several per clause) and their FAISS index
        owners.npy               clause row of each passage vector
        bm25/                    bm25s index over the same rows
    cache/embeddings.sqlite3     passage vectors by (embedder, model, sha256(text))
    .write.lock                  serialises writers (readers never wait)

A reader loads one generation into memory and keeps using it while a writer builds the
next one; the previous generation is kept so a reader that read CURRENT just before a
swap still finds its files. Older generations are removed after each successful build.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from assistant.embedders import EmbeddingCache, embed_passages_cached, get_embedder, model_id
from assistant.errors import IndexMismatchError, IndexNotBuiltError
from assistant.models import Clause, Document, DocumentInfo
from assistant.retrieval.dense import DenseIndex
from assistant.retrieval.passages import clause_passages, index_text
from assistant.retrieval.sparse import TOKENIZER, SparseIndex
from assistant.settings import Settings

FORMAT_VERSION = 1
KEEP_GENERATIONS = 2  # the live one and the one before it
QUERY_CACHE_SIZE = 1024
STALE_STAGING_S = 3600
Progress = Callable[[str, int, int], None]  # (stage, done, total); stages: embed, index


class Manifest(BaseModel):
    """What an index generation was built from; checked when it is opened."""

    format_version: int = FORMAT_VERSION
    generation: str
    embedder: str
    model: str
    dim: int
    tokenizer: str = TOKENIZER
    settings_fingerprint: str
    corpus_fingerprint: str
    documents: int
    clauses: int
    passages: int = Field(0, description="embedded texts: each clause, plus sentence groups")
    index_type: str
    embedded: int = 0
    reused: int = 0
    created: str


def corpus_fingerprint(documents: Sequence[Document]) -> str:
    blob = "\n".join(sorted(d.fingerprint() for d in documents))
    return hashlib.sha256(blob.encode()).hexdigest()


def _generations_dir(settings: Settings) -> Path:
    return settings.index_dir / "generations"


def current_generation(settings: Settings) -> Path | None:
    pointer = settings.index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    path = _generations_dir(settings) / name
    return path if path.is_dir() else None


def _rebuild_hint(settings: Settings) -> str:
    flags = f"--embedder {settings.embedder}"
    if settings.embed_model:
        flags += f" --embed-model {settings.embed_model}"
    return f"assistant {flags} ingest --rebuild"


def check_compatible(manifest: Manifest, settings: Settings, where: Path) -> None:
    """Raise IndexMismatchError, saying how to fix it, if the settings want another embedder."""
    wanted = model_id(settings)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index in {where} has format {manifest.format_version}, this version reads "
            f"{FORMAT_VERSION}; rebuild it: {_rebuild_hint(settings)}")
    if (manifest.embedder, manifest.model) != (settings.embedder, wanted):
        use = f"ASSISTANT_EMBEDDER={manifest.embedder}"
        if manifest.embedder == "sentence-transformers":
            use += f" ASSISTANT_EMBED_MODEL=<directory of {manifest.model}>"
        raise IndexMismatchError(
            f"the index in {where} was built with embedder {manifest.embedder!r} "
            f"(model {manifest.model}, dim {manifest.dim}), but the settings ask for "
            f"{settings.embedder!r} (model {wanted or 'unset'}). Either rebuild the index "
            f"with the new embedder: `{_rebuild_hint(settings)}`, or keep the index and set "
            f"{use}.")


class IndexStore:
    """One opened index generation: documents, clause rows, dense and sparse indexes.

    >>> store = IndexStore.open(Settings(embedder="hashing", index_dir=tmp))  # doctest: +SKIP
    >>> store.retriever().search("医保支付方式改革", k=3)                      # doctest: +SKIP
    """

    def __init__(self, directory: Path, manifest: Manifest, documents: list[Document],
                 dense: DenseIndex, sparse: SparseIndex | None, settings: Settings) -> None:
        self.directory = directory
        self.manifest = manifest
        self.documents = documents
        self.dense = dense
        self.sparse = sparse
        self.settings = settings
        self._by_id = {d.doc_id: d for d in documents}
        self.infos = [d.info() for d in documents]
        self.rows: list[tuple[Clause, DocumentInfo]] = []
        row_doc = []
        for index, doc in enumerate(documents):
            for clause in doc.clauses:
                self.rows.append((clause, self.infos[index]))
                row_doc.append(index)
        self.row_doc = np.asarray(row_doc, dtype=np.int32)
        self._query_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

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
                        f"the index in {settings.index_dir} is incomplete or from an older "
                        f"version ({err.filename} is missing); rebuild it: "
                        f"{_rebuild_hint(settings)}") from None
                time.sleep(0.05 * (attempt + 1))  # swapped and collected while we read: retry
        raise IndexNotBuiltError(
            f"no index in {settings.index_dir}: build it with `assistant ingest` "
            f"(reads {settings.corpus_dir} when given no files)")

    @classmethod
    def load(cls, generation: Path, settings: Settings, check: bool = True) -> IndexStore:
        manifest = Manifest.model_validate_json((generation / "manifest.json").read_text("utf-8"))
        if check:
            check_compatible(manifest, settings, settings.index_dir)
        documents = read_documents(generation)
        dense = DenseIndex.load(generation, settings.exact_search_max)
        sparse = SparseIndex.load(generation / "bm25") if (generation / "bm25").is_dir() else None
        return cls(generation, manifest, documents, dense, sparse, settings)

    def document(self, doc_id: str) -> Document | None:
        return self._by_id.get(doc_id)

    def retriever(self, mode: str = "hybrid", **options):
        """The clause retriever over this generation; mode: hybrid | dense | sparse.

        Options override the settings: fusion, dense_weight, rrf_k, depth.
        """
        from assistant.retrieval.hybrid import HybridRetriever

        return HybridRetriever(self, mode=mode, **options)

    def embedder(self):
        return get_embedder(self.settings)

    def embed_query(self, question: str) -> np.ndarray:
        """The question's vector; recent questions are remembered (repeats, eval sweeps)."""
        vector = self._query_cache.get(question)
        if vector is None:
            vector = self.embedder().embed_queries([question])[0]
            with self._cache_lock:  # shared by the API's worker threads
                if len(self._query_cache) >= QUERY_CACHE_SIZE:
                    self._query_cache.pop(next(iter(self._query_cache)), None)
                self._query_cache[question] = vector
        return vector


def read_documents(generation: Path) -> list[Document]:
    with (generation / "documents.jsonl").open(encoding="utf-8") as lines:
        return [Document.model_validate_json(line) for line in lines if line.strip()]


@contextmanager
def _write_lock(settings: Settings) -> Iterator[None]:
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with (settings.index_dir / ".write.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _existing_documents(settings: Settings) -> list[Document]:
    generation = current_generation(settings)
    return read_documents(generation) if generation else []


def _merge(existing: list[Document], new: Sequence[Document]) -> list[Document]:
    merged = {d.doc_id: d for d in existing}
    for document in new:
        merged[document.doc_id] = document  # upsert: same doc_id replaces
    return list(merged.values())


def write_index(documents: Sequence[Document], settings: Settings, *, replace_all: bool,
                progress: Progress | None = None) -> IndexStore:
    """Upsert `documents` (or replace everything) into a new generation and swap it in.

    A failure anywhere leaves the live index untouched. Returns the new store; its
    manifest says how many clauses were embedded fresh and how many came from the cache.
    """
    with _write_lock(settings):
        existing = [] if replace_all else _existing_documents(settings)
        return _build_and_swap(_merge(existing, documents), settings, progress)


def remove_documents(doc_ids: Sequence[str], settings: Settings) -> IndexStore:
    """A new generation without these documents (and their clauses)."""
    with _write_lock(settings):
        existing = _existing_documents(settings)
        if current_generation(settings) is None:
            raise IndexNotBuiltError(f"no index in {settings.index_dir}: nothing to remove")
        drop = set(doc_ids)
        return _build_and_swap([d for d in existing if d.doc_id not in drop], settings, None)


def reindex(settings: Settings, progress: Progress | None = None) -> IndexStore:
    """Rebuild the documents already indexed with the current settings (e.g. a new embedder)."""
    with _write_lock(settings):
        if current_generation(settings) is None:
            raise IndexNotBuiltError(f"no index in {settings.index_dir}: nothing to rebuild")
        return _build_and_swap(_existing_documents(settings), settings, progress)


def _build_and_swap(documents: list[Document], settings: Settings,
                    progress: Progress | None) -> IndexStore:
    generations = _generations_dir(settings)
    generations.mkdir(parents=True, exist_ok=True)
    name = f"g{time.time_ns()}"
    target = generations / name
    staging = generations / f".{name}.building"
    try:
        staging.mkdir()
        _build(documents, settings, staging, name, progress)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_pointer(settings, name)
    _collect_garbage(settings, keep=name)
    return IndexStore.load(target, settings)


def _build(documents: list[Document], settings: Settings, directory: Path, name: str,
           progress: Progress | None) -> None:
    pairs = [(clause, doc.info()) for doc in documents for clause in doc.clauses]
    clauses = [clause for clause, _ in pairs]
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
    if progress:
        progress("index", 0, len(clauses))
    dense = DenseIndex.build(vectors, np.asarray(owners, dtype=np.int64),
                             settings.exact_search_max)
    dense.save(directory)
    if clauses:
        SparseIndex.build([index_text(c, info) for c, info in pairs]).save(directory / "bm25")
    with (directory / "documents.jsonl").open("w", encoding="utf-8") as out:
        for document in documents:
            out.write(document.model_dump_json() + "\n")
    rows = [clause.clause_id for clause in clauses]
    (directory / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
    manifest = Manifest(
        generation=name, embedder=embedder.name, model=embedder.model, dim=embedder.dim,
        settings_fingerprint=settings.fingerprint(),
        corpus_fingerprint=corpus_fingerprint(documents), documents=len(documents),
        clauses=len(clauses), passages=len(passages), index_type=dense.kind, embedded=fresh,
        reused=len(passages) - fresh,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    (directory / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    if progress:
        progress("index", len(clauses), len(clauses))


def _swap_pointer(settings: Settings, name: str) -> None:
    pointer = settings.index_dir / "CURRENT"
    temporary = settings.index_dir / f".CURRENT.{os.getpid()}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, pointer)  # atomic on POSIX: readers see the old or the new name


def _collect_garbage(settings: Settings, keep: str) -> None:
    """Delete all but the newest generations, and staging folders a killed writer left."""
    folder = _generations_dir(settings)
    generations = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith("g"))
    survivors = {keep} | {p.name for p in generations[-KEEP_GENERATIONS:]}
    stale = [p for p in folder.glob(".g*.building")
             if time.time() - p.stat().st_mtime > STALE_STAGING_S]  # we hold the write lock
    for path in [p for p in generations if p.name not in survivors] + stale:
        shutil.rmtree(path, ignore_errors=True)

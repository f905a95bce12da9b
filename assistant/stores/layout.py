"""What readers and writers agree on: the manifest, fingerprints, where a generation lives.

FAISS layout under ``settings.paths.index_dir``::

    CURRENT                      name of the live generation (replaced with os.replace)
    generations/<gen>/           one complete, immutable build
        manifest.json            embedder, model, dim, tokenizer, fingerprints, counts, type
        documents.jsonl          one Document (with its clauses) per line
        rows.json                clause id of each clause row
        dense.faiss              passage vectors (several per clause) in their FAISS index;
                                 the only copy of the vectors (read back from its storage)
        owners.npy               clause row of each passage vector
        bm25/                    bm25s index over the same rows
    generations/.<gen>.building  a build in progress (removed by the next writer if killed)
    cache/embeddings.sqlite3     passage vectors by (embedder, model, sha256(text))
    .write.lock                  serialises writers (readers never wait)

Milvus keeps the same manifest and documents in a `<collection>_g…_meta` collection
beside the passage collection; an alias names the live one (stores/milvus/reader.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.embedders import model_id
from assistant.errors import IndexMismatchError
from assistant.models import Document
from assistant.settings import Settings
from assistant.stores.sparse import TOKENIZER

FORMAT_VERSION = 1
KEEP_GENERATIONS = 2  # the live one and the one before it
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
    max_passages: int = Field(0, description="most passages of one clause (0: unknown)")
    index_type: str
    embedded: int = 0
    reused: int = 0
    created: str


def corpus_fingerprint(documents: Sequence[Document]) -> str:
    blob = "\n".join(sorted(d.fingerprint() for d in documents))
    return hashlib.sha256(blob.encode()).hexdigest()


def generations_dir(settings: Settings) -> Path:
    return settings.paths.index_dir / "generations"


def current_name(settings: Settings) -> str | None:
    """The name in CURRENT (cheap: one small read), or None when there is no index."""
    try:
        return (settings.paths.index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def current_generation(settings: Settings) -> Path | None:
    name = current_name(settings)
    if name is None:
        return None
    path = generations_dir(settings) / name
    return path if path.is_dir() else None


def read_documents(generation: Path) -> list[Document]:
    with (generation / "documents.jsonl").open(encoding="utf-8") as lines:
        return [Document.model_validate_json(line) for line in lines if line.strip()]


def rebuild_hint(settings: Settings) -> str:
    flags = f"--embedder {settings.index.embedder}"
    if settings.index.embed_model:
        flags += f" --embed-model {settings.index.embed_model}"
    return f"assistant {flags} ingest --rebuild"


def check_compatible(manifest: Manifest, settings: Settings, where: object) -> None:
    """Raise IndexMismatchError, saying how to fix it, if the settings want another embedder."""
    wanted = model_id(settings)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index in {where} has format {manifest.format_version}, this version reads "
            f"{FORMAT_VERSION}; rebuild it: {rebuild_hint(settings)}")
    if (manifest.embedder, manifest.model) != (settings.index.embedder, wanted):
        use = f"ASSISTANT_INDEX__EMBEDDER={manifest.embedder}"
        if manifest.embedder == "sentence-transformers":
            use += f" ASSISTANT_INDEX__EMBED_MODEL=<directory of {manifest.model}>"
        raise IndexMismatchError(
            f"the index in {where} was built with embedder {manifest.embedder!r} "
            f"(model {manifest.model}, dim {manifest.dim}), but the settings ask for "
            f"{settings.index.embedder!r} (model {wanted or 'unset'}). Either rebuild the index "
            f"with the new embedder: `{rebuild_hint(settings)}`, or keep the index and set "
            f"{use}.")

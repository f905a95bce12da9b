"""Versions and validity across the library (assistant/ingest/validity.py).

Small made-up documents under tests/data/versions/: two versions of a 条例 whose 2021 修订
renumbers its articles, a 办法 that repeals a 暂行规定 by name (and names one the library does
not hold). The index tests use the `hashing` test embedder (not a real model).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.compare import compare
from assistant.ingest.document import build_document
from assistant.ingest.pipeline import ingest_files
from assistant.ingest.validity import apply_validity
from assistant.lexicon import names_document, repeal_statements
from assistant.models import DocStatus
from assistant.service import ingest_into_index
from assistant.settings import Settings
from assistant.stores.backends import remove_documents
from assistant.stores.faiss.store import IndexStore

DATA = Path(__file__).parent / "data" / "versions"
OLD, NEW = DATA / "tiaoli_2015.md", DATA / "tiaoli_2021.md"
RULE, REPEALER = DATA / "zanxing_guiding.md", DATA / "banfa.md"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(index_dir=tmp_path / "index", embedder="hashing")


def parsed(path: Path):
    return build_document(path.read_text(encoding="utf-8"), path.name)


def by_title(documents, title: str, year: int):
    return next(d for d in documents if d.title == title and d.version_date.year == year)


@pytest.mark.parametrize("order", [(OLD, NEW), (NEW, OLD)])
def test_two_versions_of_one_rule_are_both_kept_and_the_older_is_superseded(settings, order):
    for path in order:
        report = ingest_into_index([path], settings)
        assert report.indexed and not report.warnings
    docs = IndexStore.open(settings).documents
    old, new = (
        by_title(docs, "清水市河道保洁条例", 2015),
        by_title(docs, "清水市河道保洁条例", 2021),
    )
    assert old.doc_id != new.doc_id
    assert old.status == DocStatus.SUPERSEDED and old.status_source == "library"
    assert old.superseded_by.doc_id == new.doc_id
    assert new.status is None and new.superseded_by is None
    assert old.versions == new.versions == [old.doc_id, new.doc_id]
    assert old.work_id == new.work_id
    assert old.status_warning() == ("《清水市河道保洁条例》（2015年） 已被《清水市河道保洁条例》"
                                    "（2021年修订）取代，请以现行版本为准。")
    assert not old.in_force and new.in_force


def test_a_same_text_reingest_is_the_same_document_with_the_same_id(settings, tmp_path):
    copy = tmp_path / "copy.md"
    copy.write_text(OLD.read_text(encoding="utf-8"), encoding="utf-8")
    documents, report = ingest_files([OLD, copy], settings)
    assert len(documents) == 1 and "same document as tiaoli_2015.md" in report.warnings[0]
    ingest_into_index([OLD], settings)
    first = IndexStore.open(settings).documents[0].doc_id
    ingest_into_index([copy], settings)
    docs = IndexStore.open(settings).documents
    assert [d.doc_id for d in docs] == [first]


@pytest.mark.parametrize("order", [(RULE, REPEALER), (REPEALER, RULE)])
def test_a_repeal_by_name_marks_the_held_document_whichever_comes_first(settings, order):
    for path in order:
        ingest_into_index([path], settings)
    docs = IndexStore.open(settings).documents
    rule = next(d for d in docs if d.title == "青山省医疗废物管理暂行规定")
    repealer = next(d for d in docs if d.title == "青山省医疗废物管理办法")
    assert rule.status == DocStatus.REPEALED and rule.status_source == "library"
    assert rule.stated_status == DocStatus.TRIAL  # what the text itself says is kept
    assert rule.repealed_by.doc_id == repealer.doc_id
    assert rule.repealed_by.label == "第三条"
    assert "《青山省医疗废物管理暂行规定》同时废止" in rule.repealed_by.evidence
    assert rule.status_warning().startswith(
        "《青山省医疗废物管理暂行规定》 已由《青山省医疗废物管理办法》第三条废止（“2012年印发的")
    # The one it names but the library does not hold is listed, so staff learn it is missing.
    assert [m.target for m in repealer.repeals_missing] == [
        "《青山省医疗废物处置收费暂行办法》", "青卫发〔2010〕3号"]
    assert repealer.status is None


def test_deleting_the_repealing_document_restores_the_stated_status(settings):
    ingest_into_index([RULE, REPEALER], settings)
    repealer = next(d for d in IndexStore.open(settings).documents if d.title.endswith("办法"))
    remove_documents([repealer.doc_id], settings)
    (rule,) = IndexStore.open(settings).documents
    assert rule.status == DocStatus.TRIAL and rule.repealed_by is None


def test_the_pass_is_idempotent_and_a_stated_status_wins():
    docs = apply_validity([parsed(RULE), parsed(REPEALER)])
    assert apply_validity(docs) == docs
    stated = parsed(RULE).model_copy(update={"status": DocStatus.IN_FORCE})
    rule, _ = apply_validity([stated, parsed(REPEALER)])
    assert rule.status == DocStatus.IN_FORCE and rule.status_source == "document"
    assert rule.repealed_by is not None  # the finding is still recorded


def test_a_repeal_of_an_older_text_of_the_same_work_is_not_a_repeal_of_itself():
    text = NEW.read_text(encoding="utf-8").replace(
        "第八条 本条例自2022年1月1日起施行。",
        "第八条 本条例自2022年1月1日起施行。2015年3月1日公布的《清水市河道保洁条例》同时废止。")
    new = build_document(text, "new.md")
    old, current = sorted(apply_validity([parsed(OLD), new]), key=lambda d: d.version_date)
    assert current.status is None and current.repeals_missing == []
    assert old.status == DocStatus.SUPERSEDED


def test_same_title_from_two_different_bodies_are_two_works():
    other = OLD.read_text(encoding="utf-8").replace("清水市人民代表大会", "青山市人民代表大会")
    a, b = apply_validity([parsed(NEW), build_document(other, "other.md")])
    assert a.work_id != b.work_id and a.status is None and b.status is None


@pytest.mark.parametrize("text, targets", [
    ("本条例自2024年5月1日起施行。《人体器官移植条例》同时废止。", ["《人体器官移植条例》"]),
    ("本办法自印发之日起施行，原《某某暂行规定》（川卫发〔2015〕3号）同时废止。",
     ["《某某暂行规定》", "川卫发〔2015〕3号"]),
    ("根据《立法法》，川卫发〔2015〕3号文件不再执行。", ["川卫发〔2015〕3号"]),
    ("原《某某办法》与本办法不一致的，以本办法为准。", ["《某某办法》"]),
    ("国家有关规定与本办法不一致的，以本办法为准。", []),
    ("对不符合规定的文件予以废止。", []),
])
def test_repeal_statements_name_what_they_repeal(text, targets):
    found = repeal_statements(text)
    assert [t for _, ts in found for t in ts] == targets


def test_names_document_matches_titles_and_numbers():
    assert names_document("《中华人民共和国药品管理法》", "药品管理法", None)
    assert names_document("《某某办法》", "关于印发《某某办法》的通知", "川卫发〔2015〕3号")
    assert names_document("川卫发〔2015〕3号", "关于印发某某办法的通知", "川卫发〔2015〕3号")
    assert not names_document("《某某办法》", "某某办法实施细则", None)


# --- compare: what changed between two versions ----------------------------------------

def test_compare_aligns_renumbered_and_changed_articles():
    comparison = compare(parsed(NEW), parsed(OLD))  # given newest first: put in order
    assert comparison.old.version_date.year == 2015
    assert comparison.matched() == {
        "第一条": "第一条", "第二条": "第二条", "第三条": "第四条", "第四条": "第五条",
        "第五条": "第七条", "第六条": "第六条", "第七条": "第八条"}
    kinds = {(c.old.label if c.old else None, c.new.label if c.new else None): c
             for c in comparison.changes}
    assert kinds[("第二条", "第二条")].kind == "unchanged"
    moved = kinds[("第三条", "第四条")]
    assert moved.kind == "unchanged" and moved.renumbered
    assert kinds[(None, "第三条")].kind == "added"
    fine = kinds[("第五条", "第七条")]
    assert fine.kind == "changed" and fine.renumbered
    assert [s.text for s in fine.diff if s.op == "delete"] == ["二"]
    assert [s.text for s in fine.diff if s.op == "insert"] == ["五"]
    assert comparison.counts == {"unchanged": 3, "changed": 4, "added": 1, "removed": 0,
                                 "renumbered": 4}


def test_compare_lists_a_dropped_article_as_removed():
    text = OLD.read_text(encoding="utf-8").replace(
        "第六条 保洁责任人应当每日巡查河道一次。", "第六条 保洁责任人应当每日巡查河道一次。\n\n"
        "第七条 禁止在河道内设置网箱养殖设施。").replace("第七条 本条例自", "第八条 本条例自")
    comparison = compare(build_document(text, "old.md"), parsed(NEW))
    removed = [c for c in comparison.changes if c.kind == "removed"]
    assert [c.old.label for c in removed] == ["第七条"]
    assert comparison.matched()["第八条"] == "第八条"


def test_compare_over_the_cli_and_the_service(settings, capsys):
    from assistant.cli import main

    ingest_into_index([OLD, NEW], settings)
    args = ["--index-dir", str(settings.paths.index_dir), "--embedder", "hashing", "compare"]
    old = by_title(IndexStore.open(settings).documents, "清水市河道保洁条例", 2015)
    assert main(args + [old.doc_id, "清水市河道保洁条例（2021年修订）", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["counts"]["renumbered"] == 4 and payload["old"]["doc_id"] == old.doc_id
    assert main(args + [old.doc_id, "《清水市河道保洁条例》（2021年修订）"]) == 0
    text = capsys.readouterr().out
    assert "[修改] 第五条 → 第七条" in text and "〖-二〗〖+五〗百元" in text


def test_compare_route_and_document_fields_over_http(tmp_path):
    import httpx
    from api_fixtures import READ, api_settings, live

    settings = api_settings(tmp_path / "index")
    ingest_into_index([OLD, NEW], settings)
    with live(settings) as base:
        listed = httpx.get(base + "/v1/documents", headers=READ).json()["documents"]
        old = next(d for d in listed if d["status"] == "被修订")
        current = next(d for d in listed if d["doc_id"] != old["doc_id"])
        assert old["superseded_by"]["doc_id"] == current["doc_id"]
        assert old["status_source"] == "library" and old["versions"] == current["versions"]
        reply = httpx.get(f"{base}/v1/documents/{current['doc_id']}/compare/{old['doc_id']}",
                          headers=READ)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["old"]["doc_id"] == old["doc_id"] and body["counts"]["added"] == 1
        missing = httpx.get(f"{base}/v1/documents/nope/compare/{old['doc_id']}", headers=READ)
        assert missing.status_code == 404


# --- answers use the current text ------------------------------------------------------

def ask(settings: Settings, question: str):
    from assistant.service import Assistant

    return Assistant(settings).ask(question, backend="extractive")


def test_a_status_question_is_answered_from_the_repealing_clause(settings):
    ingest_into_index([REPEALER, RULE], settings)
    answer = ask(settings, "青山省医疗废物管理暂行规定还有效吗？")
    assert not answer.abstained
    assert "已由《青山省医疗废物管理办法》第三条废止" in answer.answer
    rendered = [c.rendered for c in answer.citations]
    assert "〔《青山省医疗废物管理办法》第三条〕" in rendered
    assert all(s.supported for s in answer.sentences)
    old = next(c for c in answer.citations if c.title.endswith("暂行规定"))
    assert old.status == DocStatus.REPEALED and "第三条废止" in old.warning


def test_a_version_question_names_the_current_version_and_cites_both(settings):
    ingest_into_index([NEW, OLD], settings)
    answer = ask(settings, "清水市河道保洁条例的现行版本是哪个？")
    assert "本库所存最新版本为《清水市河道保洁条例》（2021年修订）" in answer.answer
    rendered = " ".join(c.rendered for c in answer.citations)
    assert "《清水市河道保洁条例》（2015年）" in rendered and "（2021年修订）" in rendered
    assert all(s.supported for s in answer.sentences)


def test_an_old_clause_repeated_verbatim_by_the_current_version_gives_way(settings):
    from assistant.retrieval.hybrid import HybridRetriever
    from assistant.retrieval.versions import prefer_current

    ingest_into_index([OLD, NEW], settings)
    found = HybridRetriever(IndexStore.open(settings)).search("河道保洁分段负责制 保洁责任人", 10)
    years = {s.doc.version_date.year for s in found if "分段负责制" in s.clause.text}
    assert years == {2015, 2021}  # retrieval alone returns both wordings
    preferred = prefer_current(found)
    same = [s for s in preferred if "分段负责制" in s.clause.text]
    assert [s.doc.version_date.year for s in same] == [2021]
    old_first = [s.doc.status for s in preferred].index(DocStatus.SUPERSEDED)
    assert all(s.doc.status is None for s in preferred[:old_first])  # current ones lead


# --- the eval's versions gold set and truth files ---------------------------------------

VERSIONS = Path(__file__).resolve().parents[2] / "shared" / "corpus-dev2" / "versions"


@pytest.mark.skipif(not VERSIONS.is_dir(), reason="development corpus not present")
def test_versions_gold_set_resolves_and_its_facts_sit_in_the_gold_clauses():
    from assistant.evaluation.dataset import DEFAULT_DATASET, check_gold, load_gold

    raw = {p.name: p.read_text(encoding="utf-8") for p in sorted(VERSIONS.glob("w*.md"))}
    documents = apply_validity([build_document(text, name) for name, text in raw.items()])
    items = load_gold(DEFAULT_DATASET.parent / "gold-versions.jsonl")
    assert len(items) >= 12 and check_gold(items, documents, raw) == []


@pytest.mark.skipif(not VERSIONS.is_dir(), reason="development corpus not present")
def test_library_scores_on_the_versions_pairs():
    from assistant.evaluation.versions import library_scores

    raw = {p.name: p.read_text(encoding="utf-8") for p in sorted(VERSIONS.glob("w*.md"))}
    documents = apply_validity([build_document(text, name) for name, text in raw.items()])
    scores = library_scores(documents)
    assert scores["status_documents"] == 6 and scores["status_accuracy"] == 1.0
    assert scores["alignment_pairs"] == 2 and scores["alignment_articles"] == 72
    assert scores["alignment_accuracy"] > 0.9


def test_a_change_question_quotes_both_versions_of_the_aligned_article(settings):
    ingest_into_index([OLD, NEW], settings)
    answer = ask(settings, "清水市河道保洁条例修订后，向河道倾倒垃圾的罚款有什么变化？")
    assert "第七条规定：“任何单位和个人不得向河道倾倒垃圾，违者处五百元以下罚款”" in answer.answer
    assert "修订前，《清水市河道保洁条例》（2015年）第五条规定" in answer.answer
    assert "二百元以下罚款" in answer.answer
    assert {c.label for c in answer.citations} == {"第七条", "第五条"}
    assert all(s.supported for s in answer.sentences)


def test_the_documents_tab_shows_validity_and_the_comparison(settings):
    from assistant.service import Assistant
    from assistant.ui.chat import ChatPage

    ingest_into_index([OLD, NEW, RULE, REPEALER], settings)
    page = ChatPage(Assistant(settings))
    docs = {(d.title, d.version_date.year): d for d in IndexStore.open(settings).documents}
    meta, tree = page.show_document(docs[("清水市河道保洁条例", 2015)].doc_id)
    assert "被修订" in meta and "已被《清水市河道保洁条例》（2021年修订）取代" in meta
    assert "本库收录 2 个版本" in meta
    assert "<del>二</del>" in tree and "<ins>五</ins>" in tree and "新增 1 条" in tree
    meta, _ = page.show_document(docs[("青山省医疗废物管理办法", 2020)].doc_id)
    assert "所废止文件（未收录）" in meta and "青卫发〔2010〕3号" in meta


def test_answers_cite_the_current_text_unless_the_old_one_is_asked_for(settings):
    ingest_into_index([OLD, NEW], settings)
    current = ask(settings, "河道保洁责任人应当每日巡查河道几次？")
    assert {c.rendered for c in current.citations} == {
        "〔《清水市河道保洁条例》（2021年修订）第六条〕"
    }
    assert "两次" in current.answer and not current.warnings
    old = ask(settings, "2015年公布的清水市河道保洁条例规定，保洁责任人每日巡查河道几次？")
    assert "〔《清水市河道保洁条例》（2015年）第六条〕" in {c.rendered for c in old.citations}
    cited_old = next(c for c in old.citations if "2015" in c.rendered)
    assert cited_old.replaced_by.ref == "《清水市河道保洁条例》（2021年修订）"
    assert any("已被《清水市河道保洁条例》（2021年修订）取代" in w for w in old.warnings)

"""How the chat page presents follow-ups: understood as…, markers from [1], feedback replays.

A real index of the sample corpus (hashing test embedder), the real ChatPage, answer
pipeline, feedback store and gold-set loader; no browser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")

from assistant.answer.renumber import marker_order, renumbered
from assistant.evaluation.dataset import load_gold
from assistant.models import Answer, AnswerSentence, Citation
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.ui import render
from assistant.ui.chat import ChatPage

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"
QUESTION = "四川省在哪些城市开展“三医”联动和系统集成改革试点？"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    from assistant.service import ingest_into_index

    directory = tmp_path_factory.mktemp("ui-followups") / "index"
    assert ingest_into_index([CORPUS], Settings(index_dir=directory, embedder="hashing")).ok
    return directory


@pytest.fixture
def page(index_dir, tmp_path) -> ChatPage:
    return ChatPage(Assistant(Settings(index_dir=index_dir, embedder="hashing",
                                       feedback_db=tmp_path / "fb.sqlite3")))


def ask(page: ChatPage, question: str, turns=None):
    return list(page.respond(question, turns or [], None, False, None))[-1][1]


def citation(marker: int, clause_id: str) -> Citation:
    return Citation(marker=marker, clause_id=clause_id, doc_id="d", number="川办函〔2021〕56号",
                    title="t", status=None, path=["一、"], label="一、", text="原文",
                    rendered="〔x〕")


def test_renumbered_starts_at_one_in_reading_order():
    answer = Answer(question="q", answer="甲[3]。乙[2][3]。", abstained=False, backend="extractive",
                    citations=[citation(2, "b"), citation(3, "a")],
                    sentences=[AnswerSentence(text="甲[3]。", markers=[3]),
                               AnswerSentence(text="乙[2][3]。", markers=[2, 3])])
    shown = renumbered(answer)
    assert shown.answer == "甲[1]。乙[2][1]。"
    assert [(c.marker, c.clause_id) for c in shown.citations] == [(1, "a"), (2, "b")]
    assert [s.markers for s in shown.sentences] == [[1], [2, 1]]
    assert shown.sentences[1].text == "乙[2][1]。"
    assert renumbered(shown) == shown


def test_streaming_text_is_numbered_like_the_final_answer():
    html = render.streaming_html("部分[4]")
    assert "部分[1]" in html and "[4]" not in html


# (first question, follow-up): each follow-up is answered from the corpus; with this index the
# pipeline's markers for the second one are [2][3] (its evidence is context block 2).
ANSWERED_FOLLOW_UPS = [("四川省推广三明医改经验有什么要求？", "那汉中市呢？"),
                       ("四川全省推广的医保付费方式是哪一种？", "那四川省呢？")]


@pytest.mark.parametrize(("first", "follow_up"), ANSWERED_FOLLOW_UPS)
def test_every_answer_on_the_page_starts_at_marker_one(page, first, follow_up):
    turns = ask(page, follow_up, ask(page, first))
    assert not turns[1].answer.abstained
    for number, turn in enumerate(turns):
        if turn.answer.abstained:
            continue
        markers = sorted({c.marker for c in turn.answer.citations})
        assert markers == list(range(1, len(markers) + 1)), markers
        assert next(iter(marker_order(turn.answer.answer))) == 1  # the text reads [1] first
        assert f'href="#pa-src-{number}-1"' in turn.html and f'id="pa-src-{number}-1"' in turn.html


def test_follow_up_the_new_place_s_document_does_not_answer_is_refused(page):
    """汉中市's document mentions “互联网+” but no batch of price policies: citing it for
    汉中市要制定第几批“互联网+”医疗服务价格政策？ would answer another question."""
    turns = ask(page, "那汉中市呢？", ask(page, "四川省要制定第几批“互联网+”医疗服务价格政策？"))
    follow = turns[-1]
    assert "汉中市要制定第几批" in render.standalone_question(follow.answer)
    assert follow.answer.abstained and render.ABSTAIN_MESSAGE in follow.html


def test_refused_follow_up_still_shows_how_it_was_understood(page):
    turns = ask(page, QUESTION)
    turns = ask(page, "那杭州市呢？", turns)
    follow = turns[-1]
    assert follow.answer.abstained
    understood = render.standalone_question(follow.answer)
    assert "杭州市" in understood and understood != "那杭州市呢？"
    assert f"按上下文理解为：{understood}" in follow.html
    assert render.ABSTAIN_MESSAGE in follow.html


@pytest.mark.parametrize(("first", "follow_up"), [
    (QUESTION, "那开州区呢？"),  # refused: exported as an unanswerable question
    ("四川省要制定第几批“互联网+”医疗服务价格政策？", "那开州区呢？"),  # answered
])
def test_feedback_on_a_follow_up_exports_the_standalone_question_that_replays(
        page, first, follow_up):
    turns = ask(page, follow_up, ask(page, first))
    follow = turns[-1].answer
    standalone = render.standalone_question(follow)
    assert standalone != follow_up and "开州区" in standalone
    page.rate(turns, gr.LikeData(None, {"index": 3, "value": "", "liked": True}))
    _, files = page.export()
    gold_path = Path(files[0])
    line = json.loads(gold_path.read_text(encoding="utf-8").splitlines()[0])
    assert line["question"] == standalone
    (item,) = load_gold(gold_path)
    # Replayed as `assistant eval` does: the question alone, no conversation.
    assert item.answerable is not follow.abstained
    replay = page.assistant.ask(item.question)
    assert replay.abstained is follow.abstained
    assert [c.clause_id for c in replay.citations] == [c.clause_id for c in follow.citations]
    assert renumbered(replay).answer == follow.answer
    assert {(g.doc, g.clause) for g in item.gold} == {
        (c.number or c.title, c.label) for c in follow.citations}

"""The chat page's behaviour (ChatPage) over a real index of the sample corpus, without a browser.

The index uses the `hashing` test embedder (deterministic char n-gram hashing, not a real
model) so it builds in seconds; parser, store, answer pipeline and feedback store are real.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")

from assistant.errors import AssistantError
from assistant.models import Answer
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.ui import chat as chat_ui
from assistant.ui import render
from assistant.ui.chat import (
    ChatPage,
    Turn,
    available_backends,
    build_ui,
    history,
    make_filters,
    messages,
    turn_of_message,
)

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"
QUESTION = "四川省在哪些城市开展“三医”联动和系统集成改革试点？"
UNANSWERABLE = "杭州市2023年医保报销比例是多少？"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    from assistant.service import ingest_into_index

    directory = tmp_path_factory.mktemp("ui-index") / "index"
    report = ingest_into_index([CORPUS], Settings(index_dir=directory, embedder="hashing"))
    assert report.ok
    return directory


@pytest.fixture
def page(index_dir, tmp_path) -> ChatPage:
    settings = Settings(index_dir=index_dir, embedder="hashing",
                        feedback_db=tmp_path / "fb.sqlite3")
    return ChatPage(Assistant(settings))


def ask(page: ChatPage, question: str, turns=None, doc_ids=None, in_force=False):
    steps = list(page.respond(question, turns or [], doc_ids, in_force, None))
    return steps, steps[-1][1]


def like(liked: bool, index: int = 1) -> gr.LikeData:
    """What Gradio passes for a click on 👍 (True) or 👎 (False) under message `index`."""
    return gr.LikeData(None, {"index": index, "value": "", "liked": liked})


def test_answer_streams_then_renders_citation(page):
    steps, turns = ask(page, QUESTION)
    assert "pa-streaming" in steps[0][0][-1]["content"]  # the answer appears while it is produced
    final = turns[-1]
    assert isinstance(final.answer, Answer) and not final.answer.abstained
    assert final.answer.citations[0].rendered == "〔川办函〔2021〕56号 一、（一）〕"
    html = steps[-1][0][-1]["content"]
    assert 'href="#pa-src-0-1"' in html and "川办函〔2021〕56号" in html and "pa-badge-warn" in html
    assert steps[-1][2] == ""  # the input box is cleared


def test_unanswerable_question_abstains_with_plain_message(page):
    _, turns = ask(page, UNANSWERABLE)
    assert turns[-1].answer.abstained
    assert render.ABSTAIN_MESSAGE in turns[-1].html


def test_follow_up_is_answered_against_the_conversation(page):
    _, turns = ask(page, QUESTION)
    _, turns = ask(page, "那开州区呢？", turns)
    follow = turns[-1].answer
    assert len(turns) == 2 and follow.question == "那开州区呢？"
    # retrieval ran on the question rewritten from the previous turn, not on "那开州区呢？" alone
    assert any("追问已改写" in w and "开州区" in w and "试点" in w for w in follow.warnings)


def test_filters_reach_the_retriever(page):
    documents = page.assistant.documents()
    kaizhou = next(d for d in documents if d.number == "开州府办发〔2020〕109号")
    _, turns = ask(page, QUESTION, doc_ids=[kaizhou.doc_id])
    assert {s.doc.doc_id for s in turns[-1].answer.retrieved} == {kaizhou.doc_id}
    _, turns = ask(page, QUESTION, in_force=True)
    assert all(s.doc.in_force for s in turns[-1].answer.retrieved)


def test_empty_question_adds_no_turn_and_says_what_to_do(page):
    steps = list(page.respond("   ", [], None, False, None))
    assert len(steps) == 1 and steps[0][:2] == ([], [])
    assert "请先输入问题" in steps[0][3]


def test_too_long_question_is_kept_in_the_box_with_a_chinese_note(page):
    limit = page.assistant.settings.limits.max_question_chars
    long_question = "医保" * (limit // 2 + 50)
    steps = list(page.respond(long_question, [], None, False, None))
    assert len(steps) == 1
    chat, turns, box, notice = steps[0]
    assert chat == [] and turns == []  # nothing sent, no error bubble to rate
    assert isinstance(box, type(gr.skip()))  # the typed text stays where it is
    assert f"问题共 {len(long_question)} 字，超过了 {limit} 字的上限" in notice
    assert not re.search(r"[A-Za-z]", re.sub(r"<[^>]*>", "", notice))  # no English, no setting


def test_unknown_backend_is_a_chinese_message_and_the_question_comes_back(page):
    steps = list(page.respond(QUESTION, [], None, False, "no-such-backend"))
    _, turns, box, _ = steps[-1]
    last = turns[-1]
    assert last.answer is None and "pa-error" in last.html and "no-such-backend" not in last.html
    assert chat_ui.UNAVAILABLE in last.html and box == QUESTION


def test_every_request_refusal_has_staff_wording():
    from assistant.service.request_rules import RateLimited, RequestRules

    rules = RequestRules(Settings(embedder="hashing"))
    refusals = []
    for call in (lambda: rules.check_question(""), lambda: rules.check_question("问" * 9999),
                 lambda: rules.check_question("\ud800"),
                 lambda: rules.check_history([{"role": "user", "content": "问" * 9999}]),
                 lambda: rules.check_history([{"role": "user", "content": "问"}] * 999),
                 lambda: rules.check_history([{"role": "assistant", "content": "答" * 3000}] * 9)):
        with pytest.raises(AssistantError) as err:
            call()
        refusals.append(err.value)
    refusals.append(RateLimited("rate limit exceeded", 2.2))
    for err in refusals:
        said = chat_ui.staff_message(err)
        assert said != chat_ui.UNAVAILABLE and not re.search(r"[A-Za-z_]{2,}", said), said


def test_refresh_choices_sends_only_a_changed_document_list(page):
    *_, shown = page.refresh()
    assert all(isinstance(v, type(gr.skip())) for v in page.refresh_choices(shown))
    chat_picker, doc_picker, signature = page.refresh_choices("an older list")
    assert signature == shown and chat_picker["choices"] == doc_picker["choices"]
    assert len(chat_picker["choices"]) == len(page.assistant.documents())


def test_missing_index_is_reported_on_the_page(tmp_path):
    page = ChatPage(Assistant(Settings(index_dir=tmp_path / "none", embedder="hashing",
                                       feedback_db=tmp_path / "fb.sqlite3")))
    documents, problem = page.documents()
    assert documents == [] and problem
    steps = list(page.respond(QUESTION, [], None, False, None))
    assert "pa-error" in steps[-1][1][-1].html
    assert isinstance(build_ui(page.assistant), gr.Blocks)  # the page still builds


def test_rating_stores_a_row_and_reason(page):
    _, turns = ask(page, QUESTION)
    row_id, row_visible, _ = page.rate(turns, like(False))
    assert row_visible["visible"] is True
    page.save_reason(row_id, "漏了条款")
    con = sqlite3.connect(page.feedback.path)
    assert con.execute("SELECT rating, reason, question FROM feedback").fetchall() == [
        ("down", "漏了条款", QUESTION)]


def test_a_failed_feedback_store_is_said_in_chinese(page, monkeypatch):
    from assistant.service.feedback import FeedbackError

    def broken(*args, **kwargs):
        raise FeedbackError("无法打开反馈数据库 sqlite:///x：disk I/O error")

    monkeypatch.setattr(page.feedback, "export_jsonl", broken)
    summary, files = page.export()
    assert summary == chat_ui.FEEDBACK_UNAVAILABLE and files is None


def test_rating_an_error_message_stores_nothing(page):
    turns = [Turn("q", render.error_html("x"))]
    row_id, _, _ = page.rate(turns, like(True))
    assert row_id is None and page.feedback.rows() == []


def test_export_offers_both_files(page):
    _, turns = ask(page, QUESTION)
    page.rate(turns, like(True))
    summary, files = page.export()
    assert "1 条点赞" in summary and len(files) == 2
    assert (
        '"gold": [{"doc": "川办函〔2021〕56号", "clause": "一、（一）"}]'
        in Path(files[0]).read_text()
    )


def test_documents_tab_renders_metadata_and_tree(page):
    doc = next(d for d in page.assistant.documents() if d.number == "川办函〔2021〕56号")
    meta, tree = page.show_document(doc.doc_id)
    assert "四川省人民政府办公厅" in meta and "失效" in meta
    assert tree.count("<details") == len(doc.clauses)


def test_pure_helpers():
    answer = Answer(question="q1", answer="a1[1]", abstained=False, backend="extractive")
    turns = [Turn("q1", "<b>a1</b>", answer), Turn("q2", "err", None)]
    assert [m["role"] for m in messages(turns)] == ["user", "assistant"] * 2
    assert history(turns) == [{"role": "user", "content": "q1"},
                              {"role": "assistant", "content": "a1[1]"}]
    assert turn_of_message(3) == 1 and turn_of_message((5, 0)) == 2
    assert make_filters([], False) is None
    assert make_filters(["d1"], True).doc_ids == ["d1"]
    assert available_backends(Settings(embedder="hashing")) == ["extractive"]
    with_llm = Settings(embedder="hashing", backend="openai")
    assert available_backends(with_llm) == ["openai", "extractive"]

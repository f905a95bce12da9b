"""Feedback store: rows in SQLite with migrations, and export in the eval set's format."""

from __future__ import annotations

import json
import sqlite3

import pytest

from assistant.evaluation.dataset import load_gold
from assistant.models import Answer, Citation, DocStatus
from assistant.service.database import Database
from assistant.service.feedback import MIGRATIONS, FeedbackError, FeedbackStore, main


def cite(marker: int, number: str | None, title: str, label: str) -> Citation:
    return Citation(marker=marker, clause_id=f"c{marker}", doc_id="d", number=number, title=title,
                    status=DocStatus.REPEALED, path=[label], label=label, text="条款")


def answer(abstained: bool = False) -> Answer:
    cites = (
        []
        if abstained
        else [
            cite(
                1,
                "川办函〔2021〕56号",
                "关于推进医药卫生体制改革2021年重点工作的通知",
                "一、（一）",
            ),
            cite(
                2,
                None,
                "汉中市人民政府办公室关于加快推进深化医药卫生体制改革重点工作任务的通知",
                "五、",
            ),
        ]
    )
    return Answer(
        question="四川省在哪些城市开展“三医”联动和系统集成改革试点？",
        answer="根据现有文件无法回答该问题。" if abstained else "在自贡市、宜宾市开展试点[1][2]。",
        abstained=abstained,
        citations=cites,
        backend="extractive",
        settings_hash="abc",
    )


@pytest.fixture
def store(tmp_path):
    return FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")


def test_record_stores_question_answer_citations_and_rating(store):
    row_id = store.record(answer(), "down", "  引用的条款不对  ")
    con = sqlite3.connect(store.path)
    rating, reason, question, text, cites = con.execute(
        "SELECT rating, reason, question, answer, citations FROM feedback WHERE id = ?",
        (row_id,)).fetchone()
    assert (rating, reason) == ("down", "引用的条款不对")
    assert question.startswith("四川省") and text.endswith("[1][2]。")
    assert json.loads(cites)[0] == {"doc": "川办函〔2021〕56号", "clause": "一、（一）"}
    # a document without 文号 is named by its title, as the gold set does
    assert json.loads(cites)[1]["doc"].startswith("汉中市人民政府办公室")


def test_reason_can_be_added_later(store):
    row_id = store.record(answer(), "up")
    assert store.rows()[0].reason is None
    store.set_reason(row_id, "很准确")
    assert store.rows()[0].reason == "很准确"


def test_unknown_row_and_bad_rating_are_clear_errors(store):
    with pytest.raises(FeedbackError, match="没有编号为 99"):
        store.set_reason(99, "x")
    with pytest.raises(FeedbackError, match="up 或 down"):
        store.record(answer(), "meh")


def test_migrations_run_once_and_are_recorded(tmp_path):
    database = Database(tmp_path / "f.sqlite3")
    con = database.connect()
    assert database.migrate(con, MIGRATIONS) == [name for name, _ in MIGRATIONS]
    assert database.migrate(con, MIGRATIONS) == []
    names = [n for (n,) in con.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]


def test_export_writes_liked_answers_as_loadable_gold_lines(store, tmp_path):
    store.record(answer(), "up")
    store.record(answer(abstained=True), "up")
    store.record(answer(), "down", "错了")
    out = tmp_path / "gold.jsonl"
    assert store.export_jsonl(out) == 2
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert set(lines[0]) == {"id", "question", "answerable", "gold", "facts"}
    assert lines[0]["answerable"] is True and lines[0]["gold"][0] == {"doc": "川办函〔2021〕56号",
                                                                       "clause": "一、（一）"}
    assert lines[1] == {"id": lines[1]["id"], "question": lines[1]["question"],
                        "answerable": False, "gold": [], "facts": []}
    items = load_gold(out)  # the eval harness accepts the file as it is
    assert [i.answerable for i in items] == [True, False]


def test_review_export_holds_disliked_answers_with_reason(store, tmp_path):
    store.record(answer(), "up")
    store.record(answer(), "down", "漏了宜宾市")
    out = tmp_path / "review.jsonl"
    assert store.export_review_jsonl(out) == 1
    line = json.loads(out.read_text(encoding="utf-8"))
    assert line["rating"] == "down" and line["reason"] == "漏了宜宾市" and "[1]" in line["answer"]


def test_cli_exports(store, tmp_path, capsys):
    store.record(answer(), "up")
    store.record(answer(), "down")
    out, review = tmp_path / "o.jsonl", tmp_path / "r.jsonl"
    assert main(["--db", str(store.path), "--out", str(out), "--review", str(review)]) == 0
    assert len(out.read_text().splitlines()) == 1 and len(review.read_text().splitlines()) == 1
    assert "1 gold lines" in capsys.readouterr().out


def test_cli_refuses_missing_database(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "none.sqlite3"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "没有反馈数据库" in capsys.readouterr().out


def test_a_broken_database_file_is_a_clear_error(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(FeedbackError, match="反馈数据库"):
        FeedbackStore(path).record(answer(), "up")


def test_assistant_feedback_command_reads_the_configured_database(store, tmp_path, monkeypatch):
    from assistant.cli import main as assistant_main

    store.record(answer(), "up")
    monkeypatch.setenv("ASSISTANT_AUDIT__FEEDBACK_DB", str(store.path))
    out = tmp_path / "gold.jsonl"
    assert assistant_main(["feedback", "--out", str(out)]) == 0
    (line,) = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["gold"][0] == {"doc": "川办函〔2021〕56号", "clause": "一、（一）"}

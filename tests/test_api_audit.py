"""The audit log on SQLite: numbered migrations, upgrade in place, thread-safe writes."""

from __future__ import annotations

import sqlite3
import threading

from assistant.models import Answer, Citation
from assistant.service.audit import MIGRATIONS, AuditLog, key_id
from assistant.service.database import Database


def answer(question: str = "问题", cited: tuple[str, ...] = ("c1", "c2")) -> Answer:
    citations = [Citation(marker=i, clause_id=c, doc_id="d", number=None, title="t",
                          status=None, path=["一、"], label="一、", text="x")
                 for i, c in enumerate(cited, 1)]
    return Answer(question=question, answer="答", abstained=not cited, citations=citations,
                  backend="extractive", settings_hash="abc123")


def test_migrations_are_recorded_by_name_and_applied_once(tmp_path):
    database = Database(tmp_path / "a.sqlite3")
    db = database.connect()
    assert database.migrate(db, MIGRATIONS) == [name for name, _ in MIGRATIONS]
    assert database.migrate(db, MIGRATIONS) == []
    names = [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == ["m001_answers", "m002_endpoint_and_time_index"]


def test_an_old_log_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied TEXT)")
    for statement in MIGRATIONS[0][1]("sqlite"):
        db.execute(statement)
    db.execute("INSERT INTO _migrations VALUES ('m001_answers', 'then')")
    db.execute("INSERT INTO answers (time, key_id, question, cited, abstained, backend, "
               "latency_ms, settings_hash) VALUES ('t', 'k:1', '旧问题', '[]', 1, 'x', 1.0, 'h')")
    db.commit()
    db.close()
    log = AuditLog(path)
    log.record(key_id="k:2", answer=answer("新问题"), latency_ms=5, endpoint="/v1/ask")
    rows = log.recent()
    assert [r["question"] for r in rows] == ["新问题", "旧问题"]
    assert rows[0]["endpoint"] == "/v1/ask" and rows[1]["endpoint"] is None


def test_records_hold_what_the_issue_asks_for(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite3")
    log.record(key_id=key_id("secret-key"), answer=answer(), latency_ms=12.345)
    row = log.recent()[0]
    assert row["key_id"] == key_id("secret-key") != "secret-key"
    assert row["cited"] == ["c1", "c2"] and row["abstained"] is False
    assert row["backend"] == "extractive" and row["latency_ms"] == 12.35
    assert row["settings_hash"] == "abc123" and row["time"].endswith("+00:00")
    assert b"secret-key" not in (tmp_path / "audit.sqlite3").read_bytes()


def test_key_id_is_short_stable_and_distinct():
    assert key_id("a") == key_id("a") != key_id("b")
    assert len(key_id("a")) == 12 and key_id(None) is None and key_id("") is None


def test_concurrent_writes_all_land(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite3")

    def write(n: int) -> None:
        for i in range(25):
            log.record(key_id=f"k:{n}", answer=answer(f"{n}-{i}"), latency_ms=1)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log.recent(1000)) == 200

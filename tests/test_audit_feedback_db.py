"""Audit log and feedback on SQLite and on a real PostgreSQL (started by the tests).

Covers what replicas need: both stores by URL, migrations that race neither threads nor
processes on a fresh database, and an audit write that never fails or delays an answer.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from postgres_fixtures import postgres_server, postgres_url  # noqa: F401

from assistant.models import Answer, Citation
from assistant.service.audit import MIGRATIONS as AUDIT_MIGRATIONS
from assistant.service.audit import AuditLog
from assistant.service.database import Database, DatabaseError
from assistant.service.feedback import MIGRATIONS as FEEDBACK_MIGRATIONS
from assistant.service.feedback import FeedbackStore


def answer(question: str = "问题") -> Answer:
    cited = [Citation(marker=1, clause_id="c1", doc_id="d", number="川办函〔2021〕56号",
                      title="t", status=None, path=["一、"], label="一、", text="x")]
    return Answer(question=question, answer="答[1]", abstained=False, citations=cited,
                  backend="extractive", settings_hash="abc123")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def test_audit_rows_round_trip(url):
    log = AuditLog(url)
    log.record(key_id="k:1", answer=answer("一"), latency_ms=12.345, endpoint="/v1/ask")
    log.record(key_id=None, answer=answer("二"), latency_ms=1, endpoint="/v1/chat")
    rows = log.recent()
    assert [r["question"] for r in rows] == ["二", "一"]
    assert rows[1]["cited"] == ["c1"] and rows[1]["latency_ms"] == 12.35
    assert rows[1]["endpoint"] == "/v1/ask" and rows[0]["abstained"] is False
    assert log.stats() == {"written": 2, "dropped": 0, "pending": 0}
    log.close()


def test_feedback_round_trips(url, tmp_path):
    store = FeedbackStore(url)
    row_id = store.record(answer(), "down", "  引用不对 ")
    store.set_reason(row_id, "改了")
    store.record(answer(), "up")
    rows = store.rows()
    assert [(r.rating, r.reason) for r in rows] == [("down", "改了"), ("up", None)]
    assert rows[0].citations[0].doc == "川办函〔2021〕56号"
    assert store.export_jsonl(tmp_path / "gold.jsonl") == 1


def test_migrations_are_applied_once_and_recorded(url):
    database = Database(url)
    conn = database.connect()
    try:
        first = database.migrate(conn, AUDIT_MIGRATIONS + FEEDBACK_MIGRATIONS)
        assert first == [name for name, _ in AUDIT_MIGRATIONS + FEEDBACK_MIGRATIONS]
        assert database.migrate(conn, AUDIT_MIGRATIONS + FEEDBACK_MIGRATIONS) == []
    finally:
        conn.close()


def test_sixteen_threads_on_a_fresh_database_lose_no_rating(url):
    errors: list[Exception] = []

    def rate(n: int) -> None:
        store = FeedbackStore(url)  # each its own store: each runs the migrations
        for i in range(5):
            try:
                store.record(answer(f"{n}-{i}"), "up")
            except Exception as err:  # noqa: BLE001 - collected and shown below
                errors.append(err)

    threads = [threading.Thread(target=rate, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(FeedbackStore(url).rows()) == 80


def test_sixteen_threads_opening_fresh_sqlite_files_at_once_never_see_locked(tmp_path):
    # Switching a fresh file to WAL races for its exclusive lock, and SQLite reports that
    # race as "database is locked" without waiting (about 3 fresh files in 100 before the
    # retry): 300 files make the race all but certain to show if the retry goes.
    errors: list[Exception] = []
    for trial in range(300):
        database = Database(tmp_path / f"fresh{trial}.sqlite3")
        barrier = threading.Barrier(16)

        def open_close(database=database, barrier=barrier) -> None:
            barrier.wait()
            try:
                database.connect().close()
            except Exception as err:  # noqa: BLE001 - collected and shown below
                errors.append(err)

        threads = [threading.Thread(target=open_close) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    conn = sqlite3.connect(tmp_path / "fresh0.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_processes_opening_a_fresh_database_at_once_all_succeed(url):
    script = (
        "import sys; from test_audit_feedback_db import answer\n"
        "from assistant.service.feedback import FeedbackStore\n"
        "from assistant.service.audit import AuditLog\n"
        "log = AuditLog(sys.argv[1]); s = FeedbackStore(sys.argv[1])\n"
        "[s.record(answer(), 'up') for _ in range(3)]\n"
        "log.record(key_id=None, answer=answer(), latency_ms=1); log.close()\n"
        "assert log.stats()['written'] == 1, log.stats()\n"
    )
    tests_dir = str(__import__("pathlib").Path(__file__).parent)
    env = {**__import__("os").environ}
    env["PYTHONPATH"] = tests_dir + ":" + env.get("PYTHONPATH", "")
    processes = [subprocess.Popen([sys.executable, "-c", script, url], env=env,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
    failures = [p.communicate(timeout=120)[1] for p in processes if p.wait(timeout=120)]
    assert failures == []
    assert len(FeedbackStore(url).rows()) == 12 and len(AuditLog(url).recent(100)) == 4


def test_an_audit_write_never_waits_for_a_locked_database(tmp_path):
    path = tmp_path / "audit.sqlite3"
    log = AuditLog(path)
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")  # another process holding the log, longer than busy_timeout
    release = threading.Timer(6.0, lambda: locker.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    for i in range(10):
        log.record(key_id=None, answer=answer(f"q{i}"), latency_ms=1)
    assert time.monotonic() - started < 0.5  # today: 5 s, then "database is locked"
    release.join()
    assert log.flush(timeout=30)
    assert log.stats() == {"written": 10, "dropped": 0, "pending": 0}
    assert len(log.recent(50)) == 10
    locker.close()
    log.close()


def test_rows_that_cannot_be_written_are_counted_not_raised(tmp_path):
    folder = tmp_path / "not-a-file"
    folder.mkdir()  # a directory where the database file should be: every open fails
    log = AuditLog(folder, retry_delays_s=(0.01, 0.01))
    log.record(key_id=None, answer=answer(), latency_ms=1)
    assert log.flush(timeout=10)
    assert log.stats() == {"written": 0, "dropped": 1, "pending": 0}


def test_an_unsupported_url_is_a_clear_error():
    with pytest.raises(DatabaseError, match="unsupported database URL 'mysql://u:\\*\\*\\*@h/db'"):
        Database("mysql://u:secret@h/db")


def test_reading_sees_rows_another_log_of_this_process_queued(tmp_path):
    path = tmp_path / "audit.sqlite3"
    writer = AuditLog(path)
    reader = AuditLog(path)  # e.g. a test or CLI reading the server's log
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")  # writes wait (the row stays queued); reads go on
    release = threading.Timer(1.5, lambda: locker.execute("COMMIT"))
    release.start()
    writer.record(key_id=None, answer=answer("排队中"), latency_ms=1)
    assert [r["question"] for r in reader.recent()] == ["排队中"]
    release.join()
    locker.close()

"""Audit log: every answered request, in a database named by a URL (SQLite by default).

One row per answer: when, which key (a short hash, never the key itself), the question,
the clause ids it cited, whether it abstained, the backend, the latency, the settings
hash and the endpoint. The schema evolves only through `MIGRATIONS`, an append-only list
of numbered migrations recorded in `_migrations`, so opening an older log upgrades it.

Writing never fails or delays an answer: `record` puts the row on a queue and returns;
one writer thread stores rows in batches, retrying with back-off while the database is
locked or unreachable, and counts what it finally could not store (`stats()`, logged).

>>> log = AuditLog("postgresql://audit@db/assistant")               # doctest: +SKIP
>>> log.record(key_id="k:1a2b3c", answer=answer, latency_ms=42.0)    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
import weakref
from pathlib import Path

from assistant.models import Answer
from assistant.service.database import Database, Migration, now, primary_key
from assistant.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS: list[Migration] = [
    ("m001_answers", lambda dialect: [f"""
        CREATE TABLE answers (
            id {primary_key(dialect)},
            time TEXT NOT NULL,
            key_id TEXT,
            question TEXT NOT NULL,
            cited TEXT NOT NULL,
            abstained INTEGER NOT NULL,
            backend TEXT NOT NULL,
            latency_ms REAL NOT NULL,
            settings_hash TEXT
        )"""]),
    ("m002_endpoint_and_time_index", lambda dialect: [
        "ALTER TABLE answers ADD COLUMN endpoint TEXT",
        "CREATE INDEX answers_time ON answers (time)"]),
]
COLUMNS = ("time", "key_id", "question", "cited", "abstained", "backend", "latency_ms",
           "settings_hash", "endpoint")
INSERT = (f"INSERT INTO answers ({', '.join(COLUMNS)}) "
          f"VALUES ({', '.join('?' for _ in COLUMNS)})")
RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)  # ~16 s before a batch counts as lost
QUEUE_ROWS = 10_000
BATCH_ROWS = 500
_open_logs: weakref.WeakSet[AuditLog] = weakref.WeakSet()  # to flush before reading


def key_id(key: str | None) -> str | None:
    """A short, stable, non-reversible name for an API key."""
    if not key:
        return None
    return "k:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


class AuditLog:
    """Append-only log of answered requests, written behind the answers by one thread."""

    def __init__(self, target: str | Path, *, retry_delays_s=RETRY_DELAYS_S,
                 queue_rows: int = QUEUE_ROWS) -> None:
        self.database = Database(target)
        self.path = self.database.path
        self.retry_delays_s = tuple(retry_delays_s)
        self._queue: queue.Queue = queue.Queue(maxsize=queue_rows)
        self._idle = threading.Condition()
        self._pending = 0
        self.written = 0
        self.dropped = 0
        self._conn = None
        self._migrated = False
        try:
            self._connection()  # a locked or absent database only delays the first write
        except Exception as err:  # noqa: BLE001
            log.warning("audit log %s not ready yet (%s); writes will retry", self.database, err)
        self._writer = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._writer.start()
        _open_logs.add(self)

    # --- the request side: never blocks, never raises
    def record(self, *, key_id: str | None, answer: Answer, latency_ms: float,
               endpoint: str = "") -> None:
        cited = json.dumps([c.clause_id for c in answer.citations])
        row = (now("milliseconds"), key_id, answer.question, cited, int(answer.abstained),
               answer.backend, round(latency_ms, 2), answer.settings_hash, endpoint)
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._settle(0, 1)
            log.error("audit queue full: one row dropped (%d so far)", self.dropped)

    def stats(self) -> dict[str, int]:
        with self._idle:
            return {"written": self.written, "dropped": self.dropped, "pending": self._pending}

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every recorded row is written or dropped; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # --- the writer thread
    def _connection(self):
        if self._conn is None:
            conn = self.database.connect()
            try:
                if not self._migrated:
                    self.database.migrate(conn, MIGRATIONS)
                    self._migrated = True
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _run(self) -> None:
        while True:
            row = self._queue.get()
            if row is None:
                return
            batch = [row]
            while len(batch) < BATCH_ROWS:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            self._write(batch)

    def _write(self, batch: list[tuple]) -> None:
        for attempt, delay in enumerate((*self.retry_delays_s, None)):
            try:
                conn = self._connection()
                self.database.begin(conn)
                try:
                    for row in batch:
                        self.database.execute(conn, INSERT, row)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                self._settle(len(batch), 0)
                return
            except Exception as err:  # noqa: BLE001 - locked, gone, full: retry, then count
                self._reset()
                if delay is None:
                    self._settle(0, len(batch))
                    log.error("audit log %s: %d rows lost after %d attempts (%s); %d lost so far",
                              self.database, len(batch), attempt + 1, err, self.dropped)
                    return
                time.sleep(delay)

    def _reset(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001, S110 - already broken
                pass
            self._conn = None

    def _settle(self, written: int, dropped: int) -> None:
        with self._idle:
            self.written += written
            self.dropped += dropped
            self._pending -= written + dropped
            self._idle.notify_all()

    # --- reading
    def recent(self, limit: int = 20) -> list[dict]:
        """The latest rows, newest first, with `cited` decoded, after the rows every log of
        this process has queued for the same database are written."""
        for other in list(_open_logs):
            if str(other.database) == str(self.database):
                other.flush()
        conn = self.database.connect()
        try:
            if not self._migrated:
                self.database.migrate(conn, MIGRATIONS)
            rows = self.database.query(conn, "SELECT * FROM answers ORDER BY id DESC LIMIT ?",
                                       (limit,))
        finally:
            conn.close()
        for row in rows:
            row["cited"] = json.loads(row["cited"])
            row["abstained"] = bool(row["abstained"])
        return rows

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        self._queue.put(None)
        self._writer.join(timeout)
        self._reset()


def open_audit_log(settings: Settings) -> AuditLog | None:
    """The audit log the settings ask for, or None when `audit_enabled` is off."""
    return AuditLog(settings.audit_database) if settings.audit.audit_enabled else None

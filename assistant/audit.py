"""Audit log: every answered request, in SQLite (`settings.audit_path`).

One row per answer: when, which key (a short hash, never the key itself), the question,
the clause ids it cited, whether it abstained, the backend, the latency and the settings
hash. The schema evolves only through `MIGRATIONS`, an append-only list of named
functions; each applied name is recorded in the `_migrations` table, so opening an
older log upgrades it in place.

>>> log = AuditLog(Path("/tmp/audit.sqlite3"))                       # doctest: +SKIP
>>> log.record(key_id="k:1a2b3c", answer=answer, latency_ms=42.0)    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from assistant.models import Answer
from assistant.settings import Settings

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register a migration. Never edit or reorder one that has shipped: add a new one."""
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_answers(db: sqlite3.Connection) -> None:
    db.execute("""
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            key_id TEXT,
            question TEXT NOT NULL,
            cited TEXT NOT NULL,
            abstained INTEGER NOT NULL,
            backend TEXT NOT NULL,
            latency_ms REAL NOT NULL,
            settings_hash TEXT
        )""")


@migration
def m002_endpoint_and_time_index(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE answers ADD COLUMN endpoint TEXT")
    db.execute("CREATE INDEX answers_time ON answers (time)")


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied now."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        with db:  # each migration and its record commit together
            fn(db)
            db.execute("INSERT INTO _migrations VALUES (?, ?)", (fn.__name__, _now()))
        applied.append(fn.__name__)
    return applied


def key_id(key: str | None) -> str | None:
    """A short, stable, non-reversible name for an API key."""
    if not key:
        return None
    return "k:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class AuditLog:
    """Thread-safe append-only log of answered requests (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        migrate(self._db)

    def record(self, *, key_id: str | None, answer: Answer, latency_ms: float,
               endpoint: str = "") -> None:
        cited = json.dumps([c.clause_id for c in answer.citations])
        row = (_now(), key_id, answer.question, cited, int(answer.abstained), answer.backend,
               round(latency_ms, 2), answer.settings_hash, endpoint)
        with self._lock:
            self._db.execute(
                "INSERT INTO answers (time, key_id, question, cited, abstained, backend, "
                "latency_ms, settings_hash, endpoint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    def recent(self, limit: int = 20) -> list[dict]:
        """The latest rows, newest first, with `cited` decoded."""
        with self._lock:
            cursor = self._db.execute("SELECT * FROM answers ORDER BY id DESC LIMIT ?", (limit,))
            names = [c[0] for c in cursor.description]
            rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        for row in rows:
            row["cited"] = json.loads(row["cited"])
            row["abstained"] = bool(row["abstained"])
        return rows

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_audit_log(settings: Settings) -> AuditLog | None:
    """The audit log the settings ask for, or None when `audit_enabled` is off."""
    return AuditLog(settings.audit_path) if settings.audit_enabled else None

"""A database named by a URL, for the audit log and feedback: SQLite or PostgreSQL.

    sqlite:////abs/path/audit.sqlite3  (or a plain path)   one machine, the default
    postgresql://user:pw@host:5432/db                      shared by API replicas

Plain DB-API (sqlite3, psycopg 3) with `?` placeholders, translated for PostgreSQL.
Schemas change only by numbered migrations, applied race-free: the whole run holds
SQLite's write lock (BEGIN IMMEDIATE) or a PostgreSQL advisory lock, so threads and
processes opening a fresh database at once apply each migration exactly once.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

# A migration: (name, dialect -> SQL statements). Names are recorded in `_migrations`.
Migration = tuple[str, Callable[[str], Sequence[str]]]
MIGRATION_LOCK = 0x6D696772  # advisory-lock key of the migration run ("migr")
SQLITE_BUSY_MS = 5000


class DatabaseError(AssistantError):
    """A database URL that cannot be used; the message says why."""


def primary_key(dialect: str, autoincrement: bool = False) -> str:
    if dialect == "postgresql":
        return "BIGSERIAL PRIMARY KEY"
    return "INTEGER PRIMARY KEY AUTOINCREMENT" if autoincrement else "INTEGER PRIMARY KEY"


class Database:
    """Where one store lives; `connect()` gives a fresh DB-API connection in autocommit."""

    def __init__(self, target: str | Path) -> None:
        text = str(target)
        if isinstance(target, Path) or "://" not in text:
            self.dialect, self.path, self.url = "sqlite", Path(text), ""
        elif text.startswith("sqlite:///"):
            # as SQLAlchemy: sqlite:///relative/path, sqlite:////absolute/path
            self.dialect, self.path, self.url = "sqlite", Path(text[len("sqlite:///"):]), ""
        elif text.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            self.dialect, self.path = "postgresql", None
            self.url = text.replace("postgresql+psycopg://", "postgresql://", 1)
        else:
            raise DatabaseError(f"unsupported database URL {redact(text)!r}: use sqlite:///path "
                                "or postgresql://user:password@host:port/database")

    def __str__(self) -> str:
        return str(self.path) if self.dialect == "sqlite" else redact(self.url)

    def connect(self):
        if self.dialect == "sqlite":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _private_file(self.path)
            conn = sqlite3.connect(self.path, timeout=SQLITE_BUSY_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
            try:
                conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
                _use_wal(conn)
            except BaseException:
                conn.close()
                raise
            return conn
        import psycopg  # optional dependency: only for a PostgreSQL database

        return psycopg.connect(self.url, autocommit=True, connect_timeout=10)

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dialect == "postgresql" else statement

    def execute(self, conn, statement: str, params: Sequence[Any] = ()):
        return conn.execute(self.sql(statement), tuple(params))

    def query(self, conn, statement: str, params: Sequence[Any] = ()) -> list[dict]:
        cursor = conn.execute(self.sql(statement), tuple(params))
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def begin(self, conn) -> None:
        """Start a transaction that holds the write lock (SQLite) from its first statement."""
        conn.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")

    def migrate(self, conn, migrations: Sequence[Migration]) -> list[str]:
        """Apply the migrations not yet recorded, in order, in one locked transaction."""
        self.begin(conn)
        try:
            if self.dialect == "postgresql":
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS _migrations"
                         " (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
            done = {row["name"] for row in self.query(conn, "SELECT name FROM _migrations")}
            applied = []
            for name, statements in migrations:
                if name in done:
                    continue
                for statement in statements(self.dialect):
                    conn.execute(statement)
                self.execute(conn, "INSERT INTO _migrations VALUES (?, ?)", (name, now()))
                applied.append(name)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return applied


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a database file to WAL (once: the mode is stored in the file).

    Switching needs the file's exclusive lock, and SQLite answers "database is locked" at
    once, without its busy handler, when connections opening a fresh file race for it:
    so the switch is retried, with jitter, within the same busy budget.
    """
    deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(random.uniform(0.005, 0.05))


def _private_file(path: Path) -> None:
    """Create the database file 0600 (every question, every reason is in it) whatever the
    umask; SQLite gives its -wal and -shm files the same mode. An existing file is left
    alone (another process may be using it)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError:
        pass  # sqlite3.connect reports the problem with its own message


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def now(timespec: str = "seconds") -> str:
    return datetime.now(timezone.utc).isoformat(timespec=timespec)

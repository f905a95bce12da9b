"""Staff feedback (👍/👎 with an optional reason) on answers, in a database named by a URL
(SQLite by default, PostgreSQL when API replicas share it; see assistant/service/database.py).

Each row stores the question, the answer text and its citations, so a liked answer can
become a gold question: `export_jsonl` writes 👍 rows in the eval set's format
(`{"id", "question", "answerable", "gold": [{"doc", "clause"}], "facts": []}`, see
assistant/evaluation/dataset.py); `export_review_jsonl` writes 👎 rows for a person to fix.
The schema grows only by appending numbered migrations, applied race-free across
threads and processes.

    python -m assistant.service.feedback --out feedback.jsonl [--review review.jsonl]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from assistant.errors import AssistantError
from assistant.models import Answer
from assistant.service.database import Database, DatabaseError, Migration, now, primary_key

Rating = Literal["up", "down"]

MIGRATIONS: list[Migration] = [
    ("001_feedback", lambda dialect: [f"""
        CREATE TABLE feedback (
            id {primary_key(dialect, autoincrement=True)},
            created TEXT NOT NULL,
            rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
            reason TEXT,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            abstained INTEGER NOT NULL,
            citations TEXT NOT NULL,
            backend TEXT,
            settings_hash TEXT
        )"""]),
    ("002_feedback_created_index", lambda dialect: [
        "CREATE INDEX feedback_created ON feedback (created)"]),
]

MAX_REASON_CHARS = 1000


class FeedbackError(AssistantError):
    """Feedback that cannot be stored or exported; the message says why."""


class CitedClause(BaseModel):
    doc: str = Field(description="文号, or the title of a document without one")
    clause: str = Field(description="display label, e.g. 一、（一）")


class FeedbackRow(BaseModel):
    id: int
    created: str
    rating: Rating
    reason: str | None
    question: str
    answer: str
    abstained: bool
    citations: list[CitedClause]
    backend: str | None
    settings_hash: str | None

    def gold_item(self) -> dict:
        """This row as an eval gold line: what was cited on a 👍 answer is the gold."""
        gold = [] if self.abstained else [c.model_dump() for c in self.citations]
        return {"id": f"feedback-{self.id}", "question": self.question,
                "answerable": not self.abstained, "gold": gold, "facts": []}


class FeedbackStore:
    """Feedback rows in one database, created (and migrated) on first use.

    >>> store = FeedbackStore(Path("feedback.sqlite3"))   # or "postgresql://…"
    >>> row_id = store.record(answer, "down", "引用的条款不对")
    >>> store.export_jsonl(Path("gold-from-staff.jsonl"))
    """

    def __init__(self, target: str | Path) -> None:
        try:
            self.database = Database(target)
        except DatabaseError as err:
            raise FeedbackError(str(err)) from None
        self.path = self.database.path
        self._migrated = False

    @contextmanager
    def _connect(self) -> Iterator:
        # One short connection per call: the chat page calls from several worker threads.
        try:
            conn = self.database.connect()
        except Exception as err:  # noqa: BLE001 - sqlite3, psycopg and OS errors alike
            raise FeedbackError(f"无法打开反馈数据库 {self.database}：{err}") from None
        try:
            if not self._migrated:
                self.database.migrate(conn, MIGRATIONS)
                self._migrated = True
            yield conn
        except FeedbackError:
            raise
        except Exception as err:  # noqa: BLE001
            raise FeedbackError(f"反馈数据库 {self.database} 出错：{err}") from None
        finally:
            conn.close()

    def record(self, answer: Answer, rating: Rating, reason: str | None = None) -> int:
        """Store one rating of `answer`; returns the row id."""
        if rating not in ("up", "down"):
            raise FeedbackError(f"评价只能是 up 或 down，收到 {rating!r}")
        cited = [CitedClause(doc=c.number or c.title, clause=c.label).model_dump()
                 for c in answer.citations]
        with self._connect() as conn:
            (row,) = self.database.query(
                conn,
                "INSERT INTO feedback (created, rating, reason, question, answer, abstained,"
                " citations, backend, settings_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id",
                (now(), rating, _clean_reason(reason), answer.question, answer.answer,
                 int(answer.abstained), json.dumps(cited, ensure_ascii=False), answer.backend,
                 answer.settings_hash))
            return int(row["id"])

    def set_reason(self, row_id: int, reason: str | None) -> None:
        with self._connect() as conn:
            cursor = self.database.execute(conn, "UPDATE feedback SET reason = ? WHERE id = ?",
                                           (_clean_reason(reason), row_id))
            changed = cursor.rowcount
        if changed == 0:
            raise FeedbackError(f"没有编号为 {row_id} 的反馈")

    def rows(self, rating: Rating | None = None) -> list[FeedbackRow]:
        query, params = "SELECT * FROM feedback", ()
        if rating is not None:
            query, params = query + " WHERE rating = ?", (rating,)
        with self._connect() as conn:
            found = self.database.query(conn, query + " ORDER BY id", params)
        return [_row(r) for r in found]

    def export_jsonl(self, path: Path) -> int:
        """Write 👍 rows as eval gold lines; returns how many were written."""
        return _write_jsonl(path, [r.gold_item() for r in self.rows("up")])

    def export_review_jsonl(self, path: Path) -> int:
        """Write 👎 rows (gold fields as answered, with answer and reason) for correction."""
        lines = [{**r.gold_item(), "rating": r.rating, "reason": r.reason, "answer": r.answer}
                 for r in self.rows("down")]
        return _write_jsonl(path, lines)


def _row(record: dict) -> FeedbackRow:
    data = dict(record)
    data["citations"] = json.loads(data["citations"])
    data["abstained"] = bool(data["abstained"])
    return FeedbackRow(**data)


def _clean_reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    return text[:MAX_REASON_CHARS] or None


def _write_jsonl(path: Path, lines: list[dict]) -> int:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for line in lines:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    except OSError as err:
        raise FeedbackError(f"无法写入 {path}：{err}") from None
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    """Export feedback from the command line (uses the ASSISTANT_* settings)."""
    from assistant.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m assistant.service.feedback", description=main.__doc__
    )
    parser.add_argument("--db", help="feedback database, a path or URL "
                        "(default: ASSISTANT_AUDIT__FEEDBACK_URL, else settings.feedback_path)")
    parser.add_argument("--out", type=Path, required=True,
                        help="JSONL of 👍 answers as gold questions")
    parser.add_argument("--review", type=Path, help="also write 👎 answers here for review")
    args = parser.parse_args(argv)
    target = args.db or Settings().feedback_database
    try:
        store = FeedbackStore(target)
        if store.path is not None and not store.path.exists():
            print(f"error: 没有反馈数据库 {store.path}（还没有人提交过反馈？）")
            return 2
        print(f"{store.export_jsonl(args.out)} gold lines → {args.out}")
        if args.review:
            print(f"{store.export_review_jsonl(args.review)} review lines → {args.review}")
    except FeedbackError as err:
        print(f"error: {err}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

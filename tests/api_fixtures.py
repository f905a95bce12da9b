"""Shared fixtures for the API tests: a real index of the sample corpus, real uvicorn servers.

The index uses the `hashing` test embedder (deterministic char n-gram hashing, not a real
model) so it builds in seconds; everything else (parser, store, answer pipeline, FastAPI,
uvicorn, httpx) is the real thing. Import the fixtures by name into a test module.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.api.app import create_app
from assistant.api.server import LiveServer
from assistant.settings import Settings

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"
READ_KEY = "read-key-for-tests"
ADMIN_KEY = "admin-key-for-tests"
READ = {"Authorization": f"Bearer {READ_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
# Names a 文号 and a clause, so retrieval routes to it whatever the (test) embedder ranks.
QUESTION = "川办函〔2021〕56号 一、（一）的内容是什么？"


def api_settings(index_dir: Path, **overrides) -> Settings:
    values = {"index_dir": index_dir, "corpus_dir": CORPUS, "embedder": "hashing",
              "api_keys": READ_KEY, "admin_keys": ADMIN_KEY, "rate_limit_per_minute": 0,
              "audit_db": index_dir.parent / f"audit-{index_dir.name}.sqlite3"}
    return Settings(**{**values, **overrides})


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """The five sample documents, indexed once per test session (do not modify it)."""
    from assistant.service import ingest_into_index

    index_dir = tmp_path_factory.mktemp("api") / "index"
    report = ingest_into_index([CORPUS], api_settings(index_dir))
    assert len(report.documents) == 5, report
    return index_dir


@pytest.fixture
def index_copy(corpus_index, tmp_path) -> Path:
    """A private copy of the corpus index that a test may change."""
    target = tmp_path / "index"
    shutil.copytree(corpus_index, target)
    return target


def live(settings: Settings):
    return LiveServer(create_app(settings))


@pytest.fixture(scope="module")
def server(corpus_index) -> Iterator[str]:
    """A read-only server on the shared index, keys required."""
    with live(api_settings(corpus_index)) as url:
        yield url


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, headers=READ, timeout=60) as http:
        yield http


def sse_events(body: str) -> list[tuple[str | None, str]]:
    """(event, data) per Server-Sent Event, data lines joined with newlines."""
    events = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        events.append((name, "\n".join(data)))
    return events


def sse_json(body: str) -> list[tuple[str | None, object]]:
    return [(name, data if data == "[DONE]" else json.loads(data))
            for name, data in sse_events(body)]


def policy_text(number: str, title: str, topic: str) -> str:
    """A small but complete policy document, as a user would upload it."""
    return (f"{title}\n{number}\n各区县人民政府，市政府各部门：\n"
            f"为推进{topic}工作，现将有关事项通知如下。\n"
            f"一、总体要求\n（一）开展{topic}试点。在三个街道开展{topic}试点，年底前完成评估。\n"
            f"（二）加强{topic}保障。市财政局负责落实{topic}经费。\n"
            f"二、组织实施\n各单位要按照本通知要求抓好{topic}落实。\n"
            "测试市人民政府办公室\n2026年3月1日\n")

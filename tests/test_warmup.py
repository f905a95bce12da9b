"""Warm-up: after it, what the first ask needs is loaded; a second call does nothing."""

from __future__ import annotations

from pathlib import Path

from assistant.answer import tokens
from assistant.ingest.document import build_document
from assistant.service import Assistant
from assistant.service.warmup import warm_up
from assistant.settings import Settings
from assistant.stores.backends import write_index

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


def test_warm_up_loads_every_part_once(tmp_path):
    settings = Settings(embedder="hashing", index_dir=tmp_path / "index")
    path = min(CORPUS.glob("*.txt"))
    write_index([build_document(path.read_text(encoding="utf-8"), path.name)], settings,
                replace_all=True)
    assistant = Assistant(settings)
    timings = warm_up(assistant)
    assert set(timings) == {"index", "embedder", "jieba", "tiktoken", "first_ask"}
    assert all(ms >= 0 for ms in timings.values())
    assert tokens.encoding.cache_info().currsize == 1  # tiktoken's encoding is loaded

    import jieba.posseg

    assert jieba.posseg.dt.tokenizer.initialized  # the tagger's dictionary too
    assert warm_up(assistant) == {}


def test_warm_up_without_an_index_says_so_through_the_error(tmp_path):
    import pytest

    from assistant.errors import AssistantError

    with pytest.raises(AssistantError):
        warm_up(Assistant(Settings(embedder="hashing", index_dir=tmp_path / "none")))

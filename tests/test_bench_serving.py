"""`assistant bench --parts serving`: the ratios and targets it prints and the upload it
makes. (The run itself is a benchmark, not a test: `run_load` and `run_load_while` are
tested in test_api_load.py against a real server.)"""

from __future__ import annotations

from pathlib import Path

from assistant.bench import perf
from assistant.ingest.document import build_document
from assistant.stores.passages import clause_passages

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


def _result(single=20.0, many=40.0, p95_50=900.0, ask_p50=30.0, bare=25.0, idle=100.0,
            upload=150.0, first=80.0, cpu_per_ask=50.0, embedding_cpu=40.0) -> dict:
    row = lambda rate, p50=50.0, p95=100.0: {"requests_per_s": rate, "p50_ms": p50,
                                             "p95_ms": p95}
    return {"load": {1: {**row(single, ask_p50), "server_cpu_per_ask_ms": cpu_per_ask},
                     16: row(many), 50: row(many, p95=p95_50)},
            "crowd_100_clients": {"dropped": 1, "errors": 0, "shed": 30},
            "bare_query_embedding": {"p50_ms": bare, "cpu_ms": embedding_cpu}, "cores": 2,
            "idle_4_clients": {"p95_ms": idle},
            "during_upload_4_clients": {"p95_ms": upload}, "first_ask_after_ready_ms": first}


def test_ratios_are_the_targets_quantities():
    ratios = perf.serving_ratios(_result())
    # 2 cores / 50 ms CPU per ask = a ceiling of 40 asks/s; 16 clients reach 40
    assert ratios == {"throughput_16_vs_1": 2.0, "throughput_50_vs_1": 2.0,
                      "throughput_16_vs_cpu_ceiling": 1.0,
                      "server_cpu_per_ask_vs_embedding": 1.25,
                      "p95_50_clients_ms": 900.0, "ask_p50_vs_bare_embedding": 1.2,
                      "upload_p95_vs_idle": 1.5, "first_ask_after_ready_ms": 80.0,
                      "dropped_100_clients": 1, "unexplained_failures_100_clients": 0}
    assert set(ratios) == set(perf.SERVING_TARGETS)


def test_server_cpu_is_read_from_proc():
    import os
    import time

    before = perf.process_cpu_s(os.getpid())
    end = time.process_time() + 0.2
    while time.process_time() < end:  # burn 0.2 s of CPU in this process
        pass
    assert 0.15 <= perf.process_cpu_s(os.getpid()) - before <= 1.0
    assert perf.cores_available() >= 1


def test_targets_are_judged_in_their_direction():
    assert perf._meets(1.9, ">=", 1.8) and not perf._meets(1.7, ">=", 1.8)
    assert perf._meets(140.0, "<=", 150.0) and not perf._meets(151.0, "<=", 150.0)


def test_the_uploaded_document_shares_no_passage_with_the_corpus():
    name, body = perf.fresh_document(CORPUS, "123456")
    fresh = build_document(body.decode("utf-8"), name)
    largest = max(sorted(CORPUS.glob("*.txt")), key=lambda p: p.stat().st_size)
    original = build_document(largest.read_text(encoding="utf-8"), largest.name)
    texts = lambda doc: {t for c in doc.clauses for t in clause_passages(c, doc.info())}
    assert len(fresh.clauses) == len(original.clauses)  # the same structure, parsed alike
    shared = texts(fresh) & texts(original)
    assert len(shared) <= 0.1 * len(texts(fresh))  # nearly every passage must be embedded


def test_each_load_run_asks_questions_no_earlier_run_asked():
    """Runs against one server share its query-embedding cache: a run labelled apart asks
    other questions (the idle run once repeated the load runs' and was served from it)."""
    from assistant.bench.loadtest import question

    runs = ["c1-", "c16-", "idle-", "upload-"]
    asked = [{question(client, n, False, run) for client in range(16) for n in range(40)}
             for run in runs]
    for i, one in enumerate(asked):
        for other in asked[i + 1:]:
            assert not one & other
    assert question(3, 5, True, "idle-") == question(3, 5, True)  # repeats stay repeats

"""A small version of the load run (python -m assistant.bench.loadtest): zero errors.

The full run (50 clients × 20 asks) is a benchmark script, not a timed test; its numbers
are in the README (HTTP API). Index: sample corpus with the `hashing` test embedder.
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

from api_fixtures import READ_KEY, api_settings, corpus_index, live  # noqa: F401

from assistant.bench.loadtest import LoadResult, first_ask_ms, main, run_load, run_load_while


def test_small_load_run_has_no_errors(corpus_index):
    with live(api_settings(corpus_index, audit_enabled=False)) as url:
        result = run_load(url, clients=8, asks=5, key=READ_KEY)
    assert result.errors == [] and len(result.latencies_ms) == 40
    assert 0 < result.percentile(0.5) <= result.percentile(0.95)


def test_load_script_prints_throughput_and_latency(corpus_index, capsys):
    with live(api_settings(corpus_index, audit_enabled=False)) as url:
        code = main(["--url", url, "--clients", "3", "--asks", "2", "--key", READ_KEY])
    out = capsys.readouterr().out
    assert code == 0
    for label in ("throughput:", "latency p50:", "latency p95:", "errors:         0"):
        assert label in out


def test_load_run_counts_errors(corpus_index):
    with live(api_settings(corpus_index, audit_enabled=False)) as url:
        result = run_load(url, clients=2, asks=2, key="wrong-key")
    assert len(result.errors) == 4 and "HTTP 401" in result.errors[0]
    gone = run_load(url, clients=1, asks=1)  # server stopped: no response at all
    assert len(gone.dropped) == 1 and gone.errors == [] and gone.failed
    assert main(["--url", url, "--clients", "1", "--asks", "1"]) == 1


def test_percentiles():
    result = LoadResult(1, 1, 1.0, latencies_ms=[float(n) for n in range(1, 101)])
    assert result.percentile(0.5) in (50.0, 51.0) and result.percentile(0.95) in (95.0, 96.0)


def test_load_while_work_runs_keeps_asking_until_it_ends(corpus_index):
    import threading

    done = threading.Event()
    with live(api_settings(corpus_index, audit_enabled=False)) as url:
        result = run_load_while(url, lambda: done.wait(1.0), clients=2, key=READ_KEY)
        first = first_ask_ms(url, key=READ_KEY)
    assert result.errors == [] and result.requests >= 2
    assert result.seconds >= 1.0  # the clients asked for as long as the work ran
    assert first > 0


def test_an_explained_refusal_is_shed_not_an_error():
    import time

    import httpx

    from assistant.bench.loadtest import _record

    result = LoadResult(1, 3, 1.0)
    started = time.perf_counter()
    _record(result, httpx.Response(503, headers={"Retry-After": "2"}, json={}), started)
    _record(result, httpx.Response(503, json={"detail": "busy"}), started)  # no Retry-After
    _record(result, httpx.Response(200, json={"answer": "…"}), started)
    assert result.shed == 1 and len(result.errors) == 1 and len(result.latencies_ms) == 1
    assert result.requests == 3 and result.failed

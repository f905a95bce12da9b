"""`assistant bench --parts judge`: whole warm asks with the judge off and on, each
embedding its own question, reported against the judge's latency targets. Real index of
the sample corpus, the real judge; two questions, so it measures nothing but must run."""

from __future__ import annotations

import json

from assistant.cli import main


def test_judge_bench_times_asks_with_the_judge_off_and_on(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ASSISTANT_PATHS__CACHE_DIR", str(tmp_path / "cache"))
    assert main(["--index-dir", str(tmp_path / "index"), "--embedder", "hashing", "bench",
                 "--parts", "judge", "--queries", "2", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)["judge"]
    assert result["questions"] == 2
    off, on = result["judge_off"], result["judge_on"]
    # The judge reads up to four (question, clause) pairs per ask: it costs time.
    assert on["p50_ms"] > off["p50_ms"] > 0
    assert set(result["targets"]) == {"p50_ms", "p95_ms"}
    assert result["targets"]["p50_ms"]["met"] is (on["p50_ms"] <= 250.0)
    assert "judge on p50_ms" in captured.err

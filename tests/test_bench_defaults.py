"""`assistant bench` with its default parts, as a new user runs it, at a small scale.

Every part runs for real (sample corpus, scaling, embedders, a spawned `assistant serve`,
OCR of a generated 3-page scan),
only smaller: 1 000 and 12 000 synthetic vectors, with the IVF threshold lowered to
10 000 so the largest size takes the IVF path the default 10^6 takes (it once crashed
there reading HNSW parameters off an IVF index), the `hashing` test embedder for the
sample and serving parts, and a few timed questions.
"""

from __future__ import annotations

import json

import pytest

from assistant.cli import main
from assistant.stores.faiss import dense

pytestmark = pytest.mark.slow


def test_bench_defaults_run_every_part_through_the_ivf_size(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(dense, "IVF_MIN", 10_000)
    monkeypatch.setenv("ASSISTANT_PATHS__CACHE_DIR", str(tmp_path / "cache"))
    assert main(["--index-dir", str(tmp_path / "index"), "--embedder", "hashing", "bench",
                 "--sizes", "1000,12000", "--queries", "3", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert set(result) == {"sample", "scaling", "embedders", "serving", "ocr", "machine"}
    small, large = result["scaling"]["sizes"]
    assert small["approx_index"] == "hnsw-ip" and large["approx_index"] == "ivf-flat-ip"
    assert large["approx_params"]["nprobe"] >= dense.IVF_MIN_PROBES
    assert 0.8 <= large["approx_recall_at_10"] <= 1.0
    assert result["sample"]["queries"] == 3 and result["sample"]["errors"] == 0
    assert any(row.get("clauses_per_s") for row in result["embedders"])
    assert result["serving"]["load"]["1"]["errors"] == 0
    assert result["ocr"]["pages"] == 3 and result["ocr"]["pages_per_s"] > 0
    # Progress and numbers go to stderr in words; no library's bar or start-up log lines.
    assert "Traceback" not in captured.err and "it/s" not in captured.err
    assert "Building prefix dict" not in captured.err

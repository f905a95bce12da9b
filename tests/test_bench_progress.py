"""`assistant bench` reports progress during its long steps, on stderr only.

Real benchmark code at tiny sizes: 1 000 synthetic vectors, the sample corpus with the
hashing test embedder.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.bench import perf
from assistant.cli import main
from assistant.commands.bench import step_progress
from assistant.settings import Settings

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


class Steps:
    """Records every progress call: (description, done, total)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None]] = []

    def __call__(self, description: str, done: int, total: int | None) -> None:
        self.calls.append((description, done, total))

    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _, _ in self.calls))


def test_scaling_reports_each_build_and_query_loop():
    steps = Steps()
    perf.bench_scaling([1000], step=steps)
    names = steps.names()
    assert names == ["1000: generating vectors", "1000: exact index build",
                     "1000: exact queries", "1000: HNSW build (the longest step)",
                     "1000: HNSW queries"]
    counted = [c for c in steps.calls if c[0] == "1000: HNSW queries"]
    assert counted[0][1:] == (0, 200) and counted[-1][1:] == (199, 200)


def test_sample_reports_ingest_stages_and_question_count(tmp_path):
    steps = Steps()
    settings = Settings(embedder="hashing", index_dir=tmp_path / "index", corpus_dir=CORPUS,
                        cache_dir=tmp_path / "cache")
    row = perf.bench_sample(settings, ["医保支付方式改革", "家庭医生签约服务"], step=steps)
    assert row["queries"] == 2
    names = steps.names()
    assert any(name.startswith("cold ingest: embed") for name in names), names
    assert "timing questions" in names
    assert ("timing questions", 1, 2) in steps.calls


def test_progress_display_accepts_counted_and_uncounted_steps():
    with step_progress() as step:
        step("HNSW build", 0, None)
        step("queries", 5, 10)
        step("queries", 10, 10)


def test_bench_json_on_stdout_stays_clean(capsys):
    assert main(["bench", "--parts", "scaling", "--sizes", "1000", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["scaling"]["sizes"][0]["clauses"] == 1000

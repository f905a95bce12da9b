"""Library-level scores of versions and validity, from one eval run's index.

- status accuracy: the status each document is shown with (after the library pass) against
  the status in effect written by reading: eval/versions-status.json for the version pairs,
  eval/corpus-dev-truth.json (the stated status) for the other development documents;
- alignment accuracy: `assistant compare` on each revision pair of eval/versions-alignment.json
  (old article → new article, read by hand), articles mapped right / all sampled articles.

Documents are matched to the truth by file name; what the index does not hold is skipped
and counted, so a run over the sample corpus alone reports on what it has.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.compare import compare
from assistant.evaluation import metrics
from assistant.models import Document

EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"
STATUS_FILES = ("corpus-dev-truth.json", "versions-status.json")  # later files win
ALIGNMENT_FILE = "versions-alignment.json"


def status_truth(folder: Path = EVAL_DIR) -> dict[str, str | None]:
    """File name → the status in effect (None: nothing to flag)."""
    truth: dict[str, str | None] = {}
    for name in STATUS_FILES:
        for entry in json.loads((folder / name).read_text(encoding="utf-8"))["documents"]:
            truth[Path(entry["file"]).name] = entry["status"]
    return truth


def library_scores(documents: list[Document], folder: Path = EVAL_DIR) -> dict:
    truth = status_truth(folder)
    pairs = [(d.status.value if d.status else None, truth[d.source])
             for d in documents if d.source in truth]
    wrong = [f"{d.source}: {d.status.value if d.status else None} ≠ {truth[d.source]}"
             for d in documents if d.source in truth
             and (d.status.value if d.status else None) != truth[d.source]]
    right, total, aligned = _alignment(documents, folder)
    return {"status_accuracy": metrics.status_accuracy(pairs), "status_documents": len(pairs),
            "status_wrong": wrong, "alignment_accuracy": right / total if total else None,
            "alignment_articles": total, "alignment_pairs": aligned}


def _alignment(documents: list[Document], folder: Path) -> tuple[int, int, int]:
    gold = json.loads((folder / ALIGNMENT_FILE).read_text(encoding="utf-8"))["pairs"]
    by_source = {d.source: d for d in documents}
    right = total = aligned = 0
    for pair in gold:
        old, new = by_source.get(pair["old"]), by_source.get(pair["new"])
        if old is None or new is None:
            continue
        hit, count = metrics.alignment_accuracy(compare(old, new).matched(), pair["map"])
        right, total, aligned = right + hit, total + count, aligned + 1
    return right, total, aligned

"""The development truth file: every value exact for every document that is present.

eval/corpus-dev-truth.json was written by reading each document (24 in ../shared/corpus-dev,
the five samples in index/corpus). Documents outside the repository are skipped when absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.ingest.truth import score_document

ROOT = Path(__file__).resolve().parent.parent
TRUTH = ROOT / "eval" / "corpus-dev-truth.json"
ENTRIES = json.loads(TRUTH.read_text(encoding="utf-8"))["documents"]


def test_truth_covers_twenty_dev_documents_and_the_samples():
    files = [e["file"] for e in ENTRIES]
    assert sum("corpus-dev/" in f for f in files) >= 20
    assert sum(f.startswith("index/corpus/") for f in files) == 5


@pytest.mark.parametrize("entry", ENTRIES, ids=[Path(e["file"]).name[:24] for e in ENTRIES])
def test_document_matches_its_truth(entry):
    score = score_document(entry, ROOT)
    if score.missing:
        pytest.skip(f"needs the development document {entry['file']}, which is not shipped "
                    "with the repository (../shared); the five sample documents run without it")
    assert score.wrong == {}
    assert score.labels_exact

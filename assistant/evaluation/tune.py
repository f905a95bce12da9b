"""Sweep retrieval fusion and the abstention threshold over the gold set.

`python -m assistant.evaluation.tune [--embedder hashing] [--index-dir DIR]` runs the gold
set once per setting on one opened index (query vectors are cached by the store, so
only the first pass pays for embedding) and prints the metrics that decide each choice.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from assistant.evaluation.dataset import DEFAULT_DATASET, GoldItem, load_gold
from assistant.evaluation.report import fmt
from assistant.evaluation.runner import run_eval
from assistant.service import Assistant
from assistant.settings import Settings

SHOWN = ("citation_f1", "recall@1", "recall@5", "mrr@10", "ndcg@10", "fact_coverage",
         "abstain_f1", "false_abstention_rate", "abstain_recall")


def sweep(
    items: Sequence[GoldItem], settings: Settings, grid: Sequence[dict]
) -> list[tuple[dict, dict]]:
    """(overrides, our summary) for each settings override in `grid`, on one shared index."""
    assistant = Assistant(settings)
    results = []
    for overrides in grid:
        tuned = settings.with_(**overrides)
        assistant.settings = tuned
        assistant.store.settings = tuned  # the retriever reads fusion from the store's settings
        run = run_eval(items, tuned, baseline=False, assistant=assistant)
        results.append((overrides, run["summary"]["ours"]))
    return results


def default_grid() -> list[dict]:
    fusion = [
        {"fusion": "rrf"},
        {"fusion": "weighted", "dense_weight": 0.3},
        {"fusion": "weighted", "dense_weight": 0.5},
        {"fusion": "weighted", "dense_weight": 0.7},
    ]
    thresholds = [{"abstain_threshold": t} for t in (0.3, 0.4, 0.5, 0.6, 0.7)]
    return fusion + thresholds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder")
    parser.add_argument("--index-dir")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--grid", type=json.loads, help='JSON list of overrides, e.g. '
                        '\'[{"fusion": "rrf"}, {"fusion": "weighted", "dense_weight": 0.3}]\'')
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("embedder", args.embedder), ("index_dir", args.index_dir)) if v}
    items = load_gold(DEFAULT_DATASET)[: args.limit]
    results = sweep(items, Settings(**overrides), args.grid or default_grid())
    print("setting\t" + "\t".join(SHOWN))
    for setting, summary in results:
        label = ",".join(f"{k}={v}" for k, v in setting.items())
        print(label + "\t" + "\t".join(fmt(summary.get(name)) for name in SHOWN))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Fit the adaptive dense leg's rule (`DenseGate`) on the gold set, checked by document folds.

    python -m assistant.evaluation.dense_gate [--index-dir DIR] [--json]

For each answerable gold question it runs hybrid search twice on one opened index: with
the dense leg always, and with BM25 alone, and keeps BM25's evidence (best score per
query token, runner-up / best). A rule (min_top, max_ratio) picks, per question, the
BM25-only ranking when BM25 is sure and the hybrid one otherwise. The fit takes the rule
that skips the dense leg most often while its MRR@10 stays within `TOLERANCE` of always
running it. Folds are split by document (leave one gold document out): the rule is fitted
on the other documents' questions and scored on the held-out ones, so the reported
numbers are for documents the rule never saw.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.evaluation.dataset import DEFAULT_DATASET, GoldItem, gold_keys, load_gold
from assistant.evaluation.metrics import retrieval_scores
from assistant.retrieval.hybrid import DenseGate, HybridRetriever
from assistant.settings import Settings
from assistant.stores.faiss.store import IndexStore

K = 10
TOLERANCE = 0.002  # MRR@10 the rule may lose against always running the dense leg, in training
MIN_TOPS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 1e9)
MAX_RATIOS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)


@dataclass(frozen=True)
class Observation:
    """One question: its fold (gold document), BM25 evidence, and both rankings' scores."""

    fold: str
    top_per_token: float
    ratio: float
    hybrid: dict[str, float]
    sparse: dict[str, float]


def observe(items: Sequence[GoldItem], settings: Settings) -> list[Observation]:
    store = IndexStore.open(settings)
    always = HybridRetriever(store, dense_mode="always")
    # A gate that trusts any BM25 evidence: BM25 alone wherever the real gate could skip.
    bm25 = HybridRetriever(
        store, dense_mode="adaptive", gate=DenseGate(min_top=-0.5, max_ratio=1.0)
    )
    observations = []
    for item in (i for i in items if i.answerable and i.gold):
        gold = gold_keys(item, store.documents)
        ranked = {name: [[(s.clause.doc_id, tuple(s.clause.path))]
                         for s in retriever.search(item.question, K)]
                  for name, retriever in (("hybrid", always), ("sparse", bm25))}
        top_per_token, ratio = always.evidence(item.question)
        observations.append(Observation(
            fold=gold[0][0], top_per_token=top_per_token, ratio=ratio,
            hybrid=retrieval_scores(ranked["hybrid"], gold),
            sparse=retrieval_scores(ranked["sparse"], gold)))
    return observations


def skips(obs: Observation, min_top: float, max_ratio: float) -> bool:
    """The rule trusts BM25 alone (as `DenseGate.trusts_bm25`)."""
    return DenseGate(min_top, max_ratio).trusts_bm25((obs.top_per_token, obs.ratio))


def score(observations: Sequence[Observation], rule: tuple[float, float]) -> dict[str, float]:
    chosen = [o.sparse if skips(o, *rule) else o.hybrid for o in observations]
    return {"mrr@10": _mean(c["mrr@10"] for c in chosen),
            "recall@1": _mean(c["recall@1"] for c in chosen),
            "recall@5": _mean(c["recall@5"] for c in chosen),
            "dense_share": _mean(0.0 if skips(o, *rule) else 1.0 for o in observations)}


def fit(observations: Sequence[Observation]) -> tuple[float, float]:
    """The rule with the lowest dense share whose MRR@10 is within TOLERANCE of always."""
    always = score(observations, (1e9, 0.0))["mrr@10"]
    best, best_key = (1e9, 0.0), (1.0, 0.0)
    for min_top in MIN_TOPS:
        for max_ratio in MAX_RATIOS:
            result = score(observations, (min_top, max_ratio))
            if result["mrr@10"] < always - TOLERANCE:
                continue
            key = (result["dense_share"], -result["mrr@10"])
            if key < best_key:
                best, best_key = (min_top, max_ratio), key
    return best


def cross_validate(observations: Sequence[Observation]) -> dict:
    """Per held-out document: the fitted rule's scores against always and BM25 alone."""
    folds, pooled = {}, {"adaptive": [], "always": [], "sparse": []}
    for fold in sorted({o.fold for o in observations}):
        train = [o for o in observations if o.fold != fold]
        test = [o for o in observations if o.fold == fold]
        rule = fit(train)
        folds[fold] = {"rule": rule, "questions": len(test),
                       "adaptive": score(test, rule), "always": score(test, (1e9, 0.0)),
                       "sparse": score(test, (0.0, 1.0))}
        pooled["adaptive"] += [(o, rule) for o in test]
        pooled["always"] += [(o, (1e9, 0.0)) for o in test]
        pooled["sparse"] += [(o, (0.0, 1.0)) for o in test]
    held_out = {name: _pooled(pairs) for name, pairs in pooled.items()}
    return {"folds": folds, "held_out": held_out, "rule_on_all": fit(observations)}


def _pooled(pairs) -> dict[str, float]:
    rows = [score([o], rule) for o, rule in pairs]
    return {key: round(_mean(r[key] for r in rows), 4) for key in rows[0]}


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    result = cross_validate(observe(load_gold(DEFAULT_DATASET), settings))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        return 0
    for name, row in result["held_out"].items():
        print(f"held out, {name:>8}: " + "  ".join(f"{k} {v:.4f}" for k, v in row.items()))
    for fold, row in result["folds"].items():
        print(f"fold {fold[:12]}: {row['questions']} questions, rule {row['rule']}, "
              f"adaptive MRR {row['adaptive']['mrr@10']:.3f} vs always "
              f"{row['always']['mrr@10']:.3f} (dense {row['adaptive']['dense_share']:.2f})")
    print(f"rule fitted on all questions: min_top {result['rule_on_all'][0]}, "
          f"max_ratio {result['rule_on_all'][1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

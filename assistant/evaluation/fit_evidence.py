"""Fit the evidence model on a gold set, and split questions into folds by document.

One row per (question, retrieved clause that meets the question's constraints): the
features of `assistant.answer.evidence` and whether the clause is a gold clause (or inside
one). A logistic regression (numpy, L2, unweighted so it stays calibrated) is fitted twice — with
the dense similarity and without it (the lexical variant) — then, on the same training rows, the
question-level gate model (answerable or not, over each question's top candidates) with its
cut and the best clause's floor (each refusing at most 3% of the answerable questions), and
the two cite cuts (another clause of the best one's document; another document's best
clause), jointly the pair with the best citation F1.

`python -m assistant.evaluation.fit_evidence [--embedder E] [--index-dir D] [--dataset F …]`
fits on the whole gold set and writes assistant/answer/evidence_model.json. `assistant
eval` (with --folds, default 5) fits on the other folds' documents and scores each fold's
questions with the model it never saw.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.answer.evidence import (
    ANSWER_FEATURES,
    DEFAULT_MODEL,
    FEATURES,
    JUDGE_ANSWER_FEATURES,
    JUDGE_FEATURES,
    JUDGE_MODEL,
    LEXICAL_ANSWER_FEATURES,
    LEXICAL_FEATURES,
    EvidenceModel,
    LogisticModel,
    answer_features,
    assess,
    load_model,
)
from assistant.answer.gate import CANDIDATES, tune_threshold
from assistant.answer.judge import Judge, get_judge
from assistant.evaluation.dataset import DEFAULT_DATASET, gold_keys, load_gold
from assistant.evaluation.metrics import matches
from assistant.lexicon import restates
from assistant.retrieval.hybrid import HybridRetriever
from assistant.service import Assistant, analyse_question
from assistant.settings import Settings

MAX_FALSE_REFUSALS = 0.03
RIDGE = 1.0
STEPS = 1500
CLAUSE_FLOOR_REFUSALS = 0.03  # answerable training questions the clause floor may refuse
CUT_GRID = 41  # quantiles of the training scores tried for each cite threshold
CUT_SMOOTHING = 2  # grid steps each way averaged when choosing the cite thresholds


@dataclass(frozen=True)
class Row:
    item_id: str
    answerable: bool
    features: dict
    label: bool
    top: bool  # among the gate's candidates (the first CANDIDATES admissible clauses)
    doc: str = ""  # the clause's document
    text: str = ""  # the clause's text (does another document's clause restate it?)


def collect_rows(store, items: Sequence, golds: dict, top_k: int,
                 judge_for: Callable[[str], Judge | None] | None = None
                 ) -> tuple[list[Row], dict]:
    """Rows for every item, and each item's document group (its fold key).

    A question's group is its first gold document; an unanswerable question's is the
    document of its top retrieved clause (the near-miss it would be confused with).
    Questions about documents' metadata bypass the gate, so they give no rows.
    judge_for(group): the judge whose probability is the rows' `judge` feature — one that
    never trained on the group's document, so the fit sees the judge as on new documents.
    """
    retriever, model = HybridRetriever(store), load_model()
    rows, groups = [], {}
    for item in items:
        query = analyse_question(item.question, store.settings, store=store)
        found = retriever.search(query.text, top_k, expansion=query.expansion)
        gold = golds[item.id]
        groups[item.id] = gold[0][0] if gold else (found[0].doc.doc_id if found else "")
        if query.meta:
            continue
        judge = judge_for(groups[item.id]) if judge_for else None
        admissible = [e for e in assess(query, found, model, judge)
                      if e.admissible and not e.named]
        for position, judged in enumerate(admissible):
            key = (judged.scored.clause.doc_id, tuple(judged.scored.clause.path))
            rows.append(Row(item.id, item.answerable, judged.features,
                            any(matches(key, g) for g in gold), position < CANDIDATES, key[0],
                            judged.scored.clause.text))
    return rows, groups


def document_fold(doc: str, k: int) -> int:
    """A document's fold of k from a stable hash of its id alone (the judge's holdouts)."""
    return int(hashlib.sha1(doc.encode()).hexdigest(), 16) % k


def document_folds(groups: dict[str, str], k: int) -> dict[str, int]:
    """Item id → fold, whole documents per fold (assigned by a stable hash of the doc id)."""
    docs = sorted(set(groups.values()), key=lambda d: hashlib.sha1(d.encode()).hexdigest())
    fold_of_doc = {doc: i % k for i, doc in enumerate(docs)}
    return {item: fold_of_doc[doc] for item, doc in groups.items()}


def fit_logistic(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> LogisticModel:
    """L2-regularised logistic regression by gradient descent (unweighted: calibrated)."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    coef, intercept = np.zeros(z.shape[1]), 0.0
    for _ in range(STEPS):
        p = 1 / (1 + np.exp(-(z @ coef + intercept)))
        g = p - y
        coef -= 0.5 * (z.T @ g / len(y) + RIDGE * coef / len(y))
        intercept -= 0.5 * g.mean()
    return LogisticModel(names, tuple(map(float, mean)), tuple(map(float, scale)),
                         tuple(float(round(c, 6)) for c in coef), float(round(intercept, 6)))


def _matrix(rows: Sequence[Row], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[float(r.features.get(n) or 0.0) for n in names] for r in rows])


def fit_model(rows: Sequence[Row], note: str = "", embedder: str | None = None,
              judge: str | None = None) -> EvidenceModel:
    """Both variants, the gate model and the cuts; with `judge`, the rows carry its
    probability and every model takes it as one more feature."""
    if not rows or not any(r.label for r in rows):
        raise ValueError("no positive rows to fit the evidence model on")
    extra, answer_extra = (JUDGE_FEATURES, JUDGE_ANSWER_FEATURES) if judge else ((), ())
    names, lexical_names = FEATURES + extra, LEXICAL_FEATURES + extra
    y = np.array([float(r.label) for r in rows])
    dense_rows = [r for r in rows if r.features.get("dense") is not None]
    lexical = fit_logistic(_matrix(rows, lexical_names), y, lexical_names)
    full = (
        fit_logistic(
            _matrix(dense_rows, names), np.array([float(r.label) for r in dense_rows]), names
        )
        if dense_rows
        else lexical
    )
    draft = EvidenceModel(full, lexical, 0.5, 0.5, note, judge=judge)
    scores = [draft.probability(r.features) for r in rows]
    plain = [lexical.probability(r.features) for r in rows]
    cite, doc_cite, restated_cite = _cite_thresholds(rows, scores)
    plain_cite, plain_doc_cite, plain_restated_cite = _cite_thresholds(rows, plain)
    answerable, gate = _fit_answerable(rows, scores, ANSWER_FEATURES + answer_extra)
    lexical_answerable, plain_gate = _fit_answerable(rows, plain,
                                                     LEXICAL_ANSWER_FEATURES + answer_extra)
    # The best clause's own floor under the answerability model: a safety net, so loose.
    clause, plain_clause = (
        _gate_threshold(rows, s, CLAUSE_FLOOR_REFUSALS) for s in (scores, plain)
    )
    return EvidenceModel(full, lexical, gate, cite, note, embedder,
                         (plain_gate, plain_cite, plain_doc_cite, plain_clause,
                          plain_restated_cite), doc_cite,
                         answerable, lexical_answerable, clause, judge, restated_cite)


def _fit_answerable(rows: Sequence[Row], scores: list[float], names: tuple[str, ...]
                    ) -> tuple[LogisticModel | None, float]:
    """The question-level answerability model over each question's gate candidates, and
    its gate cut; (None, the best-clause cut) when the rows hold no unanswerable question."""
    by_item: dict[str, list[tuple[Row, float]]] = {}
    for row, score in zip(rows, scores):
        if row.top:
            by_item.setdefault(row.item_id, []).append((row, score))
    if all(pairs[0][0].answerable for pairs in by_item.values()):
        return None, _gate_threshold(rows, scores)
    feats = [answer_features([r.features for r, _ in pairs], [s for _, s in pairs])
             for pairs in by_item.values()]
    x = np.array([[f[n] for n in names] for f in feats])
    y = np.array([float(pairs[0][0].answerable) for pairs in by_item.values()])
    model = fit_logistic(x, y, names)
    probs = [model.probability(f) for f in feats]
    return model, round(float(gate_cut(list(zip(probs, map(bool, y))))), 4)


def _gate_threshold(rows: Sequence[Row], scores: list[float],
                    max_false_refusals: float = MAX_FALSE_REFUSALS) -> float:
    best: dict[str, tuple[float, bool]] = {}
    for row, score in zip(rows, scores):
        if row.top and score > best.get(row.item_id, (-1.0, False))[0]:
            best[row.item_id] = (score, row.answerable)
    return round(float(gate_cut(list(best.values()), max_false_refusals)), 4)


def gate_cut(scored: list[tuple[float, bool]], max_false_refusals: float = MAX_FALSE_REFUSALS
             ) -> float:
    """The highest cut that refuses at most `max_false_refusals` of the answerable questions.

    Refusing an answerable question costs the user an answer they were owed; the hard
    constraints (place, year, 文号, quantity) catch most unanswerable near-misses before
    this threshold does. Falls back to the balanced-accuracy cut without answerable ones.
    """
    positives = sorted(s for s, ok in scored if ok)
    if not positives:
        return tune_threshold(scored)[0]
    allowed = int(max_false_refusals * len(positives))
    return positives[allowed] - 1e-4


def _cite_thresholds(rows: Sequence[Row], scores: list[float]
                     ) -> tuple[float, float, float | None]:
    """(same-document cut, other-document cut, restating-document cut) that give the
    answers' citations the best F1 on the training questions.

    An answer cites its best clause, every other clause of the same document scoring at
    least the first cut, and the best clause of each other document scoring at least
    the second (as the extractive backend does): whether a second document answers is a
    different question from whether a second clause of the same one adds anything. A
    document whose best clause restates the best clause (a law and the regulation that
    repeats it) is cited from the third cut; None when that earns nothing over the second.
    """
    by_item: dict[str, list[Cand]] = {}
    texts: dict[str, list[str]] = {}
    for row, score in zip(rows, scores):
        if row.answerable:
            by_item.setdefault(row.item_id, []).append(Cand(score, row.label, row.doc))
            texts.setdefault(row.item_id, []).append(row.text)
    for item, cands in by_item.items():  # flag each document's best clause
        best = max(range(len(cands)), key=lambda i: cands[i].score)
        tops: dict[str, int] = {}
        for i in sorted(range(len(cands)), key=lambda i: -cands[i].score):
            tops.setdefault(cands[i].doc, i)
        by_item[item] = [
            replace(c, doc_top=tops[c.doc] == i,
                    restating=tops[c.doc] == i and c.doc != cands[best].doc
                    and restates(texts[item][best], texts[item][i]))
            for i, c in enumerate(cands)]
    values = sorted({round(c.score, 4) for cands in by_item.values() for c in cands})
    if not values:
        return 0.5, 0.5, None
    cuts = sorted({values[int(q * (len(values) - 1))] for q in np.linspace(0, 1, CUT_GRID)})
    f1 = np.array([[_citation_f1(by_item, same, other) for other in cuts] for same in cuts])
    # The F1 surface is flat near its top (the best cuts differ by one citation), so its
    # single best cell spread the other-document cut over 0.33-0.60 across CV folds.
    # The centre of the best neighbourhood is a cut that stays good on new questions.
    same, other = plateau_centre(f1, CUT_SMOOTHING)
    # With the same-document cut fixed, the other-document cut refitted beside the cut for
    # restating documents: a restatement earns a lower bar, so the plain bar may rise.
    f1 = np.array([[_citation_f1(by_item, cuts[same], o, r) for r in cuts] for o in cuts])
    other, restated = plateau_centre(f1, CUT_SMOOTHING)
    if cuts[restated] >= cuts[other]:
        return cuts[same], cuts[other], None
    return cuts[same], cuts[other], cuts[restated]


def plateau_centre(grid: np.ndarray, radius: int) -> tuple[int, int]:
    """The cell whose neighbourhood (`radius` steps each way) has the best mean; ties go to
    the higher cuts, as fewer citations are the safer error."""
    smooth = _box_mean(grid, radius)
    return max(np.ndindex(*smooth.shape), key=lambda ij: (round(float(smooth[ij]), 9), ij))


def _box_mean(grid: np.ndarray, radius: int) -> np.ndarray:
    """Each cell's mean over the cells within `radius` steps (fewer at the edges)."""
    padded = np.pad(grid, radius, constant_values=np.nan)
    size = 2 * radius + 1
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size))
    return np.nanmean(windows, axis=(-2, -1))


@dataclass(frozen=True)
class Cand:
    """One training candidate as the citing rule sees it."""

    score: float
    label: bool
    doc: str
    doc_top: bool = False  # its document's best clause
    restating: bool = False  # another document's best clause, restating the best clause


def _citation_f1(by_item: dict[str, list[Cand]], same: float, other: float,
                 restated: float | None = None) -> float:
    restated = other if restated is None else min(other, restated)
    hits = cited = gold = 0
    for cands in by_item.values():
        best = max(cands, key=lambda c: c.score)
        chosen = [best] + [c for c in cands if c is not best and (
            c.score >= same if c.doc == best.doc
            else c.doc_top and c.score >= (restated if c.restating else other))]
        hits += sum(c.label for c in chosen)
        cited += len(chosen)
        gold += max(1, sum(c.label for c in cands))
    return 2 * hits / (cited + gold) if cited + gold else 0.0


def write_model(model: EvidenceModel, path: Path) -> None:
    path.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder")
    parser.add_argument("--index-dir")
    parser.add_argument("--dataset", type=Path, nargs="+", default=[DEFAULT_DATASET])
    parser.add_argument("--out", type=Path, default=None,
                        help="default: evidence_model.json, or evidence_model_judge.json "
                             "with --judge")
    parser.add_argument("--judge", type=Path, nargs="+", metavar="NPZ",
                        help="fit with the judge's probability as a feature. One file: it "
                             "scores every row. K files: the i-th was trained without the "
                             "documents of fold i of K (train_judge --holdout i/K) and scores "
                             "their rows, so the fit sees the judge as on new documents")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("embedder", args.embedder), ("index_dir", args.index_dir)) if v}
    assistant = Assistant(Settings(**overrides))
    items = [item for path in args.dataset for item in load_gold(path)]
    golds = {i.id: gold_keys(i, assistant.documents()) for i in items}
    judge_for = None
    if args.judge:
        judges = [get_judge("e5-judge", path) for path in args.judge]
        judge_for = lambda group: judges[document_fold(group, len(judges))]
    rows, _ = collect_rows(assistant.store, items, golds, assistant.settings.retrieval.top_k,
                           judge_for)
    names = " + ".join(p.name for p in args.dataset)
    note = (f"fitted on {len(items)} questions of {names} ({len(rows)} rows), "
            f"embedder {assistant.settings.index.embedder}; refit: python -m "
            "assistant.evaluation.fit_evidence")
    if args.judge:
        note += f"; judge features from {', '.join(p.name for p in args.judge)}"
    model = fit_model(rows, note, assistant.settings.index.embedder,
                      "e5-judge" if args.judge else None)
    write_model(model, args.out or (JUDGE_MODEL if args.judge else DEFAULT_MODEL))
    print(json.dumps(model.to_json(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

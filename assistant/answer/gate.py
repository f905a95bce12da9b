"""Abstention: decide whether the retrieved clauses can answer the question.

Retrieval always returns *something*; the gate asks whether the best of it answers the
question. Each candidate clause was judged once by `evidence.assess` (hard constraints,
features, a fitted probability). The gate's score is the best probability among the top
admissible candidates; below the evidence model's threshold the assistant abstains.
Every 文号 the question names must also be a corpus document.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.answer.evidence import Evidence, EvidenceModel, admissible_first, assess, load_model
from assistant.models import ScoredClause
from assistant.query import Query, as_query

CANDIDATES = 3


@dataclass(frozen=True)
class GateDecision:
    answerable: bool
    score: float
    threshold: float
    reason: str
    best: Evidence | None = None


def evidence_score(judged: list[Evidence], model: EvidenceModel | None = None
                   ) -> tuple[float, Evidence | None, str]:
    """(score, best clause, why none qualified) over the top admissible candidates: the best
    probability, or the model's question-level answerability when it has one."""
    top = [e for e in admissible_first(judged)[:CANDIDATES] if e.admissible]
    if not top:
        missing = judged[0].unmet if judged else []
        return 0.0, None, f"检索到的条款均未提及{'、'.join(missing)}"
    best = max(top, key=lambda e: e.score)
    return (model.gate_score(top) if model else best.score), best, ""


def decide(query: Query | str, judged: list[Evidence] | list[ScoredClause],
           known_numbers: Iterable[str], threshold: float | None = None,
           model: EvidenceModel | None = None, known_titles: Iterable[str] = ()) -> GateDecision:
    """Answer or abstain. `judged` may be plain retrieved clauses: they are assessed here.

    threshold: None means the evidence model's fitted one. known_titles: the corpus's
    document titles; a regulation the question names that none of them contains
    (北京市医疗保障条例 in a corpus without it) is refused like an unknown 文号.
    """
    query = as_query(query)
    model = model or load_model()
    given = threshold
    threshold = model.threshold if threshold is None else threshold
    if judged and isinstance(judged[0], ScoredClause):
        if not any(s.dense_score is not None for s in judged):
            model = model.lexical_only()  # the variant (and thresholds) for lexical scores
            threshold = model.threshold if given is None else given
        judged = assess(query, judged, model)
    known = list(known_numbers)
    unknown = [n for n in query.doc_numbers if not any(n.endswith(k) for k in known)]
    if unknown:
        return GateDecision(False, 0.0, threshold, f"语料中没有文号为{'、'.join(unknown)}的文件")
    titles = list(known_titles)
    absent = [t for t in query.titles if titles and not any(t in title for title in titles)]
    if absent:
        return GateDecision(False, 0.0, threshold, f"语料中没有名为《{'》《'.join(absent)}》的文件")
    if not judged:
        return GateDecision(False, 0.0, threshold, "没有检索到相关条款")
    score, best, reason = evidence_score(judged, model)
    if best is None or score < threshold:
        why = reason or f"证据得分 {score:.2f} 低于阈值 {threshold:.2f}"
        return GateDecision(False, score, threshold, why, best)
    return GateDecision(True, score, threshold, "", best)


def tune_threshold(scored: list[tuple[float, bool]]) -> tuple[float, float]:
    """Threshold maximising balanced accuracy over (score, answerable) pairs → (threshold, bacc)."""
    values = sorted({s for s, _ in scored})
    cuts = [0.0] + [(a + b) / 2 for a, b in itertools.pairwise(values)] + [1.01]
    return max(((cut, balanced_accuracy(scored, cut)) for cut in cuts), key=lambda r: (r[1], -r[0]))


def balanced_accuracy(scored: list[tuple[float, bool]], cut: float) -> float:
    pos = [s for s, ok in scored if ok]
    neg = [s for s, ok in scored if not ok]
    tpr = sum(s >= cut for s in pos) / len(pos) if pos else 1.0
    tnr = sum(s < cut for s in neg) / len(neg) if neg else 1.0
    return (tpr + tnr) / 2

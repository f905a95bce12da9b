"""Abstention: decide whether the retrieved clauses can answer the question.

Retrieval always returns *something*; the gate asks whether the best of it is about
the question. For each of the top clauses (in retrieval order) it builds the evidence
the model would see (document metadata, headings, clause text) and computes:

* hard constraints — every 文号 the question names must be a corpus document, and every
  place (成都市) and year (2022年) it names must occur in the evidence;
* coverage — the share of the question's content words (jieba, length-weighted) that
  occur in the evidence.

The evidence score is the best coverage among the top clauses that meet the
constraints; below the threshold the assistant abstains. Retrieval's fused scores are
rank-based (RRF), so they order the candidates rather than enter the score. The default
threshold was tuned on eval/gold.jsonl (`python -m assistant.answer.gate`, see
docs/readme/answer.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from assistant.answer.context import metadata_lines
from assistant.answer.terms import content_terms, doc_numbers, meta_kinds, place_forms, places, years
from assistant.models import ScoredClause

DEFAULT_THRESHOLD = 0.5
CANDIDATES = 3


@dataclass(frozen=True)
class GateDecision:
    answerable: bool
    score: float
    threshold: float
    reason: str
    best: ScoredClause | None = None


def evidence_text(scored: ScoredClause) -> str:
    clause = scored.clause
    return "\n".join([*metadata_lines(scored.doc), *clause.context, clause.label, clause.text])


def coverage(terms: Iterable[str], evidence: str) -> float:
    terms = list(terms)
    total = sum(len(t) for t in terms)
    return sum(len(t) for t in terms if t in evidence) / total if total else 0.0


def unmet_constraints(question: str, evidence: str) -> list[str]:
    """Places and years the question names that `evidence` does not mention."""
    missing = [p for p in places(question) if not any(f in evidence for f in place_forms(p))]
    return missing + [f"{y}年" for y in years(question) if y not in evidence]


def evidence_score(question: str, retrieved: list[ScoredClause]) -> tuple[float, ScoredClause | None, str]:
    terms = content_terms(question)
    best: tuple[float, ScoredClause | None, str] = (0.0, None, "")
    for scored in retrieved[:CANDIDATES]:
        evidence = evidence_text(scored)
        missing = unmet_constraints(question, evidence)
        if missing:
            best = max(best, (0.0, None, f"检索到的条款未提及{'、'.join(missing)}"), key=lambda b: b[0])
            continue
        score = coverage(terms, evidence)
        if score > best[0] or best[1] is None:
            best = (score, scored, "")
    return best


def decide(question: str, retrieved: list[ScoredClause], known_numbers: Iterable[str],
           threshold: float | None = None) -> GateDecision:
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    unknown = [n for n in doc_numbers(question) if not any(n.endswith(k) for k in known_numbers)]
    if unknown:
        return GateDecision(False, 0.0, threshold, f"语料中没有文号为{'、'.join(unknown)}的文件")
    if not retrieved:
        return GateDecision(False, 0.0, threshold, "没有检索到相关条款")
    score, best, reason = evidence_score(question, retrieved)
    if best is not None and meta_kinds(question) and doc_numbers(question):
        score = 1.0  # a question about a named corpus document is answerable from its metadata
    if best is None or score < threshold:
        why = reason or f"证据得分 {score:.2f} 低于阈值 {threshold:.2f}"
        return GateDecision(False, score, threshold, why, best)
    return GateDecision(True, score, threshold, "", best)


def tune_threshold(scored: list[tuple[float, bool]]) -> tuple[float, float]:
    """Threshold maximising balanced accuracy over (score, answerable) pairs → (threshold, bacc)."""
    values = sorted({s for s, _ in scored})
    cuts = [0.0] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [1.01]
    return max(((cut, balanced_accuracy(scored, cut)) for cut in cuts), key=lambda r: (r[1], -r[0]))


def balanced_accuracy(scored: list[tuple[float, bool]], cut: float) -> float:
    pos = [s for s, ok in scored if ok]
    neg = [s for s, ok in scored if not ok]
    tpr = sum(s >= cut for s in pos) / len(pos) if pos else 1.0
    tnr = sum(s < cut for s in neg) / len(neg) if neg else 1.0
    return (tpr + tnr) / 2

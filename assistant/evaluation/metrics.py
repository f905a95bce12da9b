"""Evaluation metrics as pure functions over clause keys; no I/O, no models.

A clause is named by a key `(doc_id, path)`, path a tuple of labels ("一、", "（一）").
A cited or retrieved clause *matches* a gold clause when it is the gold clause or one of
its sub-clauses (same document, path starts with the gold path). An ancestor does not
match: a heading clause holds its own text only, not the gold clause's facts.

Per question: `citation_scores`, `retrieval_scores`, `fact_coverage`, `fact_first`,
`hallucinations`.
Over a run: `abstention_scores`, `percentile`, `summarise`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from assistant.evaluation.dataset import contains_fact
from assistant.lexicon import find_doc_numbers

Key = tuple[str, tuple[str, ...]]
KS = (1, 3, 5, 10)



def matches(key: Key, gold: Key) -> bool:
    """`key` is the gold clause or inside its subtree."""
    doc, path = key
    gold_doc, gold_path = gold
    return doc == gold_doc and tuple(path[: len(gold_path)]) == tuple(gold_path)


def citation_scores(cited: Sequence[Key], gold: Sequence[Key]) -> dict[str, float | None]:
    """Clause- and document-level precision/recall of one answer's citations.

    precision: share of distinct cited clauses that match a gold clause (None if nothing cited);
    recall: share of gold clauses matched by some citation;
    doc_precision / doc_recall: the same at document level (right document, any clause);
    wrong_clause: share of cited clauses in a gold document that match no gold clause.
    """
    cited = list(dict.fromkeys(cited))
    gold_docs = {doc for doc, _ in gold}
    cited_docs = {doc for doc, _ in cited}
    hits = [c for c in cited if any(matches(c, g) for g in gold)]
    in_gold_doc = [c for c in cited if c[0] in gold_docs]
    return {
        "precision": len(hits) / len(cited) if cited else None,
        "recall": _share(gold, lambda g: any(matches(c, g) for c in cited)),
        "doc_precision": len(in_gold_doc) / len(cited) if cited else None,
        "doc_recall": _share(gold_docs, lambda d: d in cited_docs),
        "wrong_clause": (len(in_gold_doc) - len(hits)) / len(cited) if cited else None,
    }


def retrieval_scores(ranked: Sequence[Iterable[Key]], gold: Sequence[Key],
                     ks: Sequence[int] = KS) -> dict[str, float]:
    """Recall@k, MRR@10 and nDCG@10 for one ranked list.

    Each ranked item is the set of clauses one result covers: one clause for clause
    retrieval, the clauses a chunk overlaps for the chunk baseline. A gold clause counts
    once (the first item that matches it gains 1, later ones 0), so a clause split over
    many hits cannot push nDCG above 1.
    """
    gold = list(dict.fromkeys(gold))
    first_hit = _first_hits(ranked, gold)
    scores = {
        f"recall@{k}": _share(gold, lambda g, k=k: first_hit[g] is not None and first_hit[g] < k)
        for k in ks
    }
    found = [rank for rank in first_hit.values() if rank is not None and rank < 10]
    scores["mrr@10"] = 1.0 / (min(found) + 1) if found else 0.0
    dcg = sum(1.0 / math.log2(rank + 2) for rank in found)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(gold), 10)))
    scores["ndcg@10"] = dcg / ideal if ideal else 0.0
    return scores


def _first_hits(ranked: Sequence[Iterable[Key]], gold: Sequence[Key]) -> dict[Key, int | None]:
    """Rank of the first item that matches each gold clause, or None."""
    first: dict[Key, int | None] = {g: None for g in gold}
    for rank, item in enumerate(ranked):
        keys = list(item)
        for g in gold:
            if first[g] is None and any(matches(k, g) for k in keys):
                first[g] = rank
    return first


def fact_coverage(text: str, facts: Sequence[str]) -> float | None:
    """Share of the key facts the answer text states (None when the question lists none)."""
    if not facts:
        return None
    return sum(contains_fact(text, fact) for fact in facts) / len(facts)


def fact_first(sentences: Sequence[str], facts: Sequence[str]) -> float | None:
    """1.0 when the answer's first sentence states one of the key facts: the answer leads
    with what was asked (None when the question lists none or nothing was answered)."""
    if not facts or not sentences:
        return None
    return float(any(contains_fact(sentences[0], fact) for fact in facts))


def hallucinations(cited_ids: Sequence[str], retrieved_ids: Iterable[str],
                   answer: str, known_numbers: Iterable[str], cited_texts: Sequence[str]) -> dict:
    """Citations outside the retrieved context, and 文号 the answer states that nobody gave it.

    A 文号 in the answer is fine when it is a corpus document's or appears in a cited clause
    (clauses quote other documents); otherwise it is flagged.
    """
    context = set(retrieved_ids)
    outside = [cid for cid in cited_ids if cid not in context]
    known = set(known_numbers)
    quoted = "".join(cited_texts)
    flagged = sorted({n for n in find_doc_numbers(answer) if not _vouched(n, known, quoted)})
    return {
        "citations": len(cited_ids),
        "outside_context": len(outside),
        "unknown_numbers": flagged,
    }


def _vouched(number: str, known: set[str], quoted: str) -> bool:
    # The pattern may take a longer prefix than the real issuer code ("的文号为川办函〔…"),
    # so a known number only has to end the match, and a quoted one to share its last
    # two prefix characters and the 〔year〕number号 part. A 令 number (国务院令第735号) has
    # no year bracket and must be quoted whole.
    year_at = number.find("〔")
    core = number[max(year_at - 2, 0):] if year_at >= 0 else number
    return any(number.endswith(k) for k in known) or core in quoted


def replaced_only(citations: Sequence[dict]) -> bool | None:
    """The answer cites only texts the library holds a replacement for (被修订 / 失效 by a held
    document): an out-of-date answer. None when it cites nothing."""
    if not citations:
        return None
    return all(c.get("replaced_by") for c in citations)


def status_accuracy(pairs: Sequence[tuple[str | None, str | None]]) -> float | None:
    """(status shown, true status in effect) per document → share that agree (None: 未标注)."""
    return _share(pairs, lambda p: p[0] == p[1]) if pairs else None


def alignment_accuracy(predicted: dict[str, str | None], gold: dict[str, str | None]
                       ) -> tuple[int, int]:
    """(old articles mapped to the right new article or to none, all gold old articles)."""
    return sum(predicted.get(old, None) == new for old, new in gold.items()), len(gold)


def abstention_scores(pairs: Sequence[tuple[bool, bool]]) -> dict[str, float | None]:
    """(answerable, abstained) per question → abstention P/R/F1 and false-abstention rate.

    The positive class is "should abstain" (unanswerable).
    """
    tp = sum(1 for answerable, abstained in pairs if not answerable and abstained)
    fp = sum(1 for answerable, abstained in pairs if answerable and abstained)
    fn = sum(1 for answerable, abstained in pairs if not answerable and not abstained)
    answerable = sum(1 for a, _ in pairs if a)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return {
        "abstain_precision": precision,
        "abstain_recall": recall,
        "abstain_f1": _f1(precision, recall),
        "false_abstention_rate": fp / answerable if answerable else None,
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values; None if there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def summarise(records: Sequence[dict]) -> dict[str, float | int | None]:
    """Run-level metrics from per-question records.

    Each record has `answerable`, `abstained`, `latency_ms` and `scores` (the merged dicts
    of the per-question functions above). Citation, retrieval and fact metrics are macro
    averages over answerable questions; citation precision only over answers that cite.
    Citation F1 is the harmonic mean of those two averages.
    """
    answerable = [r for r in records if r["answerable"]]
    scores = [r["scores"] for r in answerable]
    summary: dict[str, float | int | None] = {
        "questions": len(records), "answerable": len(answerable),
        "unanswerable": len(records) - len(answerable),
    }
    for name in ("precision", "recall", "doc_precision", "doc_recall", "wrong_clause"):
        summary[f"citation_{name}"] = mean(s.get(name) for s in scores)
    summary["citation_f1"] = _f1(summary["citation_precision"], summary["citation_recall"])
    summary["doc_f1"] = _f1(summary["citation_doc_precision"], summary["citation_doc_recall"])
    for name in [f"recall@{k}" for k in KS] + ["mrr@10", "ndcg@10", "fact_coverage",
                                                    "fact_first"]:
        summary[name] = mean(s.get(name) for s in scores)
    summary.update(_hallucination_summary(records))
    summary["supported_sentence_share"] = _supported_share(records)
    summary.update(abstention_scores([(r["answerable"], r["abstained"]) for r in records]))
    summary["replaced_only_share"] = mean(
        replaced_only(r.get("citations") or []) for r in records if not r["abstained"])
    latencies = [r["latency_ms"] for r in records]
    summary["latency_p50_ms"] = percentile(latencies, 50)
    summary["latency_p95_ms"] = percentile(latencies, 95)
    return summary


def _hallucination_summary(records: Sequence[dict]) -> dict[str, float | int | None]:
    cited = sum(r["scores"].get("citations", 0) for r in records)
    outside = sum(r["scores"].get("outside_context", 0) for r in records)
    flagged = sum(len(r["scores"].get("unknown_numbers", [])) for r in records)
    # A 文号 the answer invents counts as one more citation, and a hallucinated one.
    references = cited + flagged
    return {
        "hallucinated_citation_rate": (outside + flagged) / references if references else 0.0,
        "unknown_doc_numbers": flagged,
    }


def _supported_share(records: Sequence[dict]) -> float | None:
    """Share of answer sentences (in answers that did not abstain) whose citations support them."""
    flags = [s for r in records if not r["abstained"] for s in r["scores"].get("supported", [])]
    return sum(flags) / len(flags) if flags else None


def _share(items: Iterable, hit) -> float:
    items = list(items)
    return sum(1 for item in items if hit(item)) / len(items) if items else 0.0


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0

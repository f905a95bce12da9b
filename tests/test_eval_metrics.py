"""Eval metrics on small hand-made cases whose right answers are worked out by hand."""

import math

import pytest

from assistant.evaluation import metrics
from assistant.evaluation.dataset import contains_fact, normalise_text
from assistant.evaluation.report import check_thresholds, compare

A1 = ("docA", ("一、",))
A1_1 = ("docA", ("一、", "（一）"))
A1_2 = ("docA", ("一、", "（二）"))
A2 = ("docA", ("二、",))
B1 = ("docB", ("一、",))
B_ATT = ("docB", ("附件", "一、", "（一）"))


def test_matches_is_the_gold_clause_or_its_subtree_never_an_ancestor():
    assert metrics.matches(A1_1, A1_1)
    assert metrics.matches(A1_1, A1)  # a sub-clause of the gold clause counts
    assert not metrics.matches(A1, A1_1)  # its parent does not
    assert not metrics.matches(("docB", ("一、", "（一）")), A1_1)  # same label, other document
    assert not metrics.matches(("docB", ("一、",)), B_ATT)  # main text 一、 is not 附件一、


def test_citation_scores_clause_and_document_level():
    # gold: A一、（一） and B一、;
    # cited: A一、（一） (hit), A二、 (right doc, wrong clause), A一、（一） again
    scores = metrics.citation_scores([A1_1, A2, A1_1], [A1_1, B1])
    assert scores["precision"] == pytest.approx(1 / 2)  # duplicates count once
    assert scores["recall"] == pytest.approx(1 / 2)
    assert scores["doc_precision"] == pytest.approx(1.0)
    assert scores["doc_recall"] == pytest.approx(1 / 2)
    assert scores["wrong_clause"] == pytest.approx(1 / 2)


def test_citation_scores_sub_clause_of_gold_counts_and_nothing_cited_is_undefined_precision():
    assert metrics.citation_scores([A1_2], [A1])["precision"] == 1.0
    empty = metrics.citation_scores([], [A1])
    assert empty["precision"] is None and empty["recall"] == 0.0


def test_retrieval_scores_by_hand():
    # gold found at rank 2 (index 1) and rank 4 (index 3) of a clause ranking
    ranked = [[A2], [A1_1], [A1_1], [B1], [A2]]
    s = metrics.retrieval_scores(ranked, [A1_1, B1])
    assert s["recall@1"] == 0.0
    assert s["recall@3"] == 0.5
    assert s["recall@5"] == 1.0 and s["recall@10"] == 1.0
    assert s["mrr@10"] == pytest.approx(0.5)
    # the repeated A一、（一） at index 2 gains nothing
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert s["ndcg@10"] == pytest.approx(dcg / idcg)


def test_retrieval_scores_chunk_items_cover_several_clauses():
    # a chunk overlapping A一、（二） and B一、 satisfies gold B一、 at rank 1
    s = metrics.retrieval_scores([[A1_2, B1], [A2]], [B1])
    assert s["recall@1"] == 1.0 and s["mrr@10"] == 1.0 and s["ndcg@10"] == pytest.approx(1.0)
    miss = metrics.retrieval_scores([[A2]] * 12 + [[B1]], [B1])
    assert miss["recall@10"] == 0.0 and miss["mrr@10"] == 0.0 and miss["ndcg@10"] == 0.0


def test_abstention_scores():
    pairs = [(False, True), (False, True), (False, False),  # unanswerable: 2 abstained, 1 answered
             (True, True), (True, False), (True, False), (True, False)]  # one false abstention
    s = metrics.abstention_scores(pairs)
    assert s["abstain_precision"] == pytest.approx(2 / 3)
    assert s["abstain_recall"] == pytest.approx(2 / 3)
    assert s["abstain_f1"] == pytest.approx(2 / 3)
    assert s["false_abstention_rate"] == pytest.approx(1 / 4)
    never = metrics.abstention_scores([(False, False), (True, False)])
    assert never["abstain_precision"] is None and never["abstain_recall"] == 0.0


def test_fact_coverage_normalises_width_space_and_dates():
    answer = "在自贡市、宜宾市开展试点（省卫生健康委负责）。成文日期 2021-08-11"
    assert metrics.fact_coverage(answer, ["自贡市", "宜宾市"]) == 1.0
    assert metrics.fact_coverage(answer, ["自贡市", "成都市"]) == 0.5
    assert metrics.fact_coverage(answer, ["(省卫生健康委负责)"]) == 1.0
    assert metrics.fact_coverage(answer, ["2021年8月11日"]) == 1.0
    assert metrics.fact_coverage(answer, []) is None
    assert normalise_text("21个市(州) ,  50%") == "21个市（州），50％"
    assert not contains_fact("区人民医院", "区中医院")


def test_fact_first_asks_the_first_sentence_to_state_a_fact():
    sentences = ["全面落实改革要求[1]。", "在自贡市、宜宾市开展试点[1]。"]
    assert metrics.fact_first(sentences, ["自贡市"]) == 0.0  # stated, but second
    assert metrics.fact_first(sentences[::-1], ["自贡市"]) == 1.0
    assert metrics.fact_first(sentences, []) is None
    assert metrics.fact_first([], ["自贡市"]) is None  # nothing answered


def test_hallucinations_outside_context_and_invented_doc_numbers():
    known = ["川办函〔2021〕56号"]
    quoted = ["…（川医改发〔2020〕1号）要求…"]
    answer = "据川办函〔2021〕56号和川医改发〔2020〕1号，另见国卫医发〔2019〕10号。"
    h = metrics.hallucinations(["c1", "c9"], ["c1", "c2"], answer, known, quoted)
    assert h["citations"] == 2 and h["outside_context"] == 1
    assert h["unknown_numbers"] == ["另见国卫医发〔2019〕10号"]
    # a longer prefix grabbed by the pattern still matches the known number
    clean = metrics.hallucinations([], [], "的文号为川办函〔2021〕56号", known, [])
    assert clean["unknown_numbers"] == []
    # 令 numbers carry no year bracket: quoted ones pass, invented ones are flagged
    decree = metrics.hallucinations([], [], "依据国务院令第735号和国务院令第9号", [],
                                    ["《条例》（国务院令第735号）"])
    assert decree["unknown_numbers"] == ["国务院令第9号"]


def test_percentile_and_mean():
    assert metrics.percentile([10, 20, 30, 40], 50) == pytest.approx(25)
    assert metrics.percentile([5.0], 95) == 5.0
    assert metrics.percentile([], 50) is None
    assert metrics.mean([1.0, None, 3.0]) == 2.0 and metrics.mean([None]) is None


def _record(answerable, abstained, latency, **scores):
    base = {"citations": 1, "outside_context": 0, "unknown_numbers": [], "supported": [True]}
    return {"answerable": answerable, "abstained": abstained, "latency_ms": latency,
            "scores": base | scores}


def test_summarise_macro_averages_over_answerable_questions():
    records = [
        _record(True, False, 10, precision=1.0, recall=1.0, fact_coverage=1.0,
                supported=[True, False]),
        _record(True, True, 30, precision=None, recall=0.0, fact_coverage=0.0,
                citations=0, supported=[]),
        _record(False, True, 20, citations=0, supported=[]),
        _record(False, False, 40, outside_context=1, unknown_numbers=["X〔2020〕1号"]),
    ]
    s = metrics.summarise(records)
    assert (s["questions"], s["answerable"], s["unanswerable"]) == (4, 2, 2)
    assert s["citation_precision"] == 1.0  # the abstention cited nothing: excluded
    assert s["citation_recall"] == 0.5
    assert s["citation_f1"] == pytest.approx(2 / 3)
    assert s["fact_coverage"] == 0.5
    assert s["supported_sentence_share"] == pytest.approx(2 / 3)  # abstentions not counted
    assert s["hallucinated_citation_rate"] == pytest.approx(2 / 3)  # (1 outside + 1 invented) / 3
    assert s["abstain_precision"] == 0.5 and s["abstain_recall"] == 0.5
    assert s["false_abstention_rate"] == 0.5
    assert s["latency_p50_ms"] == 25 and s["latency_p95_ms"] == pytest.approx(38.5)


def test_check_thresholds_reports_each_violation():
    summary = {"ours": {"citation_f1": 0.7, "latency_p95_ms": 900.0, "recall@5": None}}
    limits = {
        "_note": "ignored",
        "ours": {
            "citation_f1": {"min": 0.8},
            "latency_p95_ms": {"max": 500},
            "recall@5": {"min": 0.5},
        },
        "baseline": {"citation_f1": {"min": 0.1}},
    }
    violations = check_thresholds(summary, limits)
    assert len(violations) == 4
    assert any("citation_f1" in v and "< min 0.8" in v for v in violations)
    assert any("latency_p95_ms" in v and "> max 500" in v for v in violations)
    assert check_thresholds(summary, {"ours": {"citation_f1": {"min": 0.6}}}) == []


def test_compare_deltas_and_flipped_questions():
    def run(f1, failing):
        records = [{"id": q, "answerable": True, "abstained": q in failing,
                    "scores": {"recall": 1.0}} for q in ("q1", "q2")]
        return {"meta": {}, "summary": {"ours": {"citation_f1": f1, "latency_p95_ms": 100.0}},
                "records": records}

    result = compare(run(0.5, {"q1"}), run(0.75, {"q2"}))
    assert result["metrics"]["citation_f1"]["delta"] == pytest.approx(0.25)
    assert result["metrics"]["citation_f1"]["better"] is True
    assert result["metrics"]["latency_p95_ms"]["delta"] == 0
    assert result["fixed"] == ["q1"] and result["broken"] == ["q2"]


def test_propose_thresholds_leaves_a_margin_on_the_right_side():
    from assistant.evaluation.report import propose_thresholds

    bounds = propose_thresholds({"citation_f1": 0.9, "false_abstention_rate": 0.05,
                                 "recall@1": None, "latency_p95_ms": 80.0}, margin=0.03)["ours"]
    assert bounds["citation_f1"] == {"min": 0.87}
    assert bounds["false_abstention_rate"] == {"max": 0.08}
    assert "recall@1" not in bounds and "latency_p95_ms" not in bounds
    assert check_thresholds({"ours": {"citation_f1": 0.9, "false_abstention_rate": 0.05}},
                            {"ours": bounds}) == []

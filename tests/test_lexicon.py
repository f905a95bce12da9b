"""Table-driven tests of the shared recognisers in assistant.lexicon."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.lexicon import (
    find_doc_numbers,
    int_to_cn,
    legal_label,
    match_marker,
    normalise_clause_ref,
    normalise_doc_number,
    parallel_share,
    parse_date,
    phrase_share,
    restates,
    strip_leading_marker,
)


@pytest.mark.parametrize(
    ("paragraph", "label", "rank"),
    [
        ("第一章 总则", "第一章", -2),
        ("第一章总则", "第一章", -2),
        ("第一章  总 则", "第一章", -2),
        ("第三编 合同", "第三编", -4),
        ("第二节 注册", "第二节", -1),
        ("第一条 为了保障公民…", "第一条", 0),
        ("第一条为了保障公民…", "第一条", 0),
        ("第一百二十四条 本办法自2021年10月1日起施行。", "第一百二十四条", 0),
        ("第12条 数字写的条", "第十二条", 0),
        ("1。加强领导", "1.", 3),
        ("１．全角数字", "1.", 3),
        ("四、一九四九年九月底以前参加革命工作的", "四、", 1),
        ("三", "三、", 1),  # a Markdown heading "## 三" whose text is on the next line
    ],
)
def test_markers(paragraph, label, rank):
    marker = match_marker(paragraph)
    assert marker is not None and (marker.label, marker.rank) == (label, rank)


@pytest.mark.parametrize(
    "paragraph",
    [
        "第十四条第（六）项规定的情形",  # cross-reference at a paragraph start
        "第二十条规定的医疗机构",
        "第一章、第二章的规定",
        "第一章 总则，以及以下各章",  # a sentence, not a heading
        "二、一、三条",
    ],
)
def test_cross_references_are_not_markers(paragraph):
    assert match_marker(paragraph) is None


@pytest.mark.parametrize(
    ("path", "label"),
    [
        (["第三章", "第十九条"], "第十九条"),
        (["第三章", "第十九条", "（四）"], "第十九条第（四）项"),
        (["第三章", "第十九条", "（四）", "1."], "第十九条第（四）项第1目"),
        (["第一章", "第二节"], "第一章第二节"),
        (["附件", "第一章", "第三条"], "附件第三条"),
        (["一、", "（一）"], "一、（一）"),
        (["附件", "一、"], "附件一、"),
    ],
)
def test_legal_labels(path, label):
    assert legal_label(path) == label


@pytest.mark.parametrize(
    ("ref", "label"),
    [
        ("第十九条第(四)项", "第十九条第（四）项"),
        ("第十九条第（四）项", "第十九条第（四）项"),
        ("第 19 条", "第十九条"),
        ("二、(三)1、", "二、（三）1."),
        ("(十四)", "（十四）"),
    ],
)
def test_clause_refs(ref, label):
    assert normalise_clause_ref(ref) == label


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("劳社部发[2008]3号", "劳社部发〔2008〕3号"),
        ("国发〔2019〕13 号", "国发〔2019〕13号"),
        ("国办发［2021］7号", "国办发〔2021〕7号"),
        ("国卫医发 [ 2021 ] 7 号", "国卫医发〔2021〕7号"),
        ("国务院令第709号", "国务院令第709号"),
        ("中华人民共和国国务院令 第 12 号", "国务院令第12号"),
        ("国家市场监督管理总局令第47号", "国家市场监督管理总局令第47号"),
        ("第十三届全国人民代表大会常务委员会第十五次会议通过", None),
    ],
)
def test_doc_number_spellings(raw, number):
    assert normalise_doc_number(raw) == number


def test_numbers_in_free_text():
    assert find_doc_numbers("依照国务院令第709号和劳社部发[2008]3号") == [
        "国务院令第709号", "劳社部发〔2008〕3号"]


@pytest.mark.parametrize(
    ("text", "when"),
    [("2019 年6 月24 日", date(2019, 6, 24)), ("2024 年 6 月 18 日", date(2024, 6, 18)),
     ("二〇二一年八月十一日", date(2021, 8, 11))],
)
def test_dates_with_extraction_spaces(text, when):
    assert parse_date(text) == when


def test_numerals_round_trip_past_one_hundred():
    assert [int_to_cn(n) for n in (10, 15, 100, 105, 115, 124)] == [
        "十", "十五", "一百", "一百零五", "一百一十五", "一百二十四"]


def test_strip_marker():
    assert strip_leading_marker("（一）加强领导") == "加强领导"
    assert strip_leading_marker("第三条 医疗机构") == "医疗机构"
    assert strip_leading_marker("没有编号") == "没有编号"


@pytest.mark.parametrize(
    ("paragraph", "label", "rank"),
    [
        ("第一部分 总体要求", "第一部分", -2),
        ("1）加强领导", "（1）", 4),
        ("12)落实责任", "（12）", 4),
    ],
)
def test_more_spellings(paragraph, label, rank):
    marker = match_marker(paragraph)
    assert marker is not None and (marker.label, marker.rank) == (label, rank)


def test_paragraph_unit_refs():
    assert normalise_clause_ref("第3段") == "第3段"
    assert normalise_clause_ref("第一部分") == "第一部分"


def test_a_restatement_shares_a_sentence_not_only_a_topic():
    law = "第二十条 医疗机构应当建立病历管理制度。病历保存期限不少于三十年。"
    rule = ("第十条 门诊病历由医院保管的，保存时间自末次就诊之日起不少于十五年。"
            "住院病历的保存期限不少于三十年，电子病历同样执行。")
    other = "第三条 医疗机构应当加强对病历的安全管理，防止病历丢失。"
    assert restates(law, rule)  # 病历保存期限不少于三十年 ≈ 住院病历的保存期限不少于三十年
    assert not restates(law, other)  # same topic (病历, 医疗机构), no sentence in common
    assert parallel_share(law, law) == 1.0 and parallel_share(law, "附件：1.") == 0.0


def test_phrase_share_counts_compounds_matched_whole_not_scattered_words():
    question = "急诊手术也要先做术前讨论吗？"
    whole = "除以紧急抢救生命为目的的急诊手术外，所有住院患者手术必须实施术前讨论。"
    scattered = "术前讨论的范围包括手术组讨论；急诊患者优先。"
    assert phrase_share(question, whole) == 8 / 13  # 急诊手术 + 术前讨论
    assert phrase_share(question, scattered) == 4 / 13  # 术前讨论; 急诊, 手术 apart
    assert phrase_share("？", whole) == 0.0

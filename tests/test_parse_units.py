"""Table-driven tests of the parsing pieces: markers, 文号, dates, cleaning, clause tree rules."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.ingest.clean import clean_text, drop_repeated_run, full_width_punctuation
from assistant.ingest.document import build_document
from assistant.ingest.metadata import find_doc_numbers, normalise_doc_number, parse_date, region_of
from assistant.ingest.parse import extract_units
from assistant.lexicon import match_marker, normalise_clause_ref, region_parts


@pytest.mark.parametrize(
    ("paragraph", "label"),
    [
        ("一、强化医疗", "一、"),
        ("十一、深化医疗服务价格改革", "十一、"),
        ("二十、严格监督管理", "二十、"),
        ("(一)大力推广", "（一）"),
        ("（十四）深入实施", "（十四）"),
        ("二)强化宣传引导", "（二）"),  # opening bracket lost
        ("1.全方位维护", "1."),
        ("12、建立", "12."),
        ("１．全角", "1."),
        ("(3)细项", "（3）"),
        ("②第二", "②"),
    ],
)
def test_markers_normalise_to_official_labels(paragraph, label):
    marker = match_marker(paragraph)
    assert marker is not None and marker.label == label


@pytest.mark.parametrize(
    "paragraph",
    ["2021年底前完成", "2-3个省级重点专科", "一是加强领导", "3.5亿元投入", "(DRG)付费",
     "（川医改发〔2020〕1号）要求", "按照本通知第三条执行", "60%以上的县"],
)
def test_numbers_that_are_not_markers(paragraph):
    assert match_marker(paragraph) is None


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("川办函〔2021〕56号", "川办函〔2021〕56号"),
        ("开州府办发〔2020109", "开州府办发〔2020〕109号"),
        ("川办函[2021]56号", "川办函〔2021〕56号"),
        ("川办函（2021）56号", "川办函〔2021〕56号"),
        ("川卫发 〔2017〕 65 号", "川卫发〔2017〕65号"),
        ("蜀ICP备12001330号-1", None),
        ("008282882/2021-00544", None),
        ("2017年全省卫生计生工作要点", None),
    ],
)
def test_doc_number_normalisation(raw, number):
    assert normalise_doc_number(raw) == number


def test_doc_numbers_found_in_a_question():
    assert find_doc_numbers("川卫发〔2017〕65号(十四)讲了什么？与川办函[2019]12号有何不同") == [
        "川卫发〔2017〕65号", "川办函〔2019〕12号"]


@pytest.mark.parametrize(
    ("text", "when"),
    [("2021年8月11日", date(2021, 8, 11)), ("20201027", date(2020, 10, 27)),
     ("2021-08-12", date(2021, 8, 12)), ("二〇二一年八月十一日", date(2021, 8, 11)),
     ("2021年13月40日", None), ("", None)],
)
def test_dates(text, when):
    assert parse_date(text) == when


@pytest.mark.parametrize(
    ("issuer", "region"),
    [("重庆市开州区人民政府办公室", "重庆市开州区"), ("海南州人民政府办公室", "海南州"),
     ("四川省卫生和计划生育委员会", "四川省"), ("国务院办公厅", None),
     # A joint notice of the Party committee and the government names its place after 中共.
     ("中共佛山市委办公室 佛山市人民政府办公室", "佛山市"),
     ("中共佛山市顺德区委办公室", "佛山市顺德区"), ("中共中央办公厅", None),
     # 市场 is a market, not a city: a national bureau names no place.
     ("国家市场监督管理总局", None), ("北京市市场监督管理局", "北京市")],
)
def test_region_from_issuer(issuer, region):
    assert region_of(issuer) == region


def test_a_region_names_its_places_level_by_level():
    assert region_parts("重庆市开州区") == ("重庆市", "开州区")  # not 开州 + 区
    assert region_parts("海南藏族自治州") == ("海南藏族自治州",)
    assert region_parts(None) == ()


def test_punctuation_width_follows_the_text_around_it():
    assert full_width_punctuation("各市(州)人民政府,有关单位:") == "各市（州）人民政府，有关单位："
    assert full_width_punctuation("分组(DRG)付费") == "分组（DRG）付费"
    assert full_width_punctuation("1,000 at 10:30") == "1,000 at 10:30"


def test_clause_refs_normalise():
    assert normalise_clause_ref("二、(三)1、") == "二、（三）1."
    assert normalise_clause_ref(" (十四) ") == "（十四）"


def test_repeated_body_kept_once():
    body = [f"（{n}）第{n}条内容，足够长的一段正文用于测试重复检测。" * 2 for n in "一二三四"]
    paragraphs, dropped = drop_repeated_run(["标题"] + body + ["网站导航"] + body)
    assert paragraphs == ["标题"] + body + ["网站导航"] and dropped == 4


def test_footer_and_breadcrumb_removed_body_kept():
    text = (
        "当前位置:首页 > 政策\n关于做好某项工作的通知\n一、加强领导。电话咨询由区卫生健康委负责。\n"
        "地址:\n某市某路1号\n电话:\n0813-8220310\n© 某网站 备案号:蜀ICP备1号\n"
    )
    result = clean_text(text)
    assert result.paragraphs == [
        "关于做好某项工作的通知",
        "一、加强领导。电话咨询由区卫生健康委负责。",
    ]


def test_units_from_bracketed_and_bare_notes():
    assert extract_units("……。（省医保局、省卫生健康委等按职责分工负责）") == [
        "省医保局",
        "省卫生健康委",
    ]
    assert extract_units("……。责任单位：州财政局、卫健委") == ["州财政局", "卫健委"]
    assert extract_units("（区卫生健康委负责，区级有关部门参与）") == [
        "区卫生健康委",
        "区级有关部门",
    ]
    assert extract_units("没有责任单位说明的条款。") == []


SYNTHETIC = """某某县人民政府办公室
关于印发某某工作方案的通知
某府办发〔2023〕7号
各乡镇人民政府：
现将方案印发给你们，请按照本通知第三条执行。
一、总体目标
到2025年，覆盖率达到90%。
（一）加强组织。成立领导小组。
这一段没有编号，属于（一）。
（二）落实经费（某财发〔2022〕3号）。
二、工作要求
各乡镇要高度重视，确保按期完成。
某某县人民政府办公室
2023年3月1日
"""


def test_synthetic_notice_rules():
    doc = build_document(SYNTHETIC, "synthetic.txt")
    assert doc.number == "某府办发〔2023〕7号"
    assert doc.signed == date(2023, 3, 1)
    # 二、工作要求 is a bare heading: the paragraph under it is its body, not the closing.
    assert [c.label for c in doc.clauses] == ["前言", "一、", "一、（一）", "一、（二）", "二、"]
    first = next(c for c in doc.clauses if c.label == "一、（一）")
    assert "属于（一）" in first.text
    assert doc.clauses[1].text == "一、总体目标\n到2025年，覆盖率达到90%。"


def test_empty_text_gives_a_document_with_a_warning_not_a_crash():
    doc = build_document("", "empty.txt")
    assert doc.clauses == [] and "no clauses found" in doc.warnings

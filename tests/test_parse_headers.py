"""Headers, 印发 notices with their rule, and files holding several documents (issue 21).

Each case is a small document written for the layout it stands for.
"""

from __future__ import annotations

import pytest

from assistant.answer.citations import render_reference
from assistant.ingest.document import build_document, build_documents
from assistant.lexicon import normalise_doc_number

NATIONAL = """关于稳妥扩大某项结算范围的通知
（医保办发〔2024〕19 号）
各省、自治区、直辖市医保局：
为落实有关要求，现将有关事项通知如下：
一、工作目标
到年底前全面完成扩围工作。
二、工作要求
各地要加强组织领导。
国家医保局办公室
2024年9月5日"""

ISSUED_RULE = """关于印发《示例考核管理办法》的通知
（卫医发〔2007〕66 号）
各省、自治区、直辖市卫生厅局：
我部组织制定了《示例考核管理办法》。现印发给你们，请遵照执行。
二〇〇七年二月九日
示例考核管理办法
第一章 总则
第一条 为了加强管理，制定本办法。
第二条 本办法适用于全国。
第二章 考核
第三条 考核每两年一次。
"""

SECOND = """关于印发示例病历规范（试行）的通知
（国卫办医发〔2017〕8 号）
各省、自治区、直辖市卫生计生委：
我委组织制定了《示例病历规范（试行）》。现印发给你们，请遵照执行。
国家卫生计生委办公厅
2017年2月15日
示例病历规范（试行）
第一章 总则
第一条 为规范管理，制定本规范。
第二条 本规范自印发之日起施行。
"""


@pytest.mark.parametrize(("line", "number"), [
    ("（医保办发〔2024〕19 号）", "医保办发〔2024〕19号"),
    ("(国卫医发〔2018〕8号)", "国卫医发〔2018〕8号"),
    ("依申请公开 佛卫办函〔2025〕11号", "佛卫办函〔2025〕11号"),
    ("国务院第735号令", "国务院令第735号"),
    ("（2019年3月2日中华人民共和国国务院令第709号公布）", None),
])
def test_number_lines_of_the_common_layouts(line, number):
    assert normalise_doc_number(line) == number


def test_standard_national_layout_title_then_bracketed_number():
    doc = build_document(NATIONAL, "n.txt")
    assert doc.number == "医保办发〔2024〕19号"
    assert doc.title == "关于稳妥扩大某项结算范围的通知"
    assert doc.signed.isoformat() == "2024-09-05"


def test_title_without_its_first_line_is_taken_from_above_the_number():
    text = "示例工作的通知\n（医保发〔2022〕22 号）\n各省医保局：\n" + NATIONAL.split("\n", 3)[3]
    assert build_document(text, "t.txt").title == "示例工作的通知"


def test_issued_rule_is_cited_as_its_own_articles():
    doc = build_document(ISSUED_RULE, "r.txt")
    assert doc.number == "卫医发〔2007〕66号"
    assert doc.rule_title == "示例考核管理办法"
    assert doc.signed.isoformat() == "2007-02-09"
    labels = [c.label for c in doc.clauses]
    assert "第三条" in labels and not any(label.startswith("附件") for label in labels)
    third = next(c for c in doc.clauses if c.label == "第三条")
    assert third.in_rule
    assert render_reference(doc, third) == "〔卫医发〔2007〕66号《示例考核管理办法》第三条〕"
    assert "《示例考核管理办法》" in third.context


def test_real_attachment_stays_attachment():
    text = NATIONAL.replace("各地要加强组织领导。", "各地要加强组织领导。\n附件：统计表") + "\n附件\n统计表\n地区：某市，人数：12，金额：300元。"
    doc = build_document(text, "a.txt")
    assert doc.rule_title is None
    assert any(c.path[0].startswith("附件") for c in doc.clauses)


def test_a_file_holding_two_documents_is_split():
    docs = build_documents(ISSUED_RULE + SECOND, "c.txt")
    assert [d.number for d in docs] == ["卫医发〔2007〕66号", "国卫办医发〔2017〕8号"]
    assert [d.source for d in docs] == ["c.txt", "c.txt#2"]
    assert docs[1].rule_title == "示例病历规范（试行）"
    assert docs[1].issuer == "国家卫生计生委办公厅"
    assert len({d.doc_id for d in docs}) == 2
    assert all("split from a file holding 2 documents" in " ".join(d.warnings) for d in docs)


def test_one_document_is_not_split_by_the_title_of_its_own_header():
    assert len(build_documents(NATIONAL, "n.txt")) == 1

"""Legal structure (编/章/节/条/款/项/目) and notice edge cases, on small documents written here."""

from __future__ import annotations

import pytest

from assistant.ingest.document import build_document
from assistant.service.assistant import resolve_clause

CHAPTERED = """# 某某管理条例

（2019年3月2日中华人民共和国国务院令第709号公布　自公布之日起施行）

<!-- INFO END -->

{chapter1}

第一条 为了加强管理，制定本条例。

第二条 本条例适用于本市。依照本条例第二十条的规定执行。

{chapter2}

第一节 一般规定

第三条 有下列情形之一的，不予登记：

(一)不符合规划的；

(二)不能独立承担民事责任的；

第十四条第（六）项规定的情形除外。

第二节 特别规定

第四条 医疗机构应当遵守下列规定：

（一）执业人员应当持证；

1. 医师；

2. 护士。

第四条第二款是一个普通段落，属于第四条。

第五条 本条例自公布之日起施行。各地应当遵照执行。
"""

SPELLINGS = [
    ("## 第一章 总则", "## 第二章 设置审批"),
    ("## 第一章　总　　则", "## 第二章　设置审批"),
    ("## 第一章  总 则", "## 第二章  设置审批"),
    ("第一章总则", "第二章设置审批"),
]


@pytest.mark.parametrize(("chapter1", "chapter2"), SPELLINGS)
def test_chapter_spellings_give_one_tree(chapter1, chapter2):
    doc = build_document(CHAPTERED.format(chapter1=chapter1, chapter2=chapter2), "tiaoli.md")
    assert [c.path for c in doc.clauses] == [
        ["第一章"], ["第一章", "第一条"], ["第一章", "第二条"],
        ["第二章"], ["第二章", "第一节"], ["第二章", "第一节", "第三条"],
        ["第二章", "第一节", "第三条", "（一）"], ["第二章", "第一节", "第三条", "（二）"],
        ["第二章", "第一节", "第三条", "第二款"],
        ["第二章", "第二节"], ["第二章", "第二节", "第四条"],
        ["第二章", "第二节", "第四条", "（一）"], ["第二章", "第二节", "第四条", "（一）", "1."],
        ["第二章", "第二节", "第四条", "（一）", "2."], ["第二章", "第二节", "第四条", "第二款"],
        ["第二章", "第二节", "第五条"],
    ]
    labels = [c.label for c in doc.clauses]
    assert "第三条第（二）项" in labels and "第四条第（一）项第1目" in labels
    assert doc.clauses[0].heading == "总则"


def test_articles_keep_their_paragraphs_and_cross_references():
    doc = build_document(CHAPTERED.format(chapter1="第一章 总则", chapter2="第二章 设置"), "t.md")
    by_label = {c.label: c for c in doc.clauses}
    assert "依照本条例第二十条" in by_label["第二条"].text
    # A paragraph after an article's 项 is its next 款, addressable; a cross-reference inside
    # it opens nothing.
    assert by_label["第三条第二款"].text == "第十四条第（六）项规定的情形除外。"
    assert by_label["第四条第二款"].text.startswith("第四条第二款是一个普通段落")
    assert by_label["第四条第（一）项第2目"].text == "2. 护士。"
    # The last article keeps its second sentence: a law has no 结尾.
    assert by_label["第五条"].text.endswith("各地应当遵照执行。")
    assert not [c for c in doc.clauses if c.kind == "closing"]
    for clause in doc.clauses:
        assert doc.text[clause.start:clause.end] == clause.text


@pytest.mark.parametrize(
    "ref", ["第三条", "第三条第（二）项", "第三条第(二)项", "第 3 条", "第三条第二款"]
)
def test_service_resolves_lawyer_labels(ref):
    doc = build_document(CHAPTERED.format(chapter1="第一章 总则", chapter2="第二章 设置"), "t.md")
    assert resolve_clause(doc, ref).label.startswith("第三条")


def test_second_list_of_an_article_hangs_on_its_paragraph():
    text = (
        "某某管理法\n第九十八条 禁止生产假药、劣药。\n"
        "有下列情形之一的，为假药：\n（一）成份不符的；\n"
        "（二）以非药品冒充药品的；\n有下列情形之一的，为劣药：\n（一）含量不符合标准；\n"
        "（二）被污染的药品。\n禁止未取得批准证明文件生产药品。\n"
    )
    doc = build_document(text, "law.txt")
    assert [c.label for c in doc.clauses] == [
        "第九十八条", "第九十八条第（一）项", "第九十八条第（二）项", "第九十八条第三款",
        "第九十八条第三款第（一）项", "第九十八条第三款第（二）项", "第九十八条第四款"]
    assert not any("twice" in w for w in doc.warnings)


def test_flat_articles_without_chapters():
    text = "某某献血法\n" + "\n".join(
        f"第{n}条 第{n}条的内容，足够长的一句话。" for n in "一二三四五六七八九十") + "\n"
    doc = build_document(text, "flat.txt")
    assert [c.label for c in doc.clauses] == [f"第{n}条" for n in "一二三四五六七八九十"]


NOTICE_WITH_RULES = """某某市卫生健康委员会
某卫发〔2024〕15 号
关于印发某某管理办法的通知
各区卫生健康局：
现将《某某管理办法》印发给你们，请认真贯彻执行。
附件：1.某某管理办法
2.某某登记表
某某市卫生健康委员会
2024年5月6日
附件1
某某管理办法
第一章 总则
第一条 为了规范管理，制定本办法。
第二条 本办法适用于本市。
第二章 附则
第三条 本办法自印发之日起施行。
"""


def test_notice_whose_attachment_is_a_chaptered_rule():
    doc = build_document(NOTICE_WITH_RULES, "notice.txt")
    assert doc.number == "某卫发〔2024〕15号"
    assert doc.title == "关于印发某某管理办法的通知"
    labels = [c.label for c in doc.clauses]
    # Issue 21: the rule a notice issues is cited by its own articles, not as 附件1第一条.
    assert labels == ["前言", "第一章", "第一条", "第二条", "第二章", "第三条"]
    assert doc.rule_title == "某某管理办法"
    assert "2.某某登记表" in doc.clauses[0].text  # the attachment list is not a set of clauses


def test_unknown_numbering_becomes_paragraph_units():
    paragraphs = [
        f"这是第{n}段正文，没有任何编号，但内容足够长，需要能够单独检索和引用。" for n in range(5)
    ]
    doc = build_document("某某新闻标题\n" + "\n".join(paragraphs), "news.txt")
    assert [c.label for c in doc.clauses] == [f"第{n}段" for n in range(1, 6)]
    assert any("no known clause numbering" in w for w in doc.warnings)


NOTICE_EDGE = """关于做好某项工作的通知
各县（市、区）：
为做好某项工作，现通知如下。
一、总体要求
（一）提高认识。认真落实。
（二）加强领导。成立领导小组。
二、重点任务
（三）推进改革。编号跨部分连续。
1。完善制度。句号写作点。
二、重复的一级编号
（四）强化保障。
"""


def test_notice_numbering_edge_cases():
    doc = build_document(NOTICE_EDGE, "edge.txt")
    labels = [c.label for c in doc.clauses]
    assert labels == ["前言", "一、", "一、（一）", "一、（二）", "二、", "二、（三）",
                      "二、（三）1.", "二、", "二、（四）"]
    assert any("label appears twice" in w for w in doc.warnings)
    assert len({c.clause_id for c in doc.clauses}) == len(doc.clauses)


def test_table_of_contents_is_not_a_second_set_of_chapters():
    text = (
        "某某管理条例\n目　　录\n第一章 总则\n第二章 设置审批\n第三章 附则\n第一章 总则\n"
        "第一条 为了加强管理，制定本条例。\n第二章 设置审批\n第二条 设置应当审批。\n第三章 附则\n"
        "第三条 本条例自公布之日起施行。\n"
    )
    doc = build_document(text, "toc.txt")
    assert [c.label for c in doc.clauses] == [
        "前言",
        "第一章",
        "第一条",
        "第二章",
        "第二条",
        "第三章",
        "第三条",
    ]
    assert "第三章 附则" in doc.clauses[0].text and not doc.warnings


def test_an_articles_items_carry_its_lead_in_in_their_context():
    # Read alone, “（一）非法采集血液的；” states nothing: the penalty is in the article's
    # lead-in, so a 项 (and a 目 below it) carries that lead-in, the way a lawyer reads it.
    text = ("某某献血法\n第十八条 有下列行为之一的，由县级以上地方人民政府卫生行政部门予以取缔，"
            "可以并处十万元以下的罚款：\n（一）非法采集血液的；\n1. 在街头采集的；\n"
            "（二）非法组织他人出卖血液的。\n第十九条 本法自公布之日起施行。\n")
    by_label = {c.label: c for c in build_document(text, "law.txt").clauses}
    lead = ("第十八条 有下列行为之一的，由县级以上地方人民政府卫生行政部门予以取缔，"
            "可以并处十万元以下的罚款：")
    assert by_label["第十八条第（一）项"].context == ["某某献血法", lead]
    assert by_label["第十八条第（一）项第1目"].context[1] == lead
    assert by_label["第十八条第（二）项"].text == "（二）非法组织他人出卖血液的。"  # text unchanged
    assert by_label["第十九条"].context == ["某某献血法"]
    # Notices keep their label + heading context.
    notice = build_document("某某通知\n一、总体要求\n（一）加强领导。各地要落实。\n", "n.txt")
    assert notice.clauses[-1].context == ["某某通知", "一、总体要求"]

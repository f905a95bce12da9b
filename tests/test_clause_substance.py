"""Clauses that state nothing of their own, and clauses about the opposite scope (issue 26).

A structural heading (第二节 简易程序, 一、会诊时限 above its items) or a line naming an
attachment (附件：…登记表) matches a question's words better than the item that answers it,
but states no rule: it is not evidence unless the question names it. A clause about
机构内会诊 does not answer a question about 机构外会诊. Unit tests on the lexicon and on
`assess`, and end to end over a notice written here (hashing embedder, real index).
"""

from __future__ import annotations

import pytest
from answer_fixtures import build_store, make_doc, scored

from assistant.answer.evidence import assess, load_model
from assistant.lexicon import opposite_scope, states_nothing
from assistant.query import analyse
from assistant.service import answer_question

NOTICE = """测试县卫生健康局关于加强会诊管理的通知

各乡镇卫生院，县级各医疗机构：
为规范会诊工作，现将有关事项通知如下：
一、会诊时限
（一）机构内急会诊应当在会诊请求发出后10分钟内到位。
（二）机构内普通会诊应当在会诊请求发出后24小时内完成。
二、会诊记录
会诊意见应当在病历中记录，由会诊医师签名。

附件：测试县会诊登记表

测试县卫生健康局
2025年3月1日
"""


# An item of an article is a condition; its consequence is in the article's lead-in.
LAW = """测试省献血管理条例

第一章 总则
第一条 为了保障献血安全，根据有关法律，制定本条例。
第二章 法律责任
第十条 有下列行为之一的，由县级以上卫生行政部门责令改正，可以并处五万元以下的罚款：
（一）非法组织他人出卖血液的；
（二）血站出售无偿献血的血液的。
第十一条 本条例自2025年1月1日起施行。
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The sample corpus with the notice and the regulation written here (one index)."""
    return build_store(tmp_path_factory.mktemp("index"), "hashing",
                       {"consult.md": NOTICE, "law.md": LAW})


@pytest.mark.parametrize("path, text, reason", [
    (["第五章", "第二节"], "第二节 简易程序", "只是章节标题"),
    (["二、"], "二、进一步规范门诊慢特病费用跨省直接结算政策", "只是标题"),
    (["第2段"], "附件：区域电网输电价格定价办法", "只列出附件名称"),
    (["结尾"], "附件：1.会诊登记表\n2.会诊统计报表", "只列出附件名称"),
    # An item is the rule itself, however short; a section with a sentence states something.
    (["第五章", "第二十七条", "（四）"], "（四）代他人参加医师资格考试的；", None),
    (["第二章", "（三）"], "（三）心血管内科", None),
    (["一、"], "一、督导时间 4月15日-4月27日，具体时间另行协商。", None),
    (["三、"], "三、本通知自印发之日起施行。附件：会诊登记表", None),
])
def test_a_clause_states_nothing_when_it_is_only_a_heading_or_an_attachment_line(
        path, text, reason):
    assert states_nothing(path, text) == reason


@pytest.mark.parametrize("question, text, found", [
    ("机构外会诊接到邀请后多久要到？", "机构内急会诊应当在会诊请求发出后10分钟内到位", "机构外"),
    ("省内就医怎么结算？", "省外就医费用按参保地规定结算", "省内"),
    # Both scopes stated: the clause may answer.
    ("机构外会诊多久要到？", "机构内会诊10分钟内到位，机构外会诊24小时内到位", None),
    # The other scope of something else (国内工伤保险关系) says nothing against 国外工作.
    ("被派到国外工作的员工工伤保险怎么办？", "其国内工伤保险关系中止", None),
])
def test_a_clause_stating_only_the_opposite_scope_is_found(question, text, found):
    assert opposite_scope(question, text) == found


def test_a_heading_is_no_evidence_unless_the_question_routes_to_it():
    doc = make_doc("d1", [
        (["第二章", "第二节"], "第二节 简易程序"),
        (["第二章", "第二节", "第二十条"], "第二十条 简易程序为本人书写述职报告，报考核机构审核。"),
    ], title="测试考核办法")
    query = analyse("考核的简易程序具体怎么走？")
    heading, article = assess(query, [scored(doc, 0), scored(doc, 1)], load_model())
    assert not heading.admissible and heading.unmet == ["该条只是章节标题"]
    assert article.admissible
    routed = scored(doc, 0).model_copy(update={"routed": True})
    assert assess(query, [routed], load_model())[0].admissible


def test_a_question_matching_a_heading_is_answered_by_its_items(written):
    store, settings = written
    answer = answer_question("测试县会诊时限是怎么规定的？", store, settings)
    labels = [c.label for c in answer.citations if c.title.startswith("测试县")]
    assert labels and all(label.startswith("一、（") for label in labels), labels
    assert "10分钟" in answer.answer or "24小时" in answer.answer


def test_a_question_about_the_opposite_scope_is_not_answered_from_it(written):
    store, settings = written
    answer = answer_question("测试县机构外会诊接到邀请后多久要到位？", store, settings)
    assert not [c for c in answer.citations if c.title.startswith("测试县")], answer.citations


def test_an_item_carries_its_article_s_lead_in_to_the_backend():
    from assistant.answer.context import article_lead_in, render_block
    from assistant.ingest.document import build_document
    from assistant.models import ScoredClause

    doc = build_document(LAW, "law.md")
    item = next(c for c in doc.clauses if c.text.startswith("（一）"))
    article = next(c for c in doc.clauses if c.path[-1] == "第十一条")
    assert article_lead_in(item).startswith("第十条 有下列行为之一的")
    assert article_lead_in(article) is None
    block = render_block(1, ScoredClause(clause=item, doc=doc.info(), score=1.0))
    assert "所属条文：第十条 有下列行为之一的" in block and "五万元以下的罚款" in block


def test_an_asked_amount_stated_in_the_lead_in_is_answered_with_it(written):
    store, settings = written
    answer = answer_question("测试省非法组织他人出卖血液的，最多罚多少钱？", store, settings)
    ours = [c for c in answer.citations if c.title.startswith("测试省")]
    assert ours and ours[0].label.startswith("第十条"), answer.citations
    first = answer.answer.split("。")[0]
    assert "五万元以下" in first, answer.answer  # the lead-in's amount leads
    assert "非法组织他人出卖血液" in answer.answer  # and the item stays
    assert all(s.supported for s in answer.sentences), answer.sentences


def test_the_cited_item_carries_its_lead_in_to_the_api_and_the_chat_page(written):
    from assistant.ui.render import source_block

    store, settings = written
    answer = answer_question("测试省非法组织他人出卖血液的，最多罚多少钱？", store, settings)
    item = next(c for c in answer.citations if c.label.endswith("第（一）项"))
    assert item.lead_in.startswith("第十条 有下列行为之一的")
    assert "lead_in" in answer.model_dump(mode="json")["citations"][0]
    html = source_block(item, 0, [answer.answer])
    assert "所属条文：" in html and html.index("所属条文") < html.index("非法组织他人出卖血液")
    assert '<mark class="pa-support">' in html.split("pa-clause-text")[0]  # the cited lead-in

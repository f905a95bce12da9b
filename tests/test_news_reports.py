"""News reports in a library of policy texts (corpus-dev2's distractors).

A news report tells of a policy (新华社…电, （记者…）, 通讯员, …发布于…官方账号) but is no
basis for an answer: it is indexed and searchable, never cited; a question only a report
answers is refused, saying so.
"""

from __future__ import annotations

import pytest
from answer_fixtures import build_store

from assistant.ingest.document import build_document
from assistant.lexicon import news_markers
from assistant.service import answer_question

# Our own wire story: no 文号, no numbering, a dateline and a reporter's credit.
WIRE_STORY = """测试省启动社区药师服务提升三年行动
新华社测试城5月8日电（记者王某某）测试省卫生健康委日前宣布，启动社区药师服务提升三年行动。
据了解，到2027年底，全省每个社区卫生服务中心至少配备3名临床药师。
测试省卫生健康委相关负责人介绍，行动将分三个阶段推进。
"""

# A post on an official account: its platform line is the marker.
ACCOUNT_POST = """测试县家庭医生团队走进乡村
测试县卫生健康局
2025-04-02 10:15发布于测试省测试县卫生健康局官方账号
近日，测试县家庭医生团队走进乡村，为群众提供健康体检服务。
"""

# A notice whose numbered clause quotes a reporter: a rule, not news.
NOTICE_QUOTING_PRESS = """测试市卫生健康委员会
关于做好社区药师配备工作的通知
测卫药〔2025〕4号
各区卫生健康局：
一、配备要求。每个社区卫生服务中心至少配备2名临床药师。
二、宣传报道。各区要配合市日报“本报讯”栏目做好配备工作的宣传。
测试市卫生健康委员会
2025年6月1日
"""


@pytest.mark.parametrize("text, name", [(WIRE_STORY, "wire.txt"),
                                        (ACCOUNT_POST, "post.txt")])
def test_a_news_report_is_read_as_news(text, name):
    doc = build_document(text, name)
    assert doc.genre == "news"
    assert any("news report" in w for w in doc.warnings)


def test_a_numbered_notice_with_a_number_is_a_rule_even_when_it_names_reporters():
    assert news_markers(NOTICE_QUOTING_PRESS)  # it holds a marker …
    assert build_document(NOTICE_QUOTING_PRESS, "notice.txt").genre is None  # … and is a rule


def test_an_unnumbered_text_without_news_markers_is_not_news():
    text = "测试市医疗机构名单\n测试市第一人民医院、测试市中医院。\n"
    assert build_document(text, "list.txt").genre is None
    # A notice as a government site prints it: its editor line is no news marker, nor is
    # a sentence that names a correspondent's duty or a press contact.
    page = ("测试市卫生健康委员会关于做好夏季食品安全工作的通知\n各区卫生健康局：\n"
            "请各区加强夏季食品安全宣传，各单位要确定1名通讯员，负责信息报送。\n"
            "接受记者采访时，统一由办公室发布信息（记者联系电话另行通知）。\n"
            "测试市卫生健康委员会\n2025年6月1日\n责任编辑：张三\n")
    assert not news_markers(page)
    assert build_document(page, "page.html").genre is None


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("news"), "hashing",
                       {"wire.txt": WIRE_STORY, "notice.txt": NOTICE_QUOTING_PRESS})


def test_a_question_only_a_news_report_answers_is_refused_saying_so(store):
    index, settings = store
    answer = answer_question("到2027年底测试省每个社区卫生服务中心要配备几名临床药师？",
                             index, settings)
    assert answer.abstained, answer.answer
    assert any("新闻报道《测试省启动社区药师服务提升三年行动》" in w and "不是政策文件" in w
               for w in answer.warnings), answer.warnings
    assert all(s.doc.genre != "news" for s in answer.retrieved)


def test_a_rule_answers_where_a_news_report_says_something_close(store):
    index, settings = store
    answer = answer_question("测试市每个社区卫生服务中心至少配备几名临床药师？", index, settings)
    assert not answer.abstained, answer.warnings
    assert [c.number for c in answer.citations] == ["测卫药〔2025〕4号"]
    assert "2名" in answer.sentences[0].text


def test_a_news_report_stays_searchable(store):
    index, _ = store
    assert any(d.genre == "news" for d in index.documents)


@pytest.mark.parametrize("line, news", [
    ("新华社北京12月21日电（记者彭韵佳）国家医保局日前宣布…", True),
    ("某某网·某某新闻2月21日讯 为增强群众健康意识…", True),
    ("　　某某日报记者张某某", True),
    ("　　通讯员李某王某某", True),
    ("市民在站台候车。通讯员 供图", True),
    ("2025-02-21 12:13发布于某某省某某台官方账号", True),
    ("各单位要确定1名通讯员，负责信息报送。", False),
    ("责任编辑：张三", False),
    ("（二）自2025年3月1日起施行。", False),
])
def test_news_markers(line, news):
    assert bool(news_markers(line)) is news

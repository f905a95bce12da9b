"""Table-driven tests of metadata reading on small documents written here: 文号 spellings,
titles in their layouts, law issuance lines, datelines and status."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.ingest.document import build_document
from assistant.ingest.pdf_text import pdf_pages_to_text
from assistant.models import DocStatus

BODY = ("各有关单位：\n为做好相关工作，现将有关事项通知如下。\n"
        "一、加强领导。各单位要高度重视。\n二、抓好落实。按期完成任务。\n")


@pytest.mark.parametrize(
    ("number_line", "number"),
    [
        ("某卫发〔2024〕15号", "某卫发〔2024〕15号"),
        ("某卫发〔2024〕15 号", "某卫发〔2024〕15号"),
        ("某卫发[2021] 7 号", "某卫发〔2021〕7号"),
        ("某卫发［2021］7号", "某卫发〔2021〕7号"),
        ("某卫发 〔 2021 〕 7 号", "某卫发〔2021〕7号"),
        ("中华人民共和国国务院令 第 12 号", "国务院令第12号"),
        ("国务院令第709号", "国务院令第709号"),
    ],
)
def test_own_number_in_every_spelling(number_line, number):
    doc = build_document(
        f"某某市卫生健康委员会\n{number_line}\n关于做好某项工作的通知\n{BODY}", "n.txt"
    )
    assert doc.number == number


def test_a_cited_number_is_never_the_documents_own():
    text = (
        "关于做好某项工作的通知\n各有关单位：\n"
        "根据《某某通知》（某卫办函〔2024〕9 号）要求，现通知如下。\n"
        "一、加强领导。依照国务院令第709号执行。\n"
    )
    assert build_document(text, "n.txt").number is None


@pytest.mark.parametrize(
    ("header", "title", "issuer"),
    [
        # red-header layout: issuer, 文号, title over two lines
        (
            "某某市卫生健康委员会\n某卫发〔2024〕15号\n关于进一步做好某某\n工作的通知",
            "关于进一步做好某某工作的通知",
            "某某市卫生健康委员会",
        ),
        # issuer-prefixed title wrapped after the issuer's first character
        (
            "某某市卫生健康局 某某市教育\n局关于进一步做好学校\n防控工作的通知",
            "某某市卫生健康局 某某市教育局关于进一步做好学校防控工作的通知",
            None,
        ),
        # an attachment file: 附件N then its title over two lines
        (
            "附件4\n某省健康体重管理与健康食品产业\n发展行动",
            "某省健康体重管理与健康食品产业发展行动",
            None,
        ),
        ("# 某某管理条例\n\n<!-- INFO END -->", "某某管理条例", None),
    ],
)
def test_titles(header, title, issuer):
    doc = build_document(f"{header}\n{BODY}", "t.md")
    assert doc.title == title
    if issuer:
        assert doc.issuer == issuer


@pytest.mark.parametrize(
    ("line", "issuer", "published", "effective"),
    [
        ("（2019年3月2日中华人民共和国国务院令第709号公布　自公布之日起施行）", "国务院",
         date(2019, 3, 2), date(2019, 3, 2)),
        ("1994年2月26日 中华人民共和国国务院令第149号发布", "国务院", date(1994, 2, 26), None),
        ("2019年12月28日 第十三届全国人民代表大会常务委员会第十五次会议通过",
         "全国人民代表大会常务委员会", date(2019, 12, 28), None),
        ("2020年9月25日 北京市第十五届人民代表大会常务委员会第二十四次会议通过",
         "北京市人民代表大会常务委员会", date(2020, 9, 25), None),
        ("2021年8月26日 国家市场监督管理总局令第47号公布\n2021年10月1日 施行",
         "国家市场监督管理总局", date(2021, 8, 26), date(2021, 10, 1)),
        (("2001年2月28日 第九届全国人民代表大会常务委员会第二十次会议第一次修订\n"
          "2019年8月26日 第十三届全国人民代表大会常务委员会第十二次会议第二次修订"),
         "全国人民代表大会常务委员会", date(2019, 8, 26), None),
    ],
)
def test_law_issuance_lines(line, issuer, published, effective):
    text = (f"# 某某条例\n\n{line}\n\n<!-- INFO END -->\n\n"
            "第一条 为了规范管理，制定本条例。\n第二条 本条例自公布之日起施行。\n")
    doc = build_document(text, "law.md")
    assert (doc.issuer, doc.published, doc.effective, doc.number) == (
        issuer,
        published,
        effective,
        None,
    )


@pytest.mark.parametrize(
    ("title_line", "status"),
    [
        ("关于印发某某管理办法的通知（征求意见稿）", DocStatus.DRAFT),
        ("某某条例（草案）", DocStatus.DRAFT),
        ("某某管理办法（试行）", DocStatus.TRIAL),
        ("某某管理暂行办法", DocStatus.TRIAL),
        ("关于印发某某方案的通知（已废止）", DocStatus.REPEALED),
        ("关于印发某某方案的通知", None),
    ],
)
def test_status_as_stated(title_line, status):
    doc = build_document(f"{title_line}\n{BODY}", "s.txt")
    assert doc.status == status
    assert doc.in_force == (status not in (DocStatus.DRAFT, DocStatus.REPEALED))


def test_signature_date_and_news_dateline():
    notice = build_document(
        f"关于做好某项工作的通知\n{BODY}某某县人民政府办公室\n2024 年 6 月 18 日\n抄送：县委办。\n",
        "n.txt",
    )
    assert notice.signed == date(2024, 6, 18)
    assert not [c for c in notice.clauses if "抄送" in c.text]
    news = build_document(
        "某县：把健康融入所有政策\n2024-12-06 17:27:07 来源：某某新闻网\n"
        + "\n".join("这是一段新闻正文，讲述了某县推进健康工作的做法和成效。" * 2 for _ in range(4)),
        "news.txt",
    )
    assert (news.title, news.published, news.issuer) == (
        "某县：把健康融入所有政策",
        date(2024, 12, 6),
        "某某新闻网",
    )
    assert [c.label for c in news.clauses] == ["第1段", "第2段", "第3段", "第4段"]


def test_pdf_layout_is_undone():
    line = "各学校托幼机构要将传染病防控工作作为当前学校卫生工作的重中"
    pages = [
        (f"佛 山 市 顺 德 区 教 育 局\n依申请公开\n关于做好某项工作的通知\n一、加强组织管理\n"
         f"{line}\n之重，校长为第一责任人。\n— 2 —"),
        ("二、广泛开展\n大力开展爱国卫生运动，落实国发〔2019〕13 号要求，2019 年6 月24 日前完\n"
         "成。\n- 3 -"),
        "三、其他\n附件：2.“预防登革热”致家长的一封信（供\n参考）\n第 4 页 共 4 页",
    ]
    text = pdf_pages_to_text(pages)
    assert text.splitlines() == [
        "佛山市顺德区教育局",
        "关于做好某项工作的通知",
        "一、加强组织管理",
        line + "之重，校长为第一责任人。",
        "二、广泛开展",
        "大力开展爱国卫生运动，落实国发〔2019〕13号要求，2019年6月24日前完成。",
        "三、其他",
        "附件：2.“预防登革热”致家长的一封信（供参考）",
    ]


ORDER = """中华人民共和国国务院令
第709号
《医疗保障基金使用监督管理条例》已经2020年12月9日国务院第117次常务会议通过，现予公布，自2021年5月1日起施行。
总理 李克强
2021年1月15日
医疗保障基金使用监督管理条例
第一章 总则
第一条 为了加强医疗保障基金使用监督管理，制定本条例。
第二章 附则
第二条 本条例自2021年5月1日起施行。
"""


def test_an_order_that_promulgates_a_regulation():
    doc = build_document(ORDER, "order.txt")
    assert (doc.number, doc.title) == ("国务院令第709号", "医疗保障基金使用监督管理条例")
    assert [c.label for c in doc.clauses] == ["前言", "第一章", "第一条", "第二章", "第二条"]


RED_HEADER = """某某县卫生健康局
某卫发〔2024〕15号
某某县卫生健康局关于做好某项工作的通知
各乡镇卫生院：
为做好某项工作，经研究，现将有关事项通知如下。
一、提高认识
各乡镇卫生院要充分认识做好此项工作的重要意义。
二、加强督导
各乡镇卫生院要于6月底前报送工作开展情况。
某某县卫生健康局
2024年5月6日
"""


def test_hand_written_red_header_notice():
    doc = build_document(RED_HEADER, "red.txt")
    assert (doc.number, doc.title, doc.issuer) == (
        "某卫发〔2024〕15号", "某某县卫生健康局关于做好某项工作的通知", "某某县卫生健康局")
    assert [c.label for c in doc.clauses] == ["前言", "一、", "二、"]  # no 结尾: it is 二、's body
    assert doc.clauses[-1].text.endswith("报送工作开展情况。")
    assert doc.signed == date(2024, 5, 6)


def test_one_bracketed_line_with_the_whole_history():
    text = (
        "中华人民共和国某某法\n（1984年9月20日第六届全国人民代表大会常务委员会第七次会议通过　"
        "2001年2月28日第九届全国人民代表大会常务委员会第二十次会议修订　根据2013年12月28日第十二届"
        "全国人民代表大会常务委员会第六次会议《关于修改〈某某法〉等七部法律的决定》第一次修正　"
        "2019年8月26日第十三届全国人民代表大会常务委员会第十二次会议第二次修订　"
        "自2019年12月1日起施行）\n"
        "第一条 为了规范管理，制定本法。\n第二条 本法适用于全国。\n"
    )
    doc = build_document(text, "law.txt")
    assert doc.title == "中华人民共和国某某法"
    assert (doc.published, doc.effective, doc.issuer) == (
        date(2019, 8, 26), date(2019, 12, 1), "全国人民代表大会常务委员会")
    assert doc.history == [
        "1984-09-20 通过",
        "2001-02-28 修订",
        "2013-12-28 修正",
        "2019-08-26 修订",
        "2019-12-01 施行",
    ]


def test_pdf_running_header_printed_on_every_page_is_dropped():
    pages = [
        f"某某市人民政府公报\n{n}、第{n}部分的内容。\n某某市人民政府办公室印发" for n in "一二三四"
    ]
    assert pdf_pages_to_text(pages).splitlines() == [f"{n}、第{n}部分的内容。" for n in "一二三四"]


def test_pdf_bracket_broken_before_a_number_is_joined():
    pages = ["一、加强管理\n每周开展1次喷雾（参考附件\n1）广泛发动师生做好卫生。"]
    assert pdf_pages_to_text(pages).splitlines() == [
        "一、加强管理",
        "每周开展1次喷雾（参考附件1）广泛发动师生做好卫生。",
    ]

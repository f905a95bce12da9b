"""Headers, 印发 notices with their rule, and files holding several documents (issue 21).

Each case is a small document written for the layout it stands for.
"""

from __future__ import annotations

import pytest

from assistant.answer.citations import render_reference
from assistant.ingest.document import build_document, build_documents
from assistant.ingest.pipeline import ingest_files
from assistant.lexicon import normalise_doc_number
from assistant.retrieval.routing import find_documents
from assistant.settings import Settings

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


@pytest.mark.parametrize(
    ("head", "title", "issuer"),
    [
        # a title over two lines whose first line ends like a body's name
        (
            "某某区镇街蚊媒传染病流调指挥分中心\n规范化、标准化建设指引",
            "某某区镇街蚊媒传染病流调指挥分中心规范化、标准化建设指引",
            None,
        ),
        # a letterhead issuer over a plain title stays the issuer
        ("某某市卫生健康局\n示例工作规范", "示例工作规范", "某某市卫生健康局"),
        # title over three lines under the 文号-less red header
        (
            "某某市卫生健康局\n关于开展2025年医疗机构\n登革热病例强化监测\n工作的通知",
            "关于开展2025年医疗机构登革热病例强化监测工作的通知",
            "某某市卫生健康局",
        ),
    ],
)
def test_titles_over_several_lines(head, title, issuer):
    doc = build_document(f"{head}\n{BODY}", "t.txt")
    assert (doc.title, doc.issuer) == (title, issuer)


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
    text = (
        NATIONAL.replace("各地要加强组织领导。", "各地要加强组织领导。\n附件：统计表")
        + "\n附件\n统计表\n地区：某市，人数：12，金额：300元。"
    )
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


BODY = """各区卫生健康局：
为做好有关工作，现将有关事项通知如下：
一、工作要求
各单位要按时完成。
二、工作安排
请于月底前报送。"""


@pytest.mark.parametrize(("sign_off", "issuer", "signed"), [
    # joint issuers on consecutive lines
    ("国家医保局办公室\n财政部办公厅\n2024年9月5日", "国家医保局办公室 财政部办公厅", "2024-09-05"),
    # issuer and date on one line, letter-spaced
    ("卫 生 部 二〇〇五年十一月十四日", "卫生部", "2005-11-14"),
    ("中共某某区委办公室 某某区人民政府办公室2025年7月22日",
     "中共某某区委办公室 某某区人民政府办公室", "2025-07-22"),
    # the second issuer letter-spaced to the first one's width
    ("国家发展改革委\n国 家 能 源 局\n2020年5月28日", "国家发展改革委 国家能源局", "2020-05-28"),
])
def test_sign_off_layouts(sign_off, issuer, signed):
    doc = build_document(f"关于做好示例工作的通知\n{BODY}\n{sign_off}", "s.txt")
    assert doc.issuer == issuer
    assert doc.signed.isoformat() == signed
    assert doc.clauses[-1].label == "二、"  # the 落款 belongs to no clause


def test_sign_off_run_into_the_last_paragraph():
    text = (
        "关于下发示例名录的通知\n为了规范管理，我部制定了示例名录，现发给你们，请遵照执行。"
        " 附件：1.示例名录 2.使用说明 卫生部 一九九四年九月五日\n"
        "示例名录\n一、总则\n本名录供登记使用。"
    )
    doc = build_document(text, "r.txt")
    assert (doc.issuer, doc.signed.isoformat()) == ("卫生部", "1994-09-05")
    assert [c.label for c in doc.clauses] == ["前言", "附件一、"]


def test_letterhead_printed_after_the_first_page_body():
    """WPS PDF text layers: the body's first page, then 文号, issuer and title lines."""
    text = ("各镇人民政府，区各有关单位：\n为做好防控工作，现将有关事项通知如下：\n一、指挥部\n"
            "总指挥：张三 区长\n副总指挥：李四 副区长\n王五 区委常委、区纪委书记、区监察委\n"
            "某委办函〔2025〕25号\n中共某某区委办公室 某某区\n人民政府办公室关于成立某某\n"
            "防控指挥部的通知\n二、办公室\n主任：赵六 副区长\n中共某某区委办公室\n2025年7月22日")
    doc = build_document(text, "w.txt")
    assert doc.number == "某委办函〔2025〕25号"
    assert doc.title == "中共某某区委办公室 某某区人民政府办公室关于成立某某防控指挥部的通知"
    assert [c.label for c in doc.clauses] == ["前言", "一、", "二、"]


def test_text_headed_by_its_issuance_and_parts_of_a_plan():
    text = ("中共中央 国务院印发《示例2030规划\n纲要》\n（2016年10月25日 中共中央、国务院发布）\n"
            "第一篇 总体战略\n第一章 指导思想\n坚持以人民为中心。\n第二章 战略主题\n共建共享。\n"
            "第二篇 普及健康生活\n第三章 加强健康教育\n提高全民健康素养。")
    doc = build_document(text, "p.txt")
    assert (doc.title, doc.issuer) == ("示例2030规划纲要", "中共中央 国务院")
    assert doc.published.isoformat() == "2016-10-25"
    assert [c.label for c in doc.clauses] == ["第一篇", "第一篇第一章", "第一篇第二章", "第二篇",
                                              "第二篇第三章"]


def test_law_promulgated_by_presidential_order_keeps_the_congress_as_issuer():
    text = (
        "中华人民共和国示例法\n１９９４年７月５日第八届全国人民代表大会常务委员会第八次会议通过\n"
        "１９９４年７月５日中华人民共和国主席令第二十八号公布\n第一条 为了示例，制定本法。\n"
        "第二条 本法自公布之日起施行。"
    )
    doc = build_document(text, "l.txt")
    assert (doc.issuer, doc.published.isoformat()) == ("全国人民代表大会常务委员会", "1994-07-05")
    assert doc.number is None


def test_markdown_post_front_matter():
    text = ("\n---\ntitle: '示例新闻标题'\ndate: Tue, 21 Dec 2021 10:03:15 GMT\n---\n\n"
            "新华社北京12月21日电，会议日前在京召开，宣布正式启动改革，各地要积极推进有关工作。\n"
            "据介绍，试点地区医疗机构服务行为更加规范，检查用药更加合理，各方面反映良好。\n"
            "下一步，有关部门将继续完善配套政策，推动改革取得更大成效，更好服务群众。")
    doc = build_document(text, "news.md")
    assert (doc.title, doc.published.isoformat()) == ("示例新闻标题", "2021-12-21")
    assert "title:" not in doc.text  # page settings are not text


def test_rule_without_notice_ending_in_its_issue_date():
    text = ("示例管理规范\n第一章 总则\n第一条 为加强管理，制定本规范。\n"
            "第二条 本规范自发布之日起施行。\n2007年3月20日印发")
    doc = build_document(text, "g.txt")
    assert doc.published.isoformat() == "2007-03-20" and doc.signed is None


@pytest.mark.parametrize(("after_sign_off", "labels"), [
    ("（市卫健局联系人：某某，联系电话：12345678）", ["前言", "一、", "二、"]),  # a note, no clause
    ("附件：\n《关于做好示例工作的通知》政策解读", ["前言", "一、", "二、"]),  # a web page's box
    ("附件1\n登记表\n地区：某市，人数：12。\n附件2\n统计表\n金额：300元。",
     ["前言", "一、", "二、", "附件1前言", "附件2前言"]),  # 附件2 follows 附件1 directly
])
def test_what_follows_the_sign_off(after_sign_off, labels):
    doc = build_document(
        f"关于做好示例工作的通知\n{BODY}\n某某市卫生健康局\n2025年4月15日\n{after_sign_off}",
        "a.txt",
    )
    assert [c.label for c in doc.clauses] == labels


def test_code_table_entries_are_not_list_items():
    text = (f"关于做好示例工作的通知\n{BODY}\n某某市卫生健康局\n2025年4月15日\n附件\n科目代码表\n"
            "04.外科\n04.01普通外科专业\n30.医学检验科\n30.01临床体液、血液专业\n其他科目按有关规定办理。")
    assert [c.label for c in build_document(text, "c.txt").clauses] == [
        "前言",
        "一、",
        "二、",
        "附件前言",
    ]


def test_a_notice_that_lost_its_number_and_addressee_starts_a_new_document():
    first = f"增加示例诊疗科目的通知\n{BODY}\n本通知自下发之日起执行。\n二〇〇九年一月十九日\n"
    second = (
        "关于下发《示例名录》的通知\n为了贯彻执行有关条例，加强登记管理，方便各地使用，我部制定了《示例名录》，"
        "现发给你们，请遵照执行。"
        " 卫生部 一九九四年九月五日\n示例名录\n一、总则\n本名录供登记使用。"
    )
    docs = build_documents(first + second, "m.txt")
    assert [d.title for d in docs] == ["增加示例诊疗科目的通知", "关于下发《示例名录》的通知"]
    assert [d.signed.isoformat() for d in docs] == ["2009-01-19", "1994-09-05"]
    assert docs[1].issuer == "卫生部"


def test_a_notice_naming_its_attached_notice_is_not_split():
    text = (f"关于转发《关于做好示例工作的通知》的通知\n{BODY}\n某某市卫生健康局\n2025年4月15日\n"
            "关于做好示例工作的通知\n为做好示例工作，现将有关事项通知如下，请各地结合实际认真贯彻落实。")
    assert len(build_documents(text, "f.txt")) == 1


def test_routing_finds_a_notice_by_the_rule_it_issues():
    doc = build_document(ISSUED_RULE, "r.txt")
    other = build_document(NATIONAL, "n.txt")
    named, _ = find_documents("《示例考核管理办法》第三条怎么规定的？", [other, doc])
    assert named == [doc.doc_id]
    named, _ = find_documents("示例考核管理办法规定多久考核一次", [other, doc])
    assert named == [doc.doc_id]


def test_ingest_report_says_a_file_was_split(tmp_path):
    path = tmp_path / "collection.txt"
    path.write_text(ISSUED_RULE + SECOND, encoding="utf-8")
    documents, report = ingest_files([path], Settings(index_dir=tmp_path / "index"))
    assert [d.source for d in documents] == ["collection.txt", "collection.txt#2"]
    assert "collection.txt: split into 2 documents" in report.warnings


def test_unnumbered_notice_of_two_paragraphs_has_two_units():
    text = ("某某委关于印发《示例定价办法》的通知\n某价规〔2020〕100号\n各省发展改革委：\n"
            "为深化改革，我们对原办法作了修订，形成了《示例定价办法》。现印发你们，请按照执行。\n"
            "附件：示例定价办法\n某某委\n2020年1月19日")
    doc = build_document(text, "u.txt")
    assert doc.number == "某价规〔2020〕100号"
    assert [c.label for c in doc.clauses] == ["第1段", "第2段"]  # 主送 is header, not a unit


def test_heading_run_into_a_paragraph_end_and_codes_under_a_later_heading():
    text = (
        "示例名录使用说明\n一、本名录供登记使用，各地要认真执行。\n"
        "二、申报表填报原则：\n1．申报表由申请单位填报。\n2．只开展门诊服务的，应注明“门诊”字样。 "
        "三、许可证诊疗科目栏填写原则：\n1．由卫生行政部门填写。\n四、名词释义\n"
        "01.预防保健科含社区保健。\n23.职业病科只供职业病防治机构使用。\n25.特种医学含航天医学。"
    )
    labels = [c.label for c in build_document(text, "m.txt").clauses]
    assert labels == ["一、", "二、", "二、1.", "二、2.", "三、", "三、1.", "四、"]


def test_markdown_post_with_raw_html():
    text = (
        "---\ntitle: '示例新闻标题'\ndate: 2021-12-21\n---\n<div>\n"
        "<p>　　原标题：示例新闻原标题</p>\n"
        '<p cms-style="font-L">　　新华社北京12月21日电，'
        "会议日前在京召开，宣布正式启动改革工作。</p>\n"
        "<!--article_adlist[<p>【纠错】</p>]-->\n"
        '<p cms-style="font-L">　　据介绍，'
        "试点地区医疗机构服务行为更加规范，检查用药更加合理。</p>\n"
        "<style>\n.qr&#123;float:left;&#125;\n</style>\n"
        '<div class="qr">海量资讯、精准解读，尽在新浪财经APP</div>\n</div>\n'
    )
    doc = build_document(text, "post.md")
    assert doc.title == "示例新闻标题"
    assert [c.text[:5] for c in doc.clauses] == ["新华社北京", "据介绍，试"]


# A notice whose 附件 are forms, each a title and a table's header row, one after the other.
SHORT_FORMS = """某某市卫生健康局关于开展病例监测工作的通知
各区卫生健康局：
一、监测内容
各医疗机构按要求开展监测，名单（附件1）和联络员（附件2、3）报市疾控中心。
二、工作要求
各区要加强组织领导。
附件：1.个体诊所名单
2.医疗机构联络员一览表
3.各级疾控中心联络员一览表
某某市卫生健康局
2025年1月26日
附件1
XX 镇（街道）个体诊所名单
诊所名称 地址 设置科室 联系人 联系电话
附件2
医疗机构联络员一览表
单位名称 地址 联系人 联系电话
附件3
各级疾控中心联络员一览表
单位名称 联系人 联系电话"""


def test_attachments_that_are_a_title_and_a_header_row_each_keep_their_number():
    doc = build_document(SHORT_FORMS, "通知.txt")
    attached = [c for c in doc.clauses if c.path[0].startswith("附件")]
    assert [c.label for c in attached] == ["附件1前言", "附件2前言", "附件3前言"]
    assert attached[2].text.endswith("单位名称 联系人 联系电话")
    assert [c.label for c in doc.clauses][:3] == ["前言", "一、", "二、"]


# A joint notice on the lead body's letterhead: both issuers open the title, below the 文号.
JOINT_TITLE = """中共某某市委办公室
某办函〔2025〕23号
中共某某市委办公室 某某市人民政府办公室
关于成立某某市疫情防控指挥部的
通知
各区党委和人民政府，市直各单位：
为做好疫情防控工作，经市委、市政府同意，成立指挥部。现将有关事项通知如下。
一、指挥部组成
总指挥：张某某 市委书记
二、工作职责
负责统筹全市防控工作。
2025年7月21日"""


def test_joint_issuers_set_above_the_title_open_it_and_are_both_the_issuer():
    doc = build_document(JOINT_TITLE, "通知.txt")
    assert doc.number == "某办函〔2025〕23号"
    assert doc.title == "中共某某市委办公室 某某市人民政府办公室关于成立某某市疫情防控指挥部的通知"
    assert doc.issuer == "中共某某市委办公室 某某市人民政府办公室"
    # Above the 文号 the same names are the letterhead, not the title.
    letterhead = JOINT_TITLE.replace(
        "中共某某市委办公室\n某办函〔2025〕23号\n中共某某市委办公室 某某市人民政府办公室\n",
        "中共某某市委办公室 某某市人民政府办公室\n某办函〔2025〕23号\n",
    )
    doc = build_document(letterhead, "通知.txt")
    assert doc.title == "关于成立某某市疫情防控指挥部的通知"
    assert doc.issuer == "中共某某市委办公室 某某市人民政府办公室"


# A joint red header: two bodies stacked, one 文件 beside them (read into the middle row), the
# second name wrapped over two rows.
STACKED_LETTERHEAD = """第九届全省运动会某某赛区执行委员会
全省第八届残疾人运动会暨第六届文件
特殊奥林匹克运动会某某赛区执行委员会
省运某执〔2025〕57号
关于加强赛区蚊媒传染病防控工作的通知
各承办市执委会：
现就做好赛事蚊媒传染病防控工作提出如下要求。
一、高度重视
各地要切实扛起责任。
二、加强监测
各地要强化监测。
省运会执委会 残特奥会执委会
2025年7月29日"""


def test_a_joint_red_header_names_both_stacked_bodies_without_the_word_wenjian():
    doc = build_document(STACKED_LETTERHEAD, "通知.txt")
    assert doc.issuer == ("第九届全省运动会某某赛区执行委员会 "
                          "全省第八届残疾人运动会暨第六届特殊奥林匹克运动会某某赛区执行委员会")
    assert (doc.number, doc.title) == (
        "省运某执〔2025〕57号",
        "关于加强赛区蚊媒传染病防控工作的通知",
    )
    assert str(doc.signed) == "2025-07-29"
    # One body's 红头 (某某局文件) stays one issuer, 文件 dropped.
    single = STACKED_LETTERHEAD.replace(
        "第九届全省运动会某某赛区执行委员会\n全省第八届残疾人运动会暨第六届文件\n特殊奥林匹克运动会某某赛区执行委员会",
        "某某市卫生健康局文件")
    assert build_document(single, "通知.txt").issuer == "某某市卫生健康局"

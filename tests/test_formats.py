"""Documents as they are published: Word altChunk bodies, automatic numbering, tables under a
clause, PDF reading order and running furniture, spaces inside Chinese words.

Every fixture is a small document written here (zipfile / python-docx / a hand-made PDF).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from test_loaders import LIMIT, ST_SONG, minimal_pdf

from assistant.ingest.document import build_document
from assistant.ingest.loaders import load_bytes, load_file
from assistant.ingest.pdf_text import pdf_pages_to_text
from assistant.lexicon import is_name_list_entry, matching_text
from assistant.query import analyse
from assistant.stores.sparse import tokenize

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DOC_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def docx_package(body: str, parts: dict[str, bytes], rels: list[tuple[str, str, str]],
                 overrides: dict[str, str] | None = None) -> bytes:
    """A minimal .docx: document.xml with `body`, extra parts and their relationships."""
    types = "".join(f'<Override PartName="/{name}" ContentType="{kind}"/>'
                    for name, kind in (overrides or {}).items())
    rel_xml = "".join(f'<Relationship Id="{rid}" Type="{R}/{kind}" Target="{target}"/>'
                      for rid, kind, target in rels)
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Default Extension="mht" ContentType="message/rfc822"/>'
            '<Default Extension="html" ContentType="text/html"/>'
            f'<Override PartName="/word/document.xml" ContentType="{DOC_TYPE}"/>{types}</Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
            f'.org/package/2006/relationships"><Relationship Id="rId1" Type="{R}/officeDocument" '
            'Target="word/document.xml"/></Relationships>'),
        "word/document.xml": (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}" '
                              f'xmlns:r="{R}"><w:body>{body}</w:body></w:document>'),
        "word/_rels/document.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
            f'.org/package/2006/relationships">{rel_xml}</Relationships>'),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, text in files.items():
            package.writestr(name, text.encode("utf-8"))
        for name, data in parts.items():
            package.writestr(name, data)
    return out.getvalue()


def para(text: str, num_id: int | None = None, level: int = 0) -> str:
    numbered = (f'<w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/>'
                f'</w:numPr></w:pPr>') if num_id is not None else ""
    return f"<w:p>{numbered}<w:r><w:t>{text}</w:t></w:r></w:p>"


# --- Word: altChunk ------------------------------------------------------------------------

LAW_HTML = ("<html><head><meta charset='utf-8'></head><body><h1>某某省卫生条例</h1>"
            "<p>第一章 总则</p><p>第一条 为了保障公众健康，制定本条例。</p>"
            "<p>第二条 本条例适用于本省行政区域。</p><p>第二章 附则</p>"
            "<p>第三条 本条例自2025年1月1日起施行。</p></body></html>")


def mht(html: str) -> bytes:
    """An MHT (MIME) part as law-database exports embed it: quoted-printable HTML."""
    import quopri

    body = quopri.encodestring(html.encode("utf-8")).decode("ascii")
    return ("MIME-Version: 1.0\nContent-Type: multipart/related; type=\"text/html\"; "
            "boundary=\"----=part\"\n\n------=part\nContent-Type: text/html; charset=\"utf-8\"\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + body + "\n------=part--\n"
            ).encode("ascii")


@pytest.mark.parametrize("name, data", [("word/afchunk.mht", mht(LAW_HTML)),
                                        ("word/chunk.html", LAW_HTML.encode("utf-8"))])
def test_docx_whose_body_is_an_altchunk_reads_its_articles(name, data):
    body = '<w:altChunk r:id="htmlChunk"/>'
    package = docx_package(body, {name: data}, [("htmlChunk", "aFChunk", "/" + name)])
    loaded = load_bytes(package, "条例.docx", LIMIT)
    assert loaded.text.splitlines()[:3] == ["某某省卫生条例", "第一章 总则",
                                            "第一条 为了保障公众健康，制定本条例。"]
    doc = build_document(loaded.text, loaded.source, fmt=loaded.fmt)
    labels = [c.label for c in doc.clauses if c.kind == "clause"]
    assert {"第一条", "第二条", "第三条"} <= set(labels)


# --- Word: automatic numbering -------------------------------------------------------------

NUMBERING = f"""<?xml version="1.0" encoding="UTF-8"?><w:numbering xmlns:w="{W}">
<w:abstractNum w:abstractNumId="0">
 <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>
  <w:lvlText w:val="%1、"/></w:lvl>
 <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>
  <w:lvlText w:val="（%2）"/></w:lvl>
 <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%3."/></w:lvl>
</w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
</w:numbering>""".encode()


def test_word_automatic_numbering_is_rendered_into_the_labels():
    body = "".join([para("关于加强病媒生物防制的通知"), para("总体要求", 1, 0),
                    para("坚持预防为主", 1, 1), para("落实属地责任", 1, 1),
                    para("每周清理一次", 1, 2), para("主要措施", 1, 0), para("开展监测", 1, 1),
                    para("不编号的段落", 0, 0)])  # numId 0: numbering switched off
    package = docx_package(
        body, {"word/numbering.xml": NUMBERING}, [("rId9", "numbering", "numbering.xml")],
        {"word/numbering.xml": "application/vnd.openxmlformats-officedocument."
                               "wordprocessingml.numbering+xml"})
    lines = load_bytes(package, "通知.docx", LIMIT).text.splitlines()
    assert lines == ["关于加强病媒生物防制的通知", "一、总体要求", "（一）坚持预防为主",
                     "（二）落实属地责任", "1.每周清理一次", "二、主要措施", "（一）开展监测",
                     "不编号的段落"]
    doc = build_document("\n".join(lines), "通知.docx")
    assert ["二、", "（一）"] in [c.path for c in doc.clauses]


# --- Word: a table under a clause ----------------------------------------------------------

def test_a_duty_table_is_read_with_its_header_and_cited_as_part_of_its_clause(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("关于做好登革热防控工作的通知")
    document.add_paragraph("一、责任分工")
    document.add_paragraph("各项任务分工如下：")
    table = document.add_table(rows=3, cols=3)
    rows = (
        ("序号", "任务", "牵头单位"),
        ("1", "病例监测", "市疾控中心"),
        ("2", "灭蚊清障", "市爱卫办"),
    )
    for row, cells in zip(table.rows, rows):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_paragraph("二、工作要求")
    document.add_paragraph("各单位要按时报送进展。")
    path = tmp_path / "通知.docx"
    document.save(path)
    loaded = load_file(path, LIMIT)
    assert "序号：2；任务：灭蚊清障；牵头单位：市爱卫办" in loaded.text.splitlines()
    doc = build_document(loaded.text, loaded.source)
    duty = next(c for c in doc.clauses if c.path == ["一、"])
    assert "牵头单位：市疾控中心" in duty.text and "牵头单位：市爱卫办" in duty.text
    assert doc.text[duty.start:duty.end] == duty.text


# --- PDF: reading order, running header/footer, page numbers -------------------------------

def _show(text: str) -> bytes:
    return b"<%s> Tj" % text.encode("utf-16-be").hex().encode()


def _page(lines: list[tuple[int, str]]) -> bytes:
    """Each line drawn at its own height (points from the bottom), in the order given."""
    return b" ".join(b"BT /F1 12 Tf 72 %d Td %s ET" % (y, _show(text)) for y, text in lines)


def test_pdf_title_first_and_running_header_footer_page_numbers_and_stamp_gone(tmp_path):
    header, footer = "某某市卫生健康委员会", "某某市卫生健康委员会办公室印发"
    first = [
        (800, header),
        (640, "各区卫生健康局："),
        (620, "一、加强病例监测，各医疗机构要落实首诊负责制，发现疑似病例及时报告。"),
        (40, "— 1 —"),
        (30, footer),
        # the producer writes 文号 and title last, though they are printed above the body
        (760, "依申请公开 某卫函〔2025〕7号"),
        (720, "关于做好病媒防制工作的通知"),
    ]
    second = [(800, header), (640, "二、落实灭蚊措施。"), (40, "— 2 —"), (30, footer)]
    third = [(800, header), (640, "三、做好宣传。"), (40, "— 3 —"), (30, footer)]
    pdf = minimal_pdf([_page(first), _page(second), _page(third)], font=ST_SONG)
    text = load_file(_write(tmp_path, "通知.pdf", pdf), LIMIT).text
    assert text.splitlines() == [
        "某卫函〔2025〕7号",
        "关于做好病媒防制工作的通知",
        "各区卫生健康局：",
        "一、加强病例监测，各医疗机构要落实首诊负责制，发现疑似病例及时报告。",
        "二、落实灭蚊措施。",
        "三、做好宣传。",
    ]


def _write(folder, name, data: bytes):
    path = folder / name
    path.write_bytes(data)
    return path


# --- spaces inside Chinese words -----------------------------------------------------------

SPLIT = ("关于扩大跨省直接结算的通知\n一、推进跨省 联网结算\n各地要在2025年底前完成跨省 联网。\n"
         "二、其他\n按要求办理。")


def test_spaces_inside_words_do_not_break_matching_and_the_original_is_displayed():
    doc = build_document(SPLIT, "通知.txt")
    clause = next(c for c in doc.clauses if c.path == ["一、"])
    assert "跨省 联网" in clause.text  # shown as published
    assert doc.text[clause.start:clause.end] == clause.text
    assert "联网" in tokenize(clause.text) and "跨省" in tokenize(clause.text)
    assert tokenize("跨省 联网结算") == tokenize("跨省联网结算")
    query = analyse("跨省联网结算什么时候完成？")
    assert query.covers("跨省联网", clause.text)
    assert not query.covers("跨省联网", "跨省 异地 联网")


def test_matching_text_keeps_spaces_between_latin_words_and_digits():
    assert matching_text("保 管 DRG DIP 2025 年") == "保管 DRG DIP 2025 年"


# --- PDF line joining: the 落款 under a full 附件 line, a name list with wrapped posts ------

_BODY = "为做好病媒生物防制工作，现将有关事项通知如下，请各单位结合实际认真贯彻执行并按时报送。"
_WRAPPED = [_BODY[:28], _BODY[28:]]  # as printed: 28 characters a line


def test_signoff_under_a_full_width_attachment_line_is_not_joined_to_it():
    # A 附件 line reaching the right margin, then the issuer and the date, then the 附件 itself.
    lines = [
        "某某市卫生健康局", "关于印发致全市医务人员一封信的通知", "各区卫生健康局：", _BODY,
        "附件：致全市医务工作者关于病媒生物防制工作的一封信",
        "某某市卫生健康局", "2025年3月28日",
        "附件", "致全市医务工作者关于病媒生物防制工作的一封信", "全市医务工作者：", _BODY,
        "一、及时报告", _BODY, "二、规范治疗", _BODY,
        "请大家切实履行传染病防控第一守门人职责，共同筑牢防控安全防线。"]
    text = pdf_pages_to_text(["\n".join(lines)])
    assert "某某市卫生健康局\n2025年3月28日" in text
    doc = build_document(text, "通知.pdf", fmt="pdf")
    assert (doc.issuer, str(doc.signed)) == ("某某市卫生健康局", "2025-03-28")
    assert [c.label for c in doc.clauses] == [
        "前言",
        "附件前言",
        "附件一、",
        "附件二、",
        "附件结尾",
    ]


def test_name_list_posts_wrapped_onto_the_next_line_stay_with_their_person():
    page = "\n".join([
        "某某区防控指挥部办公室关于增设保障组的通知", "各镇人民政府，区各有关单位：", *_WRAPPED,
        "组 长：陈某某 区发展和改革局党组书记、局长",
        # the first deputy's line is full: the next person must not be glued to it
        "副组长：杨 某 区民政和人力资源社会保障局副局长兼社工部副部长",
        "廖某某 区卫生健康局党组成员、民营卫生健康", "行业党委专职副书记",
        "王某某 区城市管理和综合执法局党组成员、", "副局长",
        "成员单位：区发展和改革局、区财政局、区卫生健康局。",
        "主要职责：统筹防控物资保障工作。",
        "某某区防控指挥部办公室", "2025年7月31日"])
    lines = pdf_pages_to_text([page]).splitlines()
    assert lines[2] == _BODY
    assert lines[3:9] == [
        "组 长：陈某某 区发展和改革局党组书记、局长",
        "副组长：杨 某 区民政和人力资源社会保障局副局长兼社工部副部长",
        "廖某某 区卫生健康局党组成员、民营卫生健康行业党委专职副书记",
        "王某某 区城市管理和综合执法局党组成员、副局长",
        "成员单位：区发展和改革局、区财政局、区卫生健康局。", "主要职责：统筹防控物资保障工作。"]
    doc = build_document("\n".join(lines), "通知.pdf", fmt="pdf")
    assert [c.label for c in doc.clauses] == [f"第{n}段" for n in range(1, 8)]


def test_a_line_wrapped_mid_word_before_a_space_is_no_name_list_entry():
    # 登 | 革病毒 NS1…: the wrapped line starts with a word's tail, a space and Latin letters;
    # a name list's post starts in Chinese (and may hold a comma: 副主任，区委政法委书记).
    sentence = ("对疑似病例实行“逢疑必检”，及时采集静脉血标本开展检测，随后进行登"
                "革病毒 NS1抗原检测，将阳性个案2小时内报告辖区疾控中心，并立即上送复核。")
    cut, end = sentence.index("革病毒"), sentence.index("并立即")
    page = "\n".join(["某某市卫生健康局关于加强监测工作的通知", "各区卫生健康局：", *_WRAPPED,
                      "二、及时报告", sentence[:cut], sentence[cut:end], sentence[end:],
                      "某某市卫生健康局", "2025年3月28日"])
    lines = pdf_pages_to_text([page]).splitlines()
    assert sentence in lines
    assert not is_name_list_entry(sentence[cut:end])
    assert is_name_list_entry("谢某某 区人大常委会副主任，区委政法委书记")


def test_wide_table_rows_in_an_attachment_do_not_set_the_text_margin():
    # A paragraph's first line is indented (two characters short of the margin); the
    # attachment's form rows, one line in six, are set far wider than the text.
    body = ("（二）二类地区：禅城区南庄镇，南海区里水镇、九江镇、丹灶镇、西樵镇，"
            "顺德区乐从镇，三水区西南街道，高明区荷城街道。")
    wrapped = [body[:26], body[26:54], body[54:]]
    row = ("周次 起止日期 （X 月 X 日—X 月 X 日） NS1筛查数 NS1阳性数 "
           "NS1阳性标本上送区 CDC 数 新增病例")
    page = "\n".join(["某某市卫生健康局关于开展强化监测工作的通知", "各区卫生健康局：",
                      *(_WRAPPED + wrapped) * 4, "附件2", row, row, row])
    lines = pdf_pages_to_text([page]).splitlines()
    assert lines.count(body) == 4 and lines.count(_BODY) == 4


def test_a_heading_does_not_continue_a_bracket_left_open_above_it():
    # A form's fill-in bracket whose ） was lost (far right, faint in a scan).
    lines = [
        "3. 是否前往过境外地区？",
        "（如选“是”，请注明地区：",
        "三、备注（如有特殊情况需说明）：",
        "四、承诺声明",
        "（参考附件",
        "1）填写",
    ]
    assert pdf_pages_to_text(["\n".join(lines)]).splitlines() == [
        "3. 是否前往过境外地区？", "（如选“是”，请注明地区：", "三、备注（如有特殊情况需说明）：",
        "四、承诺声明", "（参考附件1）填写"]


def _saved_from_pdf(paragraph: str, width: int = 20, indent: int = 2) -> str:
    """A paragraph as a PDF's extractor saves it as text: each line wrap left as a space."""
    first = width - indent
    pieces = [paragraph[:first]] + [paragraph[i:i + width]
                                    for i in range(first, len(paragraph), width)]
    return " ".join(pieces)


_TASKS = [
    ("一、各统筹地区要按照全国统一的结算规则，做好参保人员异地就医费用的直接结算工作，"
     "不得以任何理由拒绝为已经备案的参保人员提供结算服务，确保群众报销更加便捷高效。"),
    ("（一）就医地经办机构应当在每月十日前完成上月结算数据的对账工作，发现数据差错的，"
     "应当及时与参保地经办机构沟通核实，并在五个工作日内完成更正，不得拖延推诿。"),
    ("（二）参保地经办机构应当按照协议约定的时间向就医地清算资金，不得无故拖欠，"
     "对于跨年度的住院费用，应当以出院结算日期为结算时点，按照规定分别计入当年基金。"),
    ("（三）各级经办机构要畅通咨询投诉渠道，公开异地就医结算的办事流程和联系电话，"
     "对群众反映的问题建立台账，限时办结并及时反馈，做到件件有回音、事事有着落。"),
    ("（四）各定点医疗机构要为异地就医参保人员提供与本地参保人员同等的诊疗服务，"
     "不得推诿拒收异地就医患者，不得降低服务标准，违反规定的按照协议约定严肃处理。"),
]


def test_a_text_file_saved_from_a_pdf_joins_the_line_cut_at_a_page_end():
    # Wraps inside paragraphs are spaces; the page broke inside 参保地规定的 / 起付标准, and
    # inside an article's first line. Titles, 文号 lines, headings and a 定义 label stay lines.
    cut = ("（五）异地就医费用原则上执行就医地规定的支付范围和有关规定，执行参保地规定的"
           "基本医疗保险基金起付标准、支付比例和最高支付限额等政策，确保待遇政策统一。")
    wrapped = _saved_from_pdf(cut)
    at = wrapped.index("规定的 ") + 3  # the page's last line: 定的支付范围…执行参保地规定的
    # An article's first line, four characters short of the width: a rule, not a heading.
    article = "第三条 本规程适用于医疗保险参保", "人员跨省异地就医直接结算经办管理服务工作。"
    text = "\n".join([
        "某某市医疗保障局关于进一步做好异地就医结算工作的通知", "（某医保发〔2024〕7 号）",
        "各区医疗保障局、各定点医疗机构：", *map(_saved_from_pdf, _TASKS),
        wrapped[:at], wrapped[at + 1:], "二、加强异地就医结算基金的监督管理",
        "健全异地就医基金监管机制，压实各方责任。", "（六）定义", "指参保人员在参保地以外就医。",
        *article,
    ])
    loaded = load_bytes(text.encode("utf-8"), "通知.txt", LIMIT)
    lines = loaded.text.splitlines()
    assert wrapped[:at] + wrapped[at + 1:] in lines
    assert "".join(article) in lines
    assert lines[:3] == text.splitlines()[:3]  # title, 文号 and 主送 untouched
    assert "二、加强异地就医结算基金的监督管理" in lines and "（六）定义" in lines
    doc = build_document(loaded.text, "通知.txt", fmt="text")
    assert doc.number == "某医保发〔2024〕7号"
    clause = next(c for c in doc.clauses if c.label.endswith("（五）"))
    assert "执行参保地规定的基本医疗保险基金起付标准" in clause.text.replace(" ", "")


def test_plain_text_without_a_pdfs_wraps_keeps_its_lines():
    # No spaces inside paragraphs: nothing tells a page's width, so no line is joined.
    text = "\n".join(["某某市医疗保障局关于做好结算工作的通知", *_TASKS,
                      "执行参保地规定的", "基本医疗保险基金起付标准。"])
    assert load_bytes(text.encode("utf-8"), "通知.txt", LIMIT).text == text

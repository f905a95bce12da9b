"""Formats recognised by content and case-insensitive extensions; titles the format marks."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_loaders import LIMIT, ST_SONG, minimal_pdf, text_op

from assistant.errors import LoadError
from assistant.ingest.document import build_document
from assistant.ingest.loaders import load_bytes, load_file
from assistant.ingest.pipeline import expand_paths

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>某某市人民政府门户网站</title></head>
<body><nav>首页 | 政务公开</nav>
<h1>某某市医疗机构管理办法</h1>
<p>第一条 为了加强医疗机构管理，制定本办法。</p>
<p>第二条 本办法适用于本市行政区域内的医疗机构。</p>
</body></html>"""


@pytest.mark.parametrize("name", ["zwgk.php", "show.asp", "detail.aspx", "view.jsp", "article.PHP",
                                  "page.HTM", "saved.txt", "content"])
def test_a_saved_page_is_read_as_html_whatever_its_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text(PAGE, encoding="utf-8")
    loaded = load_file(path, LIMIT)
    assert loaded.fmt == "html" and "<p>" not in loaded.text
    doc = build_document(loaded.text, loaded.source, fmt=loaded.fmt, title_hint=loaded.title)
    assert doc.title == "某某市医疗机构管理办法"  # the <h1>, not the site name in <title>
    assert [c.label for c in doc.clauses] == ["第一条", "第二条"]


def test_uploaded_page_bytes_are_sniffed_too():
    assert load_bytes(PAGE.encode("utf-8"), "upload.cgi", LIMIT).fmt == "html"


def test_unknown_extension_that_is_not_html_is_still_refused(tmp_path):
    path = tmp_path / "table.xyz"
    path.write_text("一、不是网页的内容", encoding="utf-8")
    with pytest.raises(LoadError) as err:
        load_file(path, LIMIT)
    assert err.value.code == "unsupported"


def test_upper_case_extensions(tmp_path):
    lines = ["关于做好某项工作的通知", "一、加强领导"]
    pdf = tmp_path / "NOTICE.PDF"
    pdf.write_bytes(minimal_pdf([text_op(lines, cjk=True)], font=ST_SONG))
    assert load_file(pdf, LIMIT).fmt == "pdf"
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("一、加强领导")
    document.save(tmp_path / "PLAN.DOCX")
    assert load_file(tmp_path / "PLAN.DOCX", LIMIT).fmt == "docx"
    assert {p.name for p in expand_paths([tmp_path])} == {"NOTICE.PDF", "PLAN.DOCX"}


def test_word_core_properties_title_of_another_document_is_ignored(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.core_properties.title = "某省将健康融入所有政策实施方案"  # a template's leftover
    for text in [
        "附件2",
        "某省儿童青少年心理健康关爱行动计划",
        "心理健康是健康的重要组成部分，学生群体面临着学业、就业等压力，心理健康问题日益突出，需要多方协同。",
        "一、行动计划目标",
        "二、工作措施",
        "（一）加强心理健康教育",
    ]:
        document.add_paragraph(text)
    path = Path(tmp_path / "plan.docx")
    document.save(path)
    loaded = load_file(path, LIMIT)
    doc = build_document(loaded.text, loaded.source, fmt=loaded.fmt, title_hint=loaded.title)
    assert doc.title == "某省儿童青少年心理健康关爱行动计划"
    assert [c.label for c in doc.clauses] == ["前言", "一、", "二、", "二、（一）"]

"""Loaders: every format and encoding reads to the same text; every bad input has its code.

All fixtures are generated in tmp_path at test time (no binary files in the repo).
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest

from assistant.errors import LoadError
from assistant.ingest.loaders import LOADERS, load_file, loader_for, supported_extensions

LIMIT = 1_000_000

# Policy-style text whose characters all exist in GBK, so every encoding below can hold it.
POLICY = (
    "四川省人民政府办公厅\n"
    "关于推进医药卫生体制改革2021年重点工作的通知\n"
    "川办函〔2021〕56号\n"
    "一、强化医疗、医保、医药联动改革\n"
    "（一）大力推广三明医改经验。在自贡市、宜宾市开展“三医”联动改革试点。\n"
    "（省卫生健康委等按职责分工负责）\n"
    "1.推进药品耗材集中采购，完成第5批国家组织药品集采（Level A）。\n"
)

ENCODINGS = {
    # name: (bytes of POLICY, encoding the loader should report)
    "utf-8": (POLICY.encode("utf-8"), "utf-8"),
    "utf-8 with BOM": (POLICY.encode("utf-8-sig"), "utf-8-sig"),
    "gb18030": (POLICY.encode("gb18030"), "gb18030"),
    "gbk": (POLICY.encode("gbk"), "gb18030"),
    "gb2312": (POLICY.encode("gb2312"), "gb18030"),
    "utf-16-le with BOM": (codecs.BOM_UTF16_LE + POLICY.encode("utf-16-le"), "utf-16-le"),
    "utf-16-be with BOM": (codecs.BOM_UTF16_BE + POLICY.encode("utf-16-be"), "utf-16-be"),
    "utf-16-le without BOM": (POLICY.encode("utf-16-le"), "utf-16-le"),
    "utf-16-be without BOM": (POLICY.encode("utf-16-be"), "utf-16-be"),
}


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def load_error(path: Path, max_bytes: int = LIMIT) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load_file(path, max_bytes)
    return caught.value


# --- text encodings -------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ENCODINGS))
def test_every_common_encoding_decodes_to_the_same_text(tmp_path, name):
    data, encoding = ENCODINGS[name]
    loaded = load_file(write(tmp_path, "通知.txt", data), LIMIT)
    assert loaded.text == POLICY
    assert loaded.encoding == encoding
    assert (loaded.source, loaded.fmt, loaded.warnings) == ("通知.txt", "text", [])


def test_ascii_only_utf16_without_bom_is_not_taken_for_utf8_with_nuls(tmp_path):
    english = "Notice on health reform\n1. Scope\n"
    loaded = load_file(write(tmp_path, "en.txt", english.encode("utf-16-le")), LIMIT)
    assert (loaded.text, loaded.encoding) == (english, "utf-16-le")


def test_windows_and_old_mac_newlines_become_newlines(tmp_path):
    data = POLICY.replace("\n", "\r\n").encode("gb18030")
    assert load_file(write(tmp_path, "crlf.txt", data), LIMIT).text == POLICY
    data = POLICY.replace("\n", "\r").encode("utf-8")
    assert load_file(write(tmp_path, "cr.md", data), LIMIT).text == POLICY


def test_big5_is_not_misread_as_gb18030(tmp_path):
    traditional = "關於推進醫藥衛生體制改革重點工作的通知。各市人民政府，省政府各部門：" * 5
    loaded = load_file(write(tmp_path, "big5.txt", traditional.encode("big5")), LIMIT)
    assert loaded.text == traditional
    assert loaded.encoding == "big5"
    assert "guessed" in loaded.warnings[0]  # the user is told it was a guess


def test_a_few_stray_control_characters_are_dropped_with_a_warning(tmp_path):
    loaded = load_file(write(tmp_path, "dos.txt", POLICY + "\x1a"), LIMIT)
    assert loaded.text == POLICY
    assert loaded.warnings == ["removed 1 stray control character(s)"]


# --- HTML -----------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta charset="gb2312"><title>页面标题不是正文</title>
<style>p {{ color: red }}</style><script>var nav = "不要";</script>
<body>
<header><div class="logo">政府门户网站</div></header>
<nav><ul><li><a href="/">首页</a></li><li>政务公开</li></ul></nav>
<div class="content">
  <h1>关于推进医药卫生体制改革的通知</h1>
  <p>各市人民政府：</p>
  <p>一、强化医疗、医保、医药
     联动改革</p>
  <p>（一）大力推广三明医改经验。<br>在自贡市开展试点&nbsp;。</p>
  <table><tr><td>序号</td><td>任务</td></tr><tr><td>1</td><td>集中采购</td></tr></table>
  <div hidden><p>隐藏的内容</p><div>也隐藏</div></div>
  <script>document.write("广告")</script>
  <form><input name="q"><button>搜索</button></form>
</div>
<aside>相关文章</aside>
<footer><p>地址：成都市 电话：028-1234</p></footer>
<p>{tail}</p>
</body></html>"""

PAGE_TEXT = [
    "关于推进医药卫生体制改革的通知",
    "各市人民政府：",
    "一、强化医疗、医保、医药 联动改革",
    "（一）大力推广三明医改经验。",
    "在自贡市开展试点\xa0。",
    "序号\t任务",
    "序号：1；任务：集中采购",  # under a header row, cells are named by their column
]


def test_html_gives_the_body_text_without_chrome(tmp_path):
    page = PAGE.format(tail="正文之后的段落")
    loaded = load_file(write(tmp_path, "page.html", page.encode("gb18030")), LIMIT)
    assert loaded.text.split("\n") == PAGE_TEXT + ["正文之后的段落"]
    assert (loaded.fmt, loaded.encoding) == ("html", "gb18030")


def test_html_meta_charset_is_honoured(tmp_path):
    # Undeclared, these bytes are guessed as cp1250 (à becomes ŕ): the declaration decides.
    body = "<p>Défense sociale à Paris</p>"
    page = f'<html><head><meta charset="windows-1252"></head><body>{body}</body>'
    loaded = load_file(write(tmp_path, "page.htm", page.encode("cp1252")), LIMIT)
    assert (loaded.text, loaded.encoding) == ("Défense sociale à Paris", "cp1252")


def test_html_with_a_lying_meta_charset_is_detected(tmp_path):
    page = PAGE.replace('charset="gb2312"', 'charset="utf-8"').format(tail="尾段")
    loaded = load_file(write(tmp_path, "lies.html", page.encode("gb18030")), LIMIT)
    assert loaded.encoding == "gb18030"
    assert loaded.text.split("\n")[:2] == PAGE_TEXT[:2]


def test_html_saved_as_utf8_with_its_old_gb2312_meta_reads_as_utf8(tmp_path):
    page = PAGE.format(tail="尾段")  # declares gb2312
    loaded = load_file(write(tmp_path, "resaved.html", page.encode("utf-8")), LIMIT)
    assert loaded.encoding == "utf-8"
    assert loaded.text.split("\n") == PAGE_TEXT + ["尾段"]


def test_html_http_equiv_charset_and_unclosed_head(tmp_path):
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=GBK">'
            "<title>标题<body><p>正文第一段</p><pre>一、  保留\n  原样</pre></body></html>")
    loaded = load_file(write(tmp_path, "old.html", page.encode("gbk")), LIMIT)
    assert loaded.text == "正文第一段\n一、  保留\n原样"


# --- Word -----------------------------------------------------------------------------

def test_docx_paragraphs_and_table_cells_in_reading_order(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_heading("关于推进医药卫生体制改革的通知", level=1)
    document.add_paragraph("一、强化医疗、医保、医药联动改革")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, (("任务", "责任单位"), ("集中采购", "省医保局"))):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    merged = document.add_table(rows=1, cols=3)
    merged.rows[0].cells[0].merge(merged.rows[0].cells[1]).text = "合并单元格"
    merged.rows[0].cells[2].text = "末列"
    document.add_paragraph("二、加快建设分级诊疗体系")
    path = tmp_path / "通知.docx"
    document.save(path)
    loaded = load_file(path, LIMIT)
    assert loaded.text.split("\n") == [
        "关于推进医药卫生体制改革的通知",
        "一、强化医疗、医保、医药联动改革",
        "任务\t责任单位",
        "任务：集中采购；责任单位：省医保局",  # a row under a header row names its cells
        "合并单元格\t末列",
        "二、加快建设分级诊疗体系",
    ]
    assert (loaded.fmt, loaded.encoding) == ("docx", None)


# --- PDF ------------------------------------------------------------------------------

HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
# A standard CJK font with the predefined UCS-2 CMap: readers map its codes straight to Unicode.
ST_SONG = (b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
           b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
           b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> >>] >>")


def minimal_pdf(pages: list[bytes], font: bytes = HELVETICA) -> bytes:
    """A hand-written PDF: one content stream per page, all using font /F1."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count)).encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count), font]
    for i, content in enumerate(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i))
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    return _serialise_pdf(objects)


def _serialise_pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1,
                                                                            xref)
    return bytes(out)


def text_op(lines: list[str], cjk: bool = False) -> bytes:
    """Content stream drawing each line below the previous one."""
    shows = []
    for line in lines:
        if cjk:  # UCS-2 codes as a hex string, for the UniGB-UCS2-H CMap
            shown = b"<%s>" % line.encode("utf-16-be").hex().encode()
        else:
            shown = b"(%s)" % line.encode("ascii")
        shows.append(shown + b" Tj 0 -20 Td")
    return b"BT /F1 12 Tf 72 720 Td " + b" ".join(shows) + b" ET"


def test_pdf_text_layer_page_by_page(tmp_path):
    pdf = minimal_pdf([text_op(["Notice on health reform", "1. Scope"]), text_op(["2. Duties"])])
    loaded = load_file(write(tmp_path, "notice.pdf", pdf), LIMIT)
    assert loaded.text == "Notice on health reform\n1. Scope\n2. Duties"
    assert (loaded.fmt, loaded.source) == ("pdf", "notice.pdf")


def test_pdf_with_chinese_text_in_a_standard_cjk_font(tmp_path):
    lines = ["关于推进医药卫生体制改革的通知", "一、强化医疗、医保、医药联动改革"]
    pdf = minimal_pdf([text_op(lines, cjk=True)], font=ST_SONG)
    assert load_file(write(tmp_path, "通知.pdf", pdf), LIMIT).text == "\n".join(lines)


# --- bad input: each case has its own code and says what to do ------------------------

@pytest.mark.parametrize("name", ["gone.txt", "gone.xlsx", "no-such-folder"])
def test_missing_file(tmp_path, name):
    err = load_error(tmp_path / name)
    assert err.code == "missing" and str(tmp_path / name) in str(err)


@pytest.mark.parametrize("name, data", [
    ("zero.txt", b""),
    ("blank.txt", " \n\r\n\t　\n".encode()),
    ("chrome-only.html", b"<html><body><nav>home</nav><script>x()</script></body></html>"),
    ("bom-only.txt", codecs.BOM_UTF8),
])
def test_empty_files(tmp_path, name, data):
    assert load_error(write(tmp_path, name, data)).code == "empty"


def test_too_large_says_the_size_and_the_limit(tmp_path):
    err = load_error(write(tmp_path, "big.txt", "条" * 1000), max_bytes=1000)
    assert err.code == "too_large"
    assert "2.9 KiB" in err.reason and "1000 bytes" in err.reason


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20,
    bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17]) * 30,  # control characters, no NUL
    "正文".encode() + b"\x00\x01\x02" + "正文".encode(),
])
def test_binary_content_in_a_text_file(tmp_path, data):
    err = load_error(write(tmp_path, "image.txt", data))
    assert err.code == "binary" and "binary" in err.reason


def test_undecodable_bytes(tmp_path):
    err = load_error(write(tmp_path, "noise.txt", bytes(range(0x80, 0x100)) * 4))
    assert err.code == "undecodable" and "UTF-8" in err.reason


def test_broken_bom_is_undecodable(tmp_path):
    err = load_error(write(tmp_path, "odd.txt", codecs.BOM_UTF16_LE + b"\x00\xd8\x41"))
    assert err.code == "undecodable"


@pytest.mark.parametrize("name, hint", [("table.xlsx", "export"), ("old.doc", "save it as .docx"),
                                        ("README", "(no extension)")])
def test_unsupported_type_lists_what_is_supported(tmp_path, name, hint):
    err = load_error(write(tmp_path, name, POLICY))
    assert err.code == "unsupported"
    assert hint in err.reason and ".txt" in err.reason and ".pdf" in err.reason


@pytest.mark.parametrize("name, data", [
    ("broken.docx", b"PK\x03\x04 this is not a zip archive"),
    ("text.docx", POLICY.encode("utf-8")),
    ("broken.pdf", b"%PDF-1.4\n this is not really a PDF"),
    ("text.pdf", POLICY.encode("utf-8")),
])
def test_corrupt_docx_and_pdf(tmp_path, name, data):
    err = load_error(write(tmp_path, name, data))
    assert err.code == "corrupt" and "not a readable" in err.reason


def test_pdf_without_text_layer_needs_ocr(tmp_path):
    scanned = minimal_pdf([b"0 0 1 rg 10 10 200 200 re f", b"q Q"])
    err = load_error(write(tmp_path, "scan.pdf", scanned))
    assert err.code == "no_text" and "OCR" in err.reason and "2 page(s)" in err.reason


def test_password_protected_pdf(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(minimal_pdf([text_op(["secret"])])))
    writer.encrypt(user_password="pw", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert load_error(write(tmp_path, "locked.pdf", buffer.getvalue())).code == "encrypted"


# --- the registry ---------------------------------------------------------------------

def test_a_new_format_is_one_registered_class(tmp_path):
    from assistant.ingest.loaders import LoadedText

    @LOADERS.register("csv-test")
    class CsvLoader:  # registered for this test only, removed below
        fmt = "csv"
        extensions = (".csv",)

        def load(self, data: bytes, path: Path) -> LoadedText:
            return LoadedText(data.decode("utf-8").replace(",", "\t"), path.name, self.fmt)

    try:
        assert ".csv" in supported_extensions()
        assert load_file(write(tmp_path, "t.csv", "a,b\r\nc,d"), LIMIT).text == "a\tb\nc\td"
    finally:
        LOADERS._items.pop("csv-test")
    assert ".csv" not in supported_extensions()


def test_extension_matching_ignores_case():
    assert loader_for(Path("通知.TXT")).fmt == "text"
    assert loader_for(Path("page.HTM")).fmt == "html"


def test_load_bytes_reads_an_upload_like_a_file(tmp_path):
    from assistant.ingest.loaders import load_bytes

    loaded = load_bytes(POLICY.encode("gb18030"), "上传.txt", LIMIT)
    assert (loaded.text, loaded.source, loaded.encoding) == (POLICY, "上传.txt", "gb18030")
    with pytest.raises(LoadError) as caught:
        load_bytes(b"x" * 2048, "big.txt", 1024)
    assert caught.value.code == "too_large"
    with pytest.raises(LoadError) as caught:
        load_bytes(b"", "sheet.xlsx", 1024)
    assert caught.value.code == "unsupported"

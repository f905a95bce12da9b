"""OCR of scans: image-only PDFs and .png pages rendered here from known Chinese text with the
Noto CJK font, read by the real default engine (rapidocr). Each page costs seconds on this
machine, so the engine runs in few, small tests (marked slow)."""

from __future__ import annotations

import pytest

from assistant.bench.ocr import NOTICE, cjk_font_path, scan_pages, write_scan_pdf
from assistant.commands.docs import ocr_cell
from assistant.errors import RegistryError
from assistant.ingest.loaders import load_file
from assistant.ingest.ocr import OCR_ENGINES, OcrLine, check_engine, page_text
from assistant.ingest.pipeline import ingest_files
from assistant.service import Assistant
from assistant.settings import Settings

LIMIT = 50_000_000
needs_font = pytest.mark.skipif(cjk_font_path() is None, reason="fonts-noto-cjk not installed")


def test_boxes_on_one_row_join_left_to_right_and_rows_go_top_down():
    lines = [OcrLine("监测", 0.9, 300, 100, 380, 140), OcrLine("二、", 0.9, 100, 300, 160, 340),
             OcrLine("一、加强", 0.9, 100, 102, 290, 138),  # same row as 监测, detected later
             OcrLine("组长：", 0.9, 100, 200, 200, 240), OcrLine("张三", 0.9, 400, 205, 480, 240)]
    assert page_text(lines) == "一、加强监测\n组长： 张三\n二、"  # a wide gap keeps a space


def test_rapidocr_is_the_registered_default_engine():
    assert "rapidocr" in OCR_ENGINES.names()
    assert Settings(index_dir="/tmp/unused").ingest.ocr == "rapidocr"


def test_an_unknown_ocr_engine_is_refused_by_name():
    """Refused where the engines are registered, when the service starts: before any scan."""
    unknown = "ASSISTANT_INGEST__OCR: unknown OCR engine 'tesseract'"
    with pytest.raises(RegistryError, match=unknown):
        Assistant(Settings(index_dir="/tmp/unused", ocr="tesseract"))
    with pytest.raises(RegistryError, match="known: rapidocr, none"):
        check_engine("tesseract")
    assert check_engine("none") == "none"


def test_ocr_column_of_assistant_docs():
    assert ocr_cell(None) == "—"
    assert ocr_cell({"engine": "rapidocr", "pages": [1, 2, 3], "unread": [3],
                     "confidence": 0.9712}) == "3 p, 0.97, 1 unread"


@needs_font
def test_with_ocr_off_a_scan_is_refused_with_the_setting_to_change(tmp_path):
    pdf = write_scan_pdf(tmp_path / "scan.pdf", [NOTICE[:2]])
    settings = Settings(index_dir=tmp_path / "index", ocr="none")
    documents, report = ingest_files([pdf], settings)
    assert documents == [] and report.errors[0].code == "no_text"
    assert "ASSISTANT_INGEST__OCR" in report.errors[0].message


@needs_font
@pytest.mark.slow
def test_a_scanned_pdf_is_read_page_by_page_and_a_blank_page_is_reported(tmp_path):
    pdf = write_scan_pdf(tmp_path / "通知.pdf", [NOTICE, []])  # page 2 is blank
    steps = []
    documents, report = ingest_files([pdf], Settings(index_dir=tmp_path / "index"),
                                     progress=lambda *step: steps.append(step))
    assert report.errors == []
    (doc,) = documents
    assert doc.title == NOTICE[0]
    for line in NOTICE[1:]:
        assert line in doc.text
    assert [c.label for c in doc.clauses if c.kind == "clause"] == ["一、", "二、", "三、"]
    assert doc.ocr.engine == "rapidocr" and doc.ocr.pages == [1, 2] and doc.ocr.unread == [2]
    assert 0.8 < doc.ocr.confidence <= 1.0
    assert any(w.startswith("page 2:") for w in doc.warnings)
    assert ("ocr", 1, 2) in steps and ("ocr", 2, 2) in steps
    assert report.documents[0].ocr == doc.ocr  # `assistant ingest --json` says so too


@needs_font
@pytest.mark.slow
def test_every_frame_of_a_multipage_tiff_is_read_in_order(tmp_path):
    first, second = scan_pages([NOTICE[3:5], NOTICE[5:7]], size=(1240, 400))
    first.save(tmp_path / "scan.tif", save_all=True, append_images=[second])
    loaded = load_file(tmp_path / "scan.tif", LIMIT, _reader())
    assert loaded.text.splitlines() == NOTICE[3:7] and loaded.ocr.pages == [1, 2]


@needs_font
def test_a_png_page_is_read_by_ocr(tmp_path):
    (page,) = scan_pages([NOTICE[:4]], size=(1240, 600))
    page.save(tmp_path / "notice.png")
    loaded = load_file(tmp_path / "notice.png", LIMIT, _reader())
    assert loaded.fmt == "image" and loaded.text.splitlines()[:2] == NOTICE[:2]
    assert loaded.ocr.pages == [1]


def _reader():
    from assistant.ingest.ocr import ocr_reader

    return ocr_reader("rapidocr")


# --- red ink: a seal stamped over the 落款, a red letterhead -----------------------------------

def test_red_text_is_kept_from_the_colour_read_where_the_clean_read_found_nothing():
    from assistant.ingest.ocr import _merge_red_read

    clean = [OcrLine("2025年7月29日", 0.99, 700, 580, 940, 630)]
    colour = [OcrLine("某某市卫生健康局文件", 1.0, 150, 100, 1000, 200),  # red letterhead
              OcrLine("期兴2025年7月", 0.9, 690, 580, 930, 632),  # the date, misread under the seal
              OcrLine("期兴", 0.54, 300, 560, 370, 610)]  # seal text: a poor score
    merged = _merge_red_read(clean, colour)
    assert page_text(merged) == "某某市卫生健康局文件\n2025年7月29日"


@needs_font
@pytest.mark.slow
def test_a_seal_stamped_over_the_signoff_date_does_not_hide_it(tmp_path):
    from PIL import Image, ImageChops, ImageDraw, ImageFont

    from assistant.ingest.ocr import has_red_ink, without_red_ink

    (page,) = scan_pages([["附件：个人健康监测报告卡", "", "某某市卫生健康局", "2025年7月29日"]],
                         size=(1240, 600))
    assert not has_red_ink(page)
    seal = Image.new("RGB", page.size, "white")
    draw = ImageDraw.Draw(seal)
    red = (230, 40, 40)
    font = ImageFont.truetype(str(cjk_font_path()), size=40)
    for ring in range(8):  # a seal over the date: a thick red ring, its text and star
        draw.ellipse((130 + ring, 300 + ring, 450 - ring, 600 - ring), outline=red)
    draw.text((140, 425), "卫生健康专用章", fill=red, font=font)  # read in colour: 262健4月29章
    draw.regular_polygon((330, 460, 40), 5, fill=red)
    page = ImageChops.multiply(page, seal)  # ink over ink: the text shows through the seal
    assert has_red_ink(page)
    assert without_red_ink(page).getpixel((134, 450)) == (230, 230, 230)  # red ink turns pale
    page.save(tmp_path / "signoff.png")
    loaded = load_file(tmp_path / "signoff.png", LIMIT, _reader())
    assert "2025年7月29日" in loaded.text.splitlines()

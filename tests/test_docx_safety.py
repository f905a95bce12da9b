"""A .docx that unpacks huge, or holds a flood of paragraphs, is refused before the memory
is spent (small files, bounded time)."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest

from assistant.errors import LoadError
from assistant.ingest import loaders
from assistant.ingest.loaders import load_bytes

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxml'
                 b'formats.org/package/2006/content-types"><Default Extension="rels" '
                 b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 b'<Default Extension="xml" ContentType="application/xml"/><Override '
                 b'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                 b'officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxml'
        b'formats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        b'Target="word/document.xml"/></Relationships>')
W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx(body: bytes, padding: int = 0) -> bytes:
    """A minimal valid .docx with `body` inside <w:body>, plus `padding` spaces after it."""
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><w:document ' + W + b"><w:body>" + body
           + b"</w:body></w:document>" + b" " * padding)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", RELS)
        package.writestr("word/document.xml", xml)
    return out.getvalue()


def paragraph(text: str) -> bytes:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()


def test_an_ordinary_docx_still_loads():
    loaded = load_bytes(docx(paragraph("一、总体要求") + paragraph("（一）加强领导。")), "a.docx",
                        1 << 20)
    assert loaded.text == "一、总体要求\n（一）加强领导。"


def test_a_docx_that_unpacks_past_the_cap_is_refused_without_unpacking_it():
    bomb = docx(paragraph("正文"), padding=loaders.DOCX_MAX_UNPACKED_BYTES + 1)
    assert len(bomb) < 2 * 1024 * 1024  # small on the wire
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(LoadError) as refused:
        load_bytes(bomb, "bomb.docx", 20 * 1024 * 1024)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert refused.value.code == "too_large" and "unpacks to" in str(refused.value)
    assert peak < 32 * 1024 * 1024 and seconds < 10  # the 128 MiB were never inflated


def test_a_docx_with_a_flood_of_empty_paragraphs_is_refused_before_parsing():
    flood = docx(b"<w:p/>" * (loaders.DOCX_MAX_PARAGRAPHS + 1))
    started = time.perf_counter()
    with pytest.raises(LoadError) as refused:
        load_bytes(flood, "flood.docx", 20 * 1024 * 1024)
    assert refused.value.code == "too_large" and "paragraphs" in str(refused.value)
    assert time.perf_counter() - started < 10


def test_the_paragraph_cap_also_holds_while_reading(monkeypatch):
    # With the pre-check out of the way, reading itself stops at the cap.
    monkeypatch.setattr(loaders, "DOCX_MAX_PARAGRAPHS", 3)
    monkeypatch.setattr(loaders, "_check_docx_package", lambda data, path: None)
    many = docx(b"".join(paragraph(f"段{i}") for i in range(5)))
    with pytest.raises(LoadError, match="more than 3"):
        load_bytes(many, "many.docx", 1 << 20)

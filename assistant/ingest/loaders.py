"""Read one file into plain text, or refuse it with a specific `LoadError`.

Each format is one `Loader` class registered in `LOADERS`; `load_file` picks it by the
file's extension. Loaders only extract text (newlines normalised to "\\n"); removing
boilerplate is the cleaner's job.

>>> load_file(Path("index/corpus/000_03504b245de92999.txt"), 20_000_000).encoding
'utf-8'
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from assistant.errors import LoadError
from assistant.ingest.encoding import decode_text
from assistant.ingest.html_text import declared_charset, html_text_and_heading, looks_like_html
from assistant.ingest.ocr import OcrReader, unread_warnings
from assistant.ingest.pdf_text import pdf_pages_to_text, reading_order, rejoin_page_cuts
from assistant.models import OcrInfo
from assistant.registry import Registry

# Formats people try that we cannot read, with what to do instead.
_CONVERT_HINTS = {
    ".doc": "save it as .docx",
    ".wps": "save it as .docx",
    ".xls": "export the text as .txt",
    ".xlsx": "export the text as .txt",
    ".rtf": "save it as .docx or .txt",
    ".ofd": "export it as PDF",
}
_NEWLINES = re.compile(r"\r\n?|[\v\f\x85\u2028\u2029]")


@dataclass(frozen=True)
class LoadedText:
    """A file's text as read: `source` is the file name, `fmt` the loader that read it."""

    text: str
    source: str
    fmt: str
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    title: str | None = None  # a title the format itself marks (an HTML page's <h1>)
    ocr: OcrInfo | None = None  # set when pages were read by OCR


class Loader(Protocol):
    """One file format: the extensions it claims and how its bytes become text."""

    fmt: str
    extensions: tuple[str, ...]

    def load(self, data: bytes, path: Path) -> LoadedText:
        """Text of the file; raises LoadError (code binary/undecodable/corrupt/no_text...).

        A loader with `reads_images = True` also takes `ocr` (an OcrReader, or None when
        OCR is off) for pages that have no text layer.
        """
        ...


LOADERS: Registry[type[Loader]] = Registry("loader")


def supported_extensions() -> list[str]:
    return sorted(ext for name in LOADERS.names() for ext in LOADERS.get(name).extensions)


def loader_for(path: Path) -> Loader:
    """The loader for the file's extension; LoadError(code="unsupported") if none."""
    suffix = path.suffix.lower()
    for name in LOADERS.names():
        loader = LOADERS.get(name)
        if suffix in loader.extensions:
            return loader()
    raise LoadError(str(path), _unsupported_reason(suffix), "unsupported")


def load_file(path: Path | str, max_bytes: int, ocr: OcrReader | None = None) -> LoadedText:
    """Read, decode and extract one file; every refusal is a LoadError with a specific code."""
    path = Path(path)
    if not path.exists():  # before the type check: a mistyped folder name is "missing"
        raise LoadError(str(path), "no such file or folder", "missing")
    try:
        loader = loader_for(path)  # an unsupported type is refused before reading anything
    except LoadError:
        data = _read_bytes(path, max_bytes)  # …unless the content is a saved web page
        if not looks_like_html(data):
            raise
        return _extract(HtmlLoader(), data, path)
    data = _read_bytes(path, max_bytes)
    return _extract(_sniffed(loader, data), data, path, ocr)


def load_bytes(data: bytes, name: str, max_bytes: int,
               ocr: OcrReader | None = None) -> LoadedText:
    """Like `load_file` for content already in memory (an upload); `name` picks the format."""
    path = Path(name)
    try:
        loader = loader_for(path)
    except LoadError:
        if not looks_like_html(data):
            raise
        loader = HtmlLoader()
    _check_size(len(data), max_bytes, name)
    return _extract(_sniffed(loader, data), data, path, ocr)


def _sniffed(loader: Loader, data: bytes) -> Loader:
    """A page saved as .txt is still read as HTML."""
    return HtmlLoader() if loader.fmt == "text" and looks_like_html(data) else loader


def _extract(loader: Loader, data: bytes, path: Path, ocr: OcrReader | None = None) -> LoadedText:
    if getattr(loader, "reads_images", False):
        loaded = loader.load(data, path, ocr=ocr.fresh() if ocr is not None else None)
    else:
        loaded = loader.load(data, path)
    text = _NEWLINES.sub("\n", loaded.text)
    if not text.strip():
        raise LoadError(str(path), f"no text in the {loaded.fmt} file", "empty")
    return replace(loaded, text=text)


def _unsupported_reason(suffix: str) -> str:
    shown = suffix or "(no extension)"
    hint = f"; {_CONVERT_HINTS[suffix]}" if suffix in _CONVERT_HINTS else ""
    return f"unsupported file type {shown}; supported: {', '.join(supported_extensions())}{hint}"


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    if not path.is_file():
        raise LoadError(str(path), "not a regular file", "unreadable")
    _check_size(path.stat().st_size, max_bytes, str(path))
    try:
        return path.read_bytes()
    except OSError as err:
        raise LoadError(str(path), f"cannot read the file: {err.strerror}", "unreadable") from None


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size == 0:
        raise LoadError(name, "the file is empty (0 bytes)", "empty")
    if size > max_bytes:
        raise LoadError(name, f"file is {_human(size)}, over the limit of {_human(max_bytes)}"
                              " (ASSISTANT_INGEST__MAX_FILE_BYTES)", "too_large")


def _human(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


@LOADERS.register("text")
class TextLoader:
    """Plain text and Markdown in any common encoding (detected, see encoding.py)."""

    fmt = "text"
    extensions = (".txt", ".md", ".markdown", ".text")

    def load(self, data: bytes, path: Path) -> LoadedText:
        decoded = decode_text(data, str(path))
        # Often a PDF's text saved as .txt: a line cut at a page's end goes on below.
        return LoadedText(rejoin_page_cuts(decoded.text), path.name, self.fmt, decoded.encoding,
                          decoded.warnings)


@LOADERS.register("html")
class HtmlLoader:
    """A saved web page: the text of its body, honouring <meta charset>."""

    fmt = "html"
    # Saved dynamic pages keep their server-side extension; their content is HTML.
    extensions = (".html", ".htm", ".shtml", ".xhtml", ".php", ".asp", ".aspx", ".jsp", ".cfm")

    def load(self, data: bytes, path: Path) -> LoadedText:
        decoded = decode_text(data, str(path), declared=declared_charset(data))
        text, heading = html_text_and_heading(decoded.text)
        return LoadedText(text, path.name, self.fmt, decoded.encoding, decoded.warnings, heading)


# A real policy .docx unpacks to a few MiB and holds a few thousand paragraphs; these
# caps stop a zip bomb or a flood of empty paragraphs before python-docx spends the memory.
DOCX_MAX_UNPACKED_BYTES = 128 * 1024 * 1024
DOCX_MAX_PARAGRAPHS = 100_000
_DOCX_BODY = "word/document.xml"


@LOADERS.register("docx")
class DocxLoader:
    """Word 2007+ documents: numbered paragraphs, table rows and embedded HTML (altChunk)
    parts in reading order (see docx_text.py)."""

    fmt = "docx"
    extensions = (".docx",)

    def load(self, data: bytes, path: Path) -> LoadedText:
        import docx  # heavy-ish; only when a .docx arrives

        _check_docx_package(data, path)
        try:
            document = docx.Document(io.BytesIO(data))
            blocks = _docx_blocks(document, path)
        except LoadError:
            raise
        except Exception as err:  # noqa: BLE001 - python-docx raises zip, XML and KeyErrors alike
            raise LoadError(str(path), f"not a readable .docx file ({_describe(err)})",
                            "corrupt") from None
        return LoadedText("\n".join(b for b in blocks if b.strip()), path.name, self.fmt)


def _check_docx_package(data: bytes, path: Path) -> None:
    """Refuse a .docx whose parts unpack too large or whose body has too many paragraphs.

    Only the zip directory is read for the sizes (zipfile never inflates past a member's
    declared size, so the declared total bounds what python-docx can unpack); the body is
    then inflated once, within that bound, to count its paragraphs before any XML is parsed.
    """
    import zipfile
    import zlib

    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(member.file_size for member in package.infolist())
        if unpacked > DOCX_MAX_UNPACKED_BYTES:
            raise LoadError(str(path), f"the .docx unpacks to {_human(unpacked)}, over the "
                                       f"limit of {_human(DOCX_MAX_UNPACKED_BYTES)} "
                                       "(a compressed bomb?)", "too_large")
        body = package.read(_DOCX_BODY) if _DOCX_BODY in package.namelist() else b""
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
            NotImplementedError) as err:  # a broken zip: python-docx says so better below
        logging.getLogger(__name__).debug("docx pre-check of %s: %s", path, err)
        return
    paragraphs = body.count(b"<w:p>") + body.count(b"<w:p ") + body.count(b"<w:p/>")
    if paragraphs > DOCX_MAX_PARAGRAPHS:
        raise _too_many_paragraphs(path, paragraphs)


def _too_many_paragraphs(path: Path, count: int | str) -> LoadError:
    return LoadError(str(path), f"the .docx has {count} paragraphs, over the limit of "
                                f"{DOCX_MAX_PARAGRAPHS}", "too_large")


def _docx_blocks(document, path: Path) -> list[str]:
    """Block texts in reading order, stopping at the paragraph cap while reading."""
    from assistant.ingest.docx_text import body_blocks  # imports python-docx

    blocks = []
    for count, block in enumerate(body_blocks(document), 1):
        if count > DOCX_MAX_PARAGRAPHS:
            raise _too_many_paragraphs(path, f"more than {DOCX_MAX_PARAGRAPHS}")
        blocks.append(block)
    return blocks


_OCR_OFF_HINT = "OCR is off (ASSISTANT_INGEST__OCR=none); turn it on to read scans"
# A page whose text layer has fewer characters than this is read as an image (scanners
# sometimes add a page number or a stamp as text).
_MIN_PAGE_CHARS = 5


@LOADERS.register("pdf")
class PdfLoader:
    """PDF text layer, page by page; pages without one (scans) are read by OCR."""

    fmt = "pdf"
    extensions = (".pdf",)
    reads_images = True

    def load(self, data: bytes, path: Path, ocr: OcrReader | None = None) -> LoadedText:
        pages = _pdf_pages(data, path)
        images = [i for i, page in enumerate(pages) if len(page.strip()) < _MIN_PAGE_CHARS]
        warnings: list[str] = []
        if images and ocr is not None:
            for index, text in _ocr_pdf_pages(data, path, images, ocr):
                pages[index] = text
        elif images and len(images) < len(pages):
            warnings.append(f"page(s) {_numbers(images)} have no text layer and were not read: "
                            + _OCR_OFF_HINT)
        text = pdf_pages_to_text(pages)
        if not text.strip():
            reason = (f"OCR found no text on its {len(pages)} page(s)" if ocr is not None
                      else f"the PDF has no text layer ({len(pages)} page(s) of images?); "
                           + _OCR_OFF_HINT)
            raise LoadError(str(path), reason, "no_text")
        info = ocr.info() if ocr is not None else None
        return LoadedText(text, path.name, self.fmt, warnings=warnings + unread_warnings(info),
                          ocr=info)


def _numbers(indexes: list[int]) -> str:
    return ", ".join(str(i + 1) for i in indexes)


def _ocr_pdf_pages(data: bytes, path: Path, indexes: list[int], ocr: OcrReader):
    """(page index, OCR text) for each page, rendered one at a time (bounded memory)."""
    import pypdfium2 as pdfium  # renders pages; only needed for scans

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        raise LoadError(str(path), f"cannot render the PDF for OCR ({err})", "corrupt") from None
    try:
        ocr.step(0, len(indexes))
        for done, index in enumerate(indexes, 1):
            page = pdf[index]
            try:
                image = page.render(scale=ocr.dpi / 72).to_pil()
            finally:
                page.close()
            yield index, ocr.read(image, index + 1)
            del image
            ocr.step(done, len(indexes))
    finally:
        pdf.close()


@LOADERS.register("image")
class ImageLoader:
    """A scanned page or photo (.png, .jpg, .tif — every frame of a multi-page TIFF), by OCR."""

    fmt = "image"
    extensions = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
    reads_images = True

    def load(self, data: bytes, path: Path, ocr: OcrReader | None = None) -> LoadedText:
        if ocr is None:
            raise LoadError(str(path), "an image has no text layer; " + _OCR_OFF_HINT, "no_text")
        pages = [page for _, page in _ocr_frames(data, path, ocr)]
        text = "\n".join(pages)
        if not text.strip():
            raise LoadError(str(path), "OCR found no text in the image", "no_text")
        info = ocr.info()
        return LoadedText(pdf_pages_to_text(pages), path.name, self.fmt,
                          warnings=unread_warnings(info), ocr=info)


def _ocr_frames(data: bytes, path: Path, ocr: OcrReader):
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        total = getattr(image, "n_frames", 1)
        ocr.step(0, total)
        for number, frame in enumerate(ImageSequence.Iterator(image), 1):
            yield number, ocr.read(frame.convert("RGB"), number)
            ocr.step(number, total)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise LoadError(str(path), f"not a readable image ({_describe(err)})", "corrupt") from None


def _pdf_pages(data: bytes, path: Path) -> list[str]:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its repair chatter is not for users
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(str(path), "the PDF is password-protected", "encrypted")
        return [_page_text(page) for page in reader.pages]
    except LoadError:
        raise
    except Exception as err:  # noqa: BLE001 - pypdf raises many error types for damaged files
        raise LoadError(str(path), f"not a readable PDF ({_describe(err)})", "corrupt") from None


def _page_text(page) -> str:
    """The page's text in reading order: each extracted line with its height on the page."""
    fragments: list[tuple[str, float]] = []

    def visit(text, cm, tm, font, size) -> None:
        fragments.append((text, tm[5] * cm[3] + cm[5]))  # baseline in page space

    text = page.extract_text(visitor_text=visit) or ""
    if "".join(f for f, _ in fragments) != text:  # pypdf joined differently: keep its order
        return text
    lines: list[tuple[str, float | None]] = [("", None)]
    for fragment, y in fragments:
        parts = fragment.split("\n")
        for index, part in enumerate(parts):
            if index:
                lines.append(("", None))
            line, first_y = lines[-1]
            lines[-1] = (line + part, first_y if first_y is not None or not part.strip() else y)
    return reading_order(lines)


def _describe(err: Exception) -> str:
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {message}"[:200] if message else type(err).__name__

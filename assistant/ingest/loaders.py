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
from assistant.ingest.pdf_text import pdf_pages_to_text
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


class Loader(Protocol):
    """One file format: the extensions it claims and how its bytes become text."""

    fmt: str
    extensions: tuple[str, ...]

    def load(self, data: bytes, path: Path) -> LoadedText:
        """Text of the file; raises LoadError (code binary/undecodable/corrupt/no_text...)."""
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


def load_file(path: Path | str, max_bytes: int) -> LoadedText:
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
    return _extract(_sniffed(loader, data), data, path)


def load_bytes(data: bytes, name: str, max_bytes: int) -> LoadedText:
    """Like `load_file` for content already in memory (an upload); `name` picks the format."""
    path = Path(name)
    try:
        loader = loader_for(path)
    except LoadError:
        if not looks_like_html(data):
            raise
        loader = HtmlLoader()
    _check_size(len(data), max_bytes, name)
    return _extract(_sniffed(loader, data), data, path)


def _sniffed(loader: Loader, data: bytes) -> Loader:
    """A page saved as .txt is still read as HTML."""
    return HtmlLoader() if loader.fmt == "text" and looks_like_html(data) else loader


def _extract(loader: Loader, data: bytes, path: Path) -> LoadedText:
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
                              " (ASSISTANT_MAX_FILE_BYTES)", "too_large")


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
        return LoadedText(decoded.text, path.name, self.fmt, decoded.encoding, decoded.warnings)


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


@LOADERS.register("docx")
class DocxLoader:
    """Word 2007+ documents: paragraphs and table rows in reading order."""

    fmt = "docx"
    extensions = (".docx",)

    def load(self, data: bytes, path: Path) -> LoadedText:
        import docx  # heavy-ish; only when a .docx arrives

        try:
            document = docx.Document(io.BytesIO(data))
            blocks = [_docx_block_text(block) for block in document.iter_inner_content()]
        except Exception as err:  # noqa: BLE001 - python-docx raises zip, XML and KeyErrors alike
            raise LoadError(str(path), f"not a readable .docx file ({_describe(err)})",
                            "corrupt") from None
        return LoadedText("\n".join(b for b in blocks if b.strip()), path.name, self.fmt)


def _docx_block_text(block) -> str:
    """A paragraph's text, or a table as one line per row with cells separated by tabs."""
    if not hasattr(block, "rows"):
        return block.text
    return "\n".join(_docx_row_text(row) for row in block.rows)


def _docx_row_text(row) -> str:
    cells: list[str] = []
    for cell in row.cells:
        text = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
        if not cells or text != cells[-1]:  # a merged cell repeats across the columns it spans
            cells.append(text)
    return "\t".join(cells)


@LOADERS.register("pdf")
class PdfLoader:
    """PDF text layer, page by page; scanned PDFs (images only) need OCR first."""

    fmt = "pdf"
    extensions = (".pdf",)

    def load(self, data: bytes, path: Path) -> LoadedText:
        pages = _pdf_pages(data, path)
        text = pdf_pages_to_text(pages)
        if not text.strip():
            raise LoadError(str(path), f"the PDF has no text layer ({len(pages)} page(s) of "
                                       "images?); run OCR on it first", "no_text")
        return LoadedText(text, path.name, self.fmt)


def _pdf_pages(data: bytes, path: Path) -> list[str]:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its repair chatter is not for users
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(str(path), "the PDF is password-protected", "encrypted")
        return [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except Exception as err:  # noqa: BLE001 - pypdf raises many error types for damaged files
        raise LoadError(str(path), f"not a readable PDF ({_describe(err)})", "corrupt") from None


def _describe(err: Exception) -> str:
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {message}"[:200] if message else type(err).__name__

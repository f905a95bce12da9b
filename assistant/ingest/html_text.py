"""The text of an HTML page's body: page chrome dropped, block elements as line breaks.

Only structure is handled here (which elements carry content); boilerplate lines that
sit inside the body (breadcrumbs, share widgets, footers written as plain <div>s) are
left for the cleaner.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose whole content is chrome or code, never document text.
_SKIP = frozenset({
    "script", "style", "nav", "header", "footer", "aside", "form", "noscript", "template",
    "svg", "iframe", "head", "select", "button", "object", "canvas",
})
_BLOCK = frozenset({
    "address", "article", "blockquote", "br", "caption", "center", "dd", "div", "dl", "dt",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol",
    "p", "pre", "section", "table", "tbody", "tfoot", "thead", "tr", "ul",
})
_CELLS = frozenset({"td", "th"})
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "area", "base", "col"})
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""",
                           re.IGNORECASE)
_HEADINGS = ("h1", "h2", "h3")
_MARKUP_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b",
    re.IGNORECASE | re.DOTALL,
)


def declared_charset(data: bytes) -> str | None:
    """The encoding a page declares in <meta charset> / http-equiv, if any."""
    match = _META_CHARSET.search(data[:8192])
    return match.group(1).decode("ascii") if match else None


def looks_like_html(data: bytes) -> bool:
    """A saved web page, whatever its extension (.php, .asp, .aspx, .jsp …)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    return bool(_MARKUP_START.match(head))


def html_to_text(markup: str) -> str:
    """Body text, one block per line, blank lines dropped."""
    return html_text_and_heading(markup)[0]


def html_text_and_heading(markup: str) -> tuple[str, str | None]:
    """(body text, the page's main heading): <title> is often the site's name, so the
    document's own title is taken from the first <h1>, else <h2>, else <h3> of the body."""
    parser = _BodyText()
    parser.feed(markup)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    heading = next((parser.headings[tag][0] for tag in _HEADINGS if parser.headings[tag]), None)
    return "\n".join(_named_tables([line for line in lines if line])), heading


# A header row: every cell short and non-empty, no sentence in it.
_HEADER_CELL_MAX = 16


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table's rows as lines: cells joined by tabs, and under a header row each cell named
    by its column ("序号：1；任务：病例监测；牵头单位：市疾控中心"), so a row read alone (a
    clause's text, a search hit) still says what its cells are."""
    rows = [row for row in rows if any(row)]
    if len(rows) < 2 or not _is_header(rows[0]):
        return ["\t".join(row) for row in rows]
    header = rows[0]
    return ["\t".join(header)] + [_named_row(header, row) for row in rows[1:]]


def _is_header(cells: list[str]) -> bool:
    return len(cells) >= 2 and all(0 < len(c) <= _HEADER_CELL_MAX and "。" not in c for c in cells)


def _named_row(header: list[str], cells: list[str]) -> str:
    if len(cells) != len(header):  # merged cells: no column to name
        return "\t".join(cells)
    return "；".join(f"{name}：{cell}" for name, cell in zip(header, cells) if cell)


def _named_tables(lines: list[str]) -> list[str]:
    """Runs of tab-separated lines (table rows) rewritten by `table_lines`."""
    out: list[str] = []
    run: list[list[str]] = []
    for line in [*lines, ""]:
        if "\t" in line:
            run.append([cell.strip() for cell in line.split("\t")])
            continue
        if run:
            out.extend(table_lines(run))
            run = []
        if line:
            out.append(line)
    return out


def _is_chrome(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    return tag in _SKIP or any(name == "hidden" for name, _ in attrs)


class _BodyText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: list[str] = []  # open chrome elements, innermost last
        self._pre = 0
        self.headings: dict[str, list[str]] = {tag: [] for tag in _HEADINGS}
        self._heading: list[str] | None = None  # text of the open h1–h3

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skipping.clear()  # <head> may be left unclosed, which HTML allows
        elif tag not in _VOID and (self._skipping or _is_chrome(tag, attrs)):
            self._skipping.append(tag)  # inside chrome every element is tracked, to nest right
        self._boundary(tag)
        if tag == "pre":
            self._pre += 1
        if tag in _HEADINGS and not self._skipping:
            self._heading = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._boundary(tag)  # <br/>: never opens an element

    def handle_endtag(self, tag: str) -> None:
        if tag in self._skipping:
            while self._skipping and self._skipping.pop() != tag:
                pass  # also close chrome elements left open inside it
        if tag in _BLOCK:
            self._boundary(tag)
        if tag in _HEADINGS and self._heading is not None:
            text = _HTML_SPACE.sub(" ", "".join(self._heading)).strip()
            if len(text) >= 4:
                self.headings[tag].append(text)
            self._heading = None
        if tag == "pre" and self._pre:
            self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        self.parts.append(data if self._pre else _HTML_SPACE.sub(" ", data))
        if self._heading is not None:
            self._heading.append(data)

    def _boundary(self, tag: str) -> None:
        if self._skipping:
            return
        if tag in _BLOCK:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append("\t")  # only at a cell's start: cells of a row on one line

"""The text of a Word body as it prints: numbering labels, tables and embedded HTML parts.

python-docx gives paragraph text only; three things Word shows are elsewhere:
- automatic numbering ("一、", "（一）", "1.") lives in numbering.xml, referenced by a
  paragraph's (or its style's) numPr — rendered here in front of the paragraph;
- a table is rows of cells; a row is written "header：cell；header：cell" under a header row
  so each line still says what its cells are (a 责任分工 row names its 牵头单位);
- an altChunk (files exported by law databases) is a whole HTML/MHT part standing in for
  the body; its text is read with the HTML reader.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator

from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from assistant.ingest.encoding import decode_text
from assistant.ingest.html_text import declared_charset, html_to_text, table_lines
from assistant.lexicon import CIRCLED, int_to_cn


def body_blocks(document) -> Iterator[str]:
    """Block texts of the body in reading order (a table gives one block of rows)."""
    numbering = Numbering.of(document)
    yield from _blocks(document.element.body, document, numbering)


def _blocks(parent, document, numbering: Numbering) -> Iterator[str]:
    for child in parent.iterchildren():
        if child.tag == qn("w:p"):
            paragraph = Paragraph(child, document)
            yield numbering.label(paragraph) + paragraph.text
        elif child.tag == qn("w:tbl"):
            yield table_text(Table(child, document))
        elif child.tag == qn("w:altChunk"):
            yield alt_chunk_text(document, child.get(qn("r:id")))
        elif child.tag == qn("w:sdt"):  # a content control wraps ordinary blocks
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content, document, numbering)


# --- tables ------------------------------------------------------------------------------

def table_text(table: Table) -> str:
    """One line per row; under a header row each cell is named by its column's header."""
    return "\n".join(table_lines([_row_cells(row) for row in table.rows]))


def _row_cells(row) -> list[str]:
    cells: list[str] = []
    previous = None
    for cell in row.cells:
        if previous is not None and cell._tc is previous:  # a merged cell repeats per column
            continue
        previous = cell._tc
        cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
    return cells


# --- altChunk ----------------------------------------------------------------------------

def alt_chunk_text(document, rel_id: str | None) -> str:
    """Text of an embedded HTML or MHT (MIME) part."""
    part = document.part.related_parts.get(rel_id) if rel_id else None
    if part is None:
        return ""
    data = part.blob
    if data.lstrip()[:12].lower().startswith(b"mime-version") or b"multipart/" in data[:2048]:
        return html_to_text(_mht_html(data))
    return html_to_text(decode_text(data, rel_id, declared=declared_charset(data)).text)


def _mht_html(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_content()
    return ""


# --- automatic numbering -----------------------------------------------------------------

def _roman(number: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"),
                           (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
                           (4, "iv"), (1, "i")):
        count, number = divmod(number, value)
        out += letters * count
    return out


def _letter(number: int) -> str:
    return chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)


_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: str(n).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    ),
    "decimalEnclosedCircle": lambda n: CIRCLED[n - 1] if 0 < n <= len(CIRCLED) else str(n),
    "decimalEnclosedCircleChinese": lambda n: CIRCLED[n - 1] if 0 < n <= len(CIRCLED) else str(n),
    "chineseCounting": int_to_cn,
    "chineseCountingThousand": int_to_cn,
    "ideographTraditional": lambda n: "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10],
    "lowerLetter": _letter,
    "upperLetter": lambda n: _letter(n).upper(),
    "lowerRoman": _roman,
    "upperRoman": lambda n: _roman(n).upper(),
}


class Numbering:
    """Counters for Word's list numbering, advanced paragraph by paragraph in body order."""

    def __init__(self, levels: dict[str, dict[int, tuple[int, str, str]]]) -> None:
        self._levels = levels  # numId → ilvl → (start, numFmt, lvlText)
        self._counters: dict[str, dict[int, int]] = {}

    @classmethod
    def of(cls, document) -> Numbering:
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):  # no numbering part
            return cls({})
        abstract = {a.get(qn("w:abstractNumId")): _levels_of(a)
                    for a in root.iterchildren(qn("w:abstractNum"))}
        levels = {}
        for num in root.iterchildren(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            base = dict(abstract.get(ref.get(qn("w:val")) if ref is not None else None, {}))
            for override in num.iterchildren(qn("w:lvlOverride")):
                level, start = (
                    int(override.get(qn("w:ilvl"), "0")),
                    override.find(qn("w:startOverride")),
                )
                if start is not None and level in base:
                    base[level] = (int(start.get(qn("w:val"))),) + base[level][1:]
            levels[num.get(qn("w:numId"))] = base
        return cls(levels)

    def label(self, paragraph: Paragraph) -> str:
        """The label Word prints before this paragraph ("" when it is not numbered)."""
        num_id, level = _num_pr(paragraph)
        levels = self._levels.get(num_id or "")
        if not levels or level not in levels:
            return ""
        counters = self._counters.setdefault(num_id, {})
        start = levels[level][0]
        counters[level] = counters.get(level, start - 1) + 1
        for deeper in [lv for lv in counters if lv > level]:  # a new 一、 restarts its （一）
            del counters[deeper]
        _, fmt, text = levels[level]
        if fmt in ("bullet", "none") or fmt not in _FORMATS:
            return ""
        for shown in range(level + 1):
            if f"%{shown + 1}" in text:
                value = counters.get(shown, levels.get(shown, (1,))[0])
                shown_fmt = levels.get(shown, (1, fmt, ""))[1]
                text = text.replace(f"%{shown + 1}", _FORMATS.get(shown_fmt, str)(value))
        return text


def _levels_of(abstract) -> dict[int, tuple[int, str, str]]:
    levels = {}
    for lvl in abstract.iterchildren(qn("w:lvl")):
        start, fmt, text = (lvl.find(qn(tag)) for tag in ("w:start", "w:numFmt", "w:lvlText"))
        levels[int(lvl.get(qn("w:ilvl"), "0"))] = (
            int(start.get(qn("w:val"))) if start is not None else 1,
            fmt.get(qn("w:val")) if fmt is not None else "decimal",
            text.get(qn("w:val")) if text is not None else "")
    return levels


def _num_pr(paragraph: Paragraph) -> tuple[str | None, int]:
    """(numId, ilvl) from the paragraph, else from its style (headings numbered by style)."""
    for holder in (paragraph._p, _style_element(paragraph)):
        ppr = holder.find(qn("w:pPr")) if holder is not None else None
        num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
        if num_pr is None:
            continue
        num_id, ilvl = num_pr.find(qn("w:numId")), num_pr.find(qn("w:ilvl"))
        level = int(ilvl.get(qn("w:val"))) if ilvl is not None else 0
        return (num_id.get(qn("w:val")) if num_id is not None else None), max(level, 0)
    return None, 0


def _style_element(paragraph: Paragraph):
    try:
        style = paragraph.style
    except (KeyError, ValueError, AttributeError):
        return None
    return style.element if style is not None else None

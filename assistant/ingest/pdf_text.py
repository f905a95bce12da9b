"""The text of a PDF's pages as paragraphs: print layout undone.

A PDF text layer is lines as printed: page numbers (—2—, - 2 -), running headers and
footers, disclosure stamps (依申请公开), letter-spaced letterheads (佛 山 市 …), spaces the
extraction puts around digits (2019 年6 月24 日, 13 号) and sentences wrapped at the right
margin. This module removes the furniture and joins wrapped lines back into paragraphs, so
the cleaner and parser see the same text a Word or web copy would give.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from assistant.lexicon import (
    TITLE_TAIL,
    is_date_line,
    is_name_list_entry,
    is_org_line,
    match_marker,
    normalise_doc_number,
)

_PAGE_NUMBER = re.compile(
    # "一" too: OCR reads the dashes of "— 2 —" as the numeral.
    r"^(?:[—\-–－~～_一]*\s*\d{1,4}\s*[—\-–－~～_一]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4})$")
_DISCLOSURE = re.compile(
    r"^[【\[（(]?\s*(依申请公开|主动公开|不予公开|免予公开|内部资料)\s*[】\]）)]?$"
)
# The stamp printed on the 文号 line of a red-header notice ("依申请公开 佛卫函〔2025〕17号").
_DISCLOSURE_PREFIX = re.compile(
    r"^[【\[（(]?(依申请公开|主动公开|不予公开|免予公开)[】\]）)]?\s+(?=\S)"
)
_CJK = "\u3400-\u9fff"
_LETTER_SPACED = re.compile(rf"^(?:[{_CJK}]\s){{3,}}[{_CJK}]$")
_DIGIT_GAP = re.compile(
    rf"(?<=[{_CJK}，。、：；（）])\s+(?=\d)|(?<=\d)\s+(?=[{_CJK}，。、：；（）])"
)
_CJK_PUNCT_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[，。、：；！？）”])|(?<=[（“])\s+(?=[{_CJK}])")
_SENTENCE_END = ("。", "！", "？", "：", "；", "…", ":", ";", "!", "?")
_FULL_LINE_SHARE = 0.85
# The text width is read at this share of the lines (by width): an attachment's table rows,
# a tenth of a notice's lines and far wider than its text, must not set the margin.
_MARGIN_QUANTILE = 0.75
_REPEAT_MIN_PAGES = 3
_ENTRY_WRAP_SHARE = 0.6  # a name-list line this wide may wrap its post onto the next
_ATTACHMENT_LINE = re.compile(r"^附\s*件")
_TOP_RANK = 1  # 一、 and the legal units above it
_RUN_JUMP = 24  # points: a line this much above the previous one starts a new run


# Text a PDF's extractor saved as plain text keeps each wrap inside a paragraph as a space
# (支付比例、 最高支付限额); where the page ended mid-sentence the cut stays a line break
# (执行参保地规定的 / 基本医疗保险基金起付标准…). The gaps' spacing gives the page's width.
_WRAP_GAP = re.compile(rf"(?<=[{_CJK}，、。；：“”（）])[ \u3000](?=[{_CJK}，、。；：“”（）])")
_WRAP_MIN_GAPS = 10  # wraps needed before the width is trusted
_WRAP_MIN_WIDTH = 24  # cells: a page line holds a dozen characters or more (not 国 家 能 源 局)
_CUT_REACH = 0.7  # a line cut at the page's end fills this share of the width at least…
_HEADING_REACH = 0.9  # …this share when it is a numbered line without punctuation (a heading?)
_LIST_CODE = re.compile(r"^\d+[.．、]")  # 04.外科: an entry of a code list
_INNER_MARK = re.compile(r"[，、。；：,;:]")


def rejoin_page_cuts(text: str) -> str:
    """Plain text a PDF's extractor wrote: a line cut where its page ended is joined to the
    line that goes on with it. Text showing no wraps of its own is returned as it is."""
    lines = text.split("\n")
    width = _wrap_width(lines)
    if width is None:
        return text
    joined: list[str] = []
    for line in lines:
        if joined and _cut_at_page_end(joined[-1], line, width):
            joined[-1] = joined[-1].rstrip() + line.strip()
        else:
            joined.append(line)
    return "\n".join(joined)


def _wrap_width(lines: list[str]) -> int | None:
    """The page's line width in cells: the median span between a paragraph's inner wraps
    (its first and last pieces are shorter: indent, end of paragraph)."""
    spans = sorted(_width(piece) for line in lines
                   for piece in _WRAP_GAP.split(line.strip())[1:-1])
    median = spans[len(spans) // 2] if len(spans) >= _WRAP_MIN_GAPS else 0
    return median if median >= _WRAP_MIN_WIDTH else None


def _cut_at_page_end(above: str, line: str, width: float) -> bool:
    above, line = above.strip(), line.strip()
    if (not above or not line or above.endswith(_SENTENCE_END) or TITLE_TAIL.search(above)
            or match_marker(line) or _LIST_CODE.match(line) or is_name_list_entry(line)
            or is_date_line(line) or normalise_doc_number(line) or _ATTACHMENT_LINE.match(line)):
        return False
    pieces = _WRAP_GAP.split(above)
    marker = match_marker(above)
    if marker and len(pieces) > 1 and len(pieces[0]) <= marker.length:
        pieces = [pieces[0] + pieces[1], *pieces[2:]]  # 第三十五条 定点…: the label's gap
    # An article's first line is a rule (第三条 本规程适用于…); 六、加强… may be a heading.
    heading = marker and marker.rank != 0 and not _INNER_MARK.search(above[marker.length:])
    return _width(pieces[-1]) >= (_HEADING_REACH if heading else _CUT_REACH) * width


def pdf_pages_to_text(pages: list[str]) -> str:
    """Pages' extracted text → paragraphs, one per line."""
    page_lines = [[_tidy(line) for line in page.splitlines()] for page in pages]
    running = _running_lines(page_lines)
    lines = [line for page in page_lines for line in page
             if line and not _is_furniture(line) and line not in running]
    return "\n".join(_join_wrapped(lines))


def reading_order(lines: list[tuple[str, float | None]]) -> str:
    """A page's extracted lines (text, baseline height from the page bottom) top to bottom.

    Lines come in content-stream order. Some producers (WPS) write the letterhead and title
    last, so they extract after the body. A line that starts higher up the page than the one
    before opens a new run; a run is moved in front of the first line printed below its top.
    A run sharing a baseline with lines already placed (a table read column by column) stays
    where it is, so columns are never interleaved.
    """
    placed: list[tuple[str, float | None]] = []
    for run in _runs(lines):
        top = next((y for _, y in run if y is not None), None)
        if top is None or _shares_baseline(run, placed):
            placed.extend(run)
            continue
        at = next((i for i, (_, y) in enumerate(placed) if y is not None and y < top - 1),
                  len(placed))
        placed[at:at] = run
    return "\n".join(text for text, _ in placed)


def _runs(lines: list[tuple[str, float | None]]) -> list[list[tuple[str, float | None]]]:
    runs: list[list[tuple[str, float | None]]] = [[]]
    previous: float | None = None
    for text, y in lines:
        if y is not None and previous is not None and y > previous + _RUN_JUMP:
            runs.append([])
        runs[-1].append((text, y))
        previous = y if y is not None else previous
    return runs


def _shares_baseline(run, placed) -> bool:
    heights = [y for _, y in placed if y is not None]
    return any(y is not None and any(abs(y - h) < 2 for h in heights) for _, y in run)


def _tidy(line: str) -> str:
    line = _DISCLOSURE_PREFIX.sub("", line.strip())
    if _LETTER_SPACED.match(line):
        return re.sub(r"\s", "", line)
    line = _DIGIT_GAP.sub("", line)
    return _CJK_PUNCT_GAP.sub("", line)


def _is_furniture(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line) or _DISCLOSURE.match(line))


def _running_lines(page_lines: list[list[str]]) -> set[str]:
    """Lines printed at the top or bottom of most pages (running header/footer)."""
    if len(page_lines) < _REPEAT_MIN_PAGES:
        return set()
    edges = Counter()
    for lines in page_lines:
        kept = [line for line in lines if line]
        edges.update(set(kept[:2] + kept[-2:]))
    return {
        line
        for line, count in edges.items()
        if count >= max(_REPEAT_MIN_PAGES, len(page_lines) // 2)
    }


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line)


def _join_wrapped(lines: list[str]) -> list[str]:
    """A line that reaches the right margin and does not end a sentence continues below."""
    widths = [_width(line) for line in lines if _width(line) >= 20]
    if not widths:
        return lines
    full = sorted(widths)[int(len(widths) * _MARGIN_QUANTILE)] * _FULL_LINE_SHARE
    paragraphs: list[str] = []
    open_line, open_bracket, open_entry = False, False, False
    for at, line in enumerate(lines):
        entry = is_name_list_entry(line)
        # A bracket left open continues even before a marker-like start: （参考附件 / 1）…
        if (
            (open_bracket and not _is_heading(line))
            or (
                open_line
                and not match_marker(line)
                and not entry
                and not _signs_off(line, lines[at + 1 : at + 2])
            )
            or (open_entry and _ends_post(line, lines[at + 1 : at + 2]))
        ):
            paragraphs[-1] += line
        else:
            paragraphs.append(line)
        open_bracket = _opens_bracket(line)
        open_line = _width(line) >= full and not paragraphs[-1].endswith(_SENTENCE_END)
        # A name list is set narrower than the text: a post wrapped under itself continues.
        open_entry = entry and _width(line) >= full * _ENTRY_WRAP_SHARE
    return paragraphs


def _ends_post(line: str, following: list[str]) -> bool:
    """The wrapped end of a person's post (行业党委专职副书记): a fragment, no sentence."""
    return not (match_marker(line) or is_name_list_entry(line) or is_date_line(line)
                or _signs_off(line, following) or _ATTACHMENT_LINE.match(line)
                or any(mark in line for mark in "。；;：:"))


def _signs_off(line: str, following: list[str]) -> bool:
    """A body's name on the line above a date alone is the 落款, not the end of a wrapped line
    (a full-width 附件 line often ends just above it)."""
    return bool(following) and is_org_line(line) and is_date_line(following[0])


def _is_heading(line: str) -> bool:
    """三、备注 / 第五条: a heading never continues a bracket left open above it (a form's
    fill-in bracket whose ）OCR lost, far right of the line)."""
    marker = match_marker(line)
    return bool(marker and marker.rank <= _TOP_RANK)


def _opens_bracket(line: str) -> bool:
    return line.count("（") + line.count("(") > line.count("）") + line.count(")")

"""Several documents in one file: where one ends and the next begins.

Scraped collections run documents together. A new document begins at a title block (one
to three short lines) that stands right above a 文号 line (`（国卫医发〔2013〕31 号）`) or, for a
关于… title, above a 主送 line (`各省、自治区、直辖市卫生厅局：`), once the document before it
has been dated (its 落款 or a bare 成文日期 line). An issuer line right above the title is the
new document's letterhead. A title in a document's own header never splits it.
"""

from __future__ import annotations

import re

from assistant.ingest.metadata import is_org_line, normalise_doc_number
from assistant.lexicon import DATE_IN_TEXT, TITLE_TAIL, is_date_line

_TITLE_LINE_MAX = 60
_TITLE_BLOCK_MAX = 3
_ABOUT_TITLE = re.compile(rf"关于.+{TITLE_TAIL.pattern}")  # 关于…的通知（2007）
_MIN_LENGTH = 4  # a document is at least its title, 文号 or 主送 line and some text


def _is_title_line(para: str) -> bool:
    return len(para) <= _TITLE_LINE_MAX and not re.search(r"[。；：:]", para)


def _is_addressee(para: str) -> bool:
    return para.endswith(("：", ":")) and len(para) > 6 and "。" not in para


def _is_dated(para: str) -> bool:
    """A 落款 date (成文日期), alone or after the issuer, or `2007年3月20日印发`."""
    compact = re.sub(r"\s+", "", para)
    if is_date_line(compact):
        return True  # also 二〇〇九年一月十九日
    found = DATE_IN_TEXT.search(compact)
    return bool(found) and len(compact) <= 40 and not re.search(r"[。；，]", compact)


def _title_block(paragraphs: list[str], start: int) -> bool:
    """Lines start.. form a title that a 文号 line or (关于… titles) a 主送 line follows."""
    for length in range(1, _TITLE_BLOCK_MAX + 1):
        block = paragraphs[start:start + length]
        if len(block) < length or not _is_title_line(block[-1]):
            return False
        after = paragraphs[start + length] if start + length < len(paragraphs) else ""
        title = re.sub(r"\s+", "", "".join(block))
        if normalise_doc_number(after) and TITLE_TAIL.search(title):
            return True
        if _is_addressee(after) and _ABOUT_TITLE.search(title):
            return True
        if normalise_doc_number(block[-1]):
            return False
    return False


_NOTICE_TITLE = re.compile(r"^\S{0,20}关于.+(?:通知|决定|批复|复函)$")


def _notice_over_text(paragraphs: list[str], index: int, current: list[str]) -> bool:
    """A 关于…的通知 line alone, then its text (a scraped notice that lost 文号 and 主送), which
    the document before neither issues nor forwards (《title》 or 印发/转发 title)."""
    title = re.sub(r"\s+", "", paragraphs[index])
    after = paragraphs[index + 1] if index + 1 < len(paragraphs) else ""
    if not (_is_title_line(title) and _NOTICE_TITLE.match(title)):
        return False
    if len(after) <= _TITLE_LINE_MAX or "。" not in after:
        return False
    before = re.sub(r"\s+", "", "".join(current))
    return f"《{title}》" not in before and title not in before


def document_starts(paragraphs: list[str]) -> list[int]:
    """Indices where each document of the file begins ([0] for a file of one document)."""
    starts = [0]
    dated = False
    for index in range(len(paragraphs)):
        new = _title_block(paragraphs, index) or _notice_over_text(
            paragraphs, index, paragraphs[starts[-1]:index])
        if index - starts[-1] >= _MIN_LENGTH and dated and new:
            letterhead = index - 1 if is_org_line(paragraphs[index - 1]) else index
            if letterhead > starts[-1]:
                starts.append(letterhead)
                dated = False
                continue
        dated = dated or _is_dated(paragraphs[index])
    return starts

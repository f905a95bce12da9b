"""Document metadata: 文号, title, issuer, dates, status and region.

Only what the document itself states is taken; anything absent stays None. A 文号 the
document merely cites (inside a sentence or brackets) or an ICP number is never taken
as its own: the own number stands on a line of its own in the header or the metadata box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from assistant.ingest.clean import METADATA_KEY, normalise_line
from assistant.lexicon import (
    DOC_NUMBER_IN_TEXT,
    ORG_SUFFIX,
    find_doc_numbers,
    is_date_line,
    is_org_line,
    normalise_doc_number,
    parse_date,
    region_of,
)
from assistant.models import DocStatus

# Old import paths of the recognisers now in assistant.lexicon.
__all__ = ["DOC_NUMBER_IN_TEXT", "ORG_SUFFIX", "find_doc_numbers", "is_date_line", "is_org_line",
           "normalise_doc_number", "parse_date", "region_of"]

TITLE_END = r"(?:通知|意见|方案|办法|规定|要点|决定|报告|函|批复|细则|规划|计划|纲要|公告|通报|指南|规则|条例|措施|清单|答复|复函)"
_TITLE = re.compile(rf"^(?P<org>\S*?)\s*(?P<title>关于.+?{TITLE_END})\s*(?P<draft>[（(]?(征求意见稿|草案|送审稿|试行)[）)]?)?$")
_DRAFT = re.compile(r"征求意见稿|草案|送审稿|意见征集")


@dataclass
class Metadata:
    number: str | None = None
    title: str | None = None
    issuer: str | None = None
    signed: date | None = None
    published: date | None = None
    status: DocStatus | None = None
    region: str | None = None
    warnings: list[str] = field(default_factory=list)


def metadata_box(text: str) -> dict[str, str]:
    """Key/value pairs from the page's metadata box (成文日期:…, 文号:…, 有效性:…)."""
    box: dict[str, str] = {}
    for line in text.splitlines():
        line = normalise_line(line)
        if METADATA_KEY.match(line):
            key, _, value = re.split(r"([:：])", line, maxsplit=1)
            box[re.sub(r"\s+", "", key)] = value.strip()
    for found in re.finditer(r"发布(?:时间|日期)\s*[:：]\s*(\d{4}[-./年]\d{1,2}[-./月]\d{1,2})", text):
        box.setdefault("发布日期", found.group(1))
    for found in re.finditer(r"来源\s*[:：]\s*([\u4e00-\u9fff]{2,30}?)(?=\s|$|发布)", text):
        box.setdefault("来源", found.group(1))
    return box


def find_title(header: list[str]) -> tuple[str | None, str | None, bool]:
    """(title, issuer named in the title line, draft?) from the header lines.

    A red-head title may wrap over several lines; a title that starts with 关于 on a line of
    its own is preferred over one prefixed by the issuer.
    """
    candidates = []
    for start in range(len(header)):
        for length in range(1, 5):
            joined = "".join(header[start : start + length])
            found = _TITLE.match(joined)
            if found:
                candidates.append(found)
                break
    if not candidates:
        return None, None, False
    best = min(candidates, key=lambda m: bool(m["org"]))
    org = best["org"].strip() or None
    title = best["title"] if not org or " " in best.group(0) else f"{org}{best['title']}"
    draft = any(bool(m["draft"]) and "试行" not in m["draft"] for m in candidates)
    return title, org, draft


def status_of(box: dict[str, str], header: list[str], draft: bool) -> DocStatus | None:
    validity = box.get("有效性", "")
    if "失效" in validity or "废止" in validity or box.get("废止日期") or box.get("失效日期"):
        return DocStatus.REPEALED
    if draft or any(_DRAFT.search(line) for line in header):
        return DocStatus.DRAFT
    if "有效" in validity:
        return DocStatus.IN_FORCE
    return None


def own_number(box: dict[str, str], header: list[str]) -> tuple[str | None, bool]:
    """(文号, repaired?) from the metadata box or a header line standing alone."""
    for raw in [box.get("文号", "")] + header:
        number = normalise_doc_number(raw)
        if number:
            compact = re.sub(r"\s+", "", raw)
            return number, compact != number
    return None, False

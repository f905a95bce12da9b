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
from assistant.labels import cn_to_int
from assistant.models import DocStatus

_OPEN = "〔［\\[【（(｛{"
_CLOSE = "〕］\\]】）)｝}"
_DOC_NUMBER = re.compile(
    rf"^(?P<org>[\u4e00-\u9fff]{{1,12}}?)\s*[{_OPEN}]?\s*(?P<year>(?:19|20)\d{{2}})\s*[{_CLOSE}]?"
    rf"\s*第?\s*(?P<seq>\d{{1,4}})\s*号?$"
)
# A 文号 somewhere inside a longer text (for questions and answers).
DOC_NUMBER_IN_TEXT = re.compile(
    rf"[\u4e00-\u9fff]{{2,10}}?[{_OPEN}]\s*(?:19|20)\d{{2}}\s*[{_CLOSE}]\s*\d{{1,4}}\s*号"
)
_NOT_OWN_NUMBER = re.compile(r"ICP|备案|公网安备|索引号")

TITLE_END = r"(?:通知|意见|方案|办法|规定|要点|决定|报告|函|批复|细则|规划|计划|纲要|公告|通报|指南|规则|条例|措施|清单|答复|复函)"
_TITLE = re.compile(rf"^(?P<org>\S*?)\s*(?P<title>关于.+?{TITLE_END})\s*(?P<draft>[（(]?(征求意见稿|草案|送审稿|试行)[）)]?)?$")
_DRAFT = re.compile(r"征求意见稿|草案|送审稿|意见征集")
ORG_SUFFIX = re.compile(
    r"(人民政府|办公厅|办公室|委员会|政府|卫生健康委|卫健委|局|厅|委|部|中心|小组|办)$"
)
_REGION = re.compile(
    r"^((?:[\u4e00-\u9fff]{1,7}?(?:省|自治区|特别行政区|自治州|地区|自治县|市(?![区县])|州(?![区县市])|盟|县|区|旗))+)"
)
_ISO_DATE = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?")
_CN_DATE = re.compile(r"^([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日$")
_COMPACT_DATE = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})$")


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


def normalise_doc_number(text: str) -> str | None:
    """A 文号 in any bracket style, or broken by a scraper → 川办函〔2021〕56号; None if not one.

    >>> normalise_doc_number("开州府办发〔2020109")
    '开州府办发〔2020〕109号'
    """
    text = re.sub(r"\s+", "", text or "")
    if not text or _NOT_OWN_NUMBER.search(text):
        return None
    found = _DOC_NUMBER.match(text)
    if not found:
        return None
    return f"{found['org']}〔{found['year']}〕{int(found['seq'])}号"


# Words that run into an issuer abbreviation in free text: 根据川办函〔2021〕56号.
_LEADING_WORDS = re.compile(r"^(?:按照|根据|依据|参照|对照|关于|以及|[与和及或并即是为在将把对的据见如])+")


def find_doc_numbers(text: str) -> list[str]:
    """Every well-formed 文号 written in a text (a question, an answer), normalised."""
    found = []
    for match in DOC_NUMBER_IN_TEXT.finditer(text):
        number = normalise_doc_number(_LEADING_WORDS.sub("", match.group(0)))
        if number and number not in found:
            found.append(number)
    return found


def parse_date(text: str) -> date | None:
    """2021-08-11, 2021年8月11日, 二〇二一年八月十一日, 20201027 → date; None otherwise."""
    text = re.sub(r"\s+", "", text or "")
    for pattern in (_ISO_DATE, _COMPACT_DATE):
        found = pattern.search(text) if pattern is _ISO_DATE else pattern.match(text)
        if found:
            return _safe_date(*(int(g) for g in found.groups()))
    found = _CN_DATE.match(text)
    if found:
        year = int("".join(str("〇一二三四五六七八九".index(c)) if c != "零" else "0" for c in found[1]))
        return _safe_date(year, cn_to_int(found[2]), cn_to_int(found[3]))
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def is_date_line(line: str) -> bool:
    line = line.strip()
    return bool(
        re.fullmatch(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日", line)
        or _CN_DATE.match(line)
        or _COMPACT_DATE.match(line)
        or re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", line)
    )


def is_org_line(line: str) -> bool:
    """A short line naming an issuing body (红头 or signature): 四川省人民政府办公厅."""
    return 2 < len(line) <= 30 and not re.search(r"[。，,：:；;！？]", line) and bool(ORG_SUFFIX.search(line))


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


def region_of(issuer: str | None) -> str | None:
    found = _REGION.match(issuer or "")
    return found.group(1) if found else None


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

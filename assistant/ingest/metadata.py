"""Document metadata: 文号, title, issuer, dates, status and region.

Only what the document itself states is taken; anything absent stays None. A 文号 the
document merely cites (inside a sentence or brackets) or an ICP number is never taken
as its own: the own number stands on a line of its own in the header or the metadata box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from itertools import pairwise

from assistant.ingest.clean import METADATA_KEY, front_matter, normalise_line
from assistant.lexicon import (
    DATE_IN_TEXT,
    DATE_SPAN,
    DOC_NUMBER_IN_TEXT,
    ORG_SUFFIX,
    TITLE_END,
    TITLE_TAIL,
    find_doc_numbers,
    half_width_digits,
    is_date_line,
    is_org_line,
    normalise_doc_number,
    parse_date,
    region_of,
    safe_date,
)
from assistant.models import DocStatus

# Old import paths of the recognisers now in assistant.lexicon.
__all__ = ["DOC_NUMBER_IN_TEXT", "ORG_SUFFIX", "TITLE_END", "find_doc_numbers", "is_date_line",
           "is_org_line", "normalise_doc_number", "parse_date", "region_of"]

_TITLE = re.compile(rf"^(?P<org>.*?)(?P<gap>\s*)(?P<title>关于.+?{TITLE_END})\s*"
                    rf"(?P<draft>[（(]?(征求意见稿|草案|送审稿|试行|暂行)[）)]?)?"
                    r"(?:[（(](?:19|20)\d{2}[）)])?$")  # a collector's year: …的通知（2007）
_DRAFT = re.compile(r"征求意见稿|草案|送审稿|意见征集")
_TRIAL = re.compile(r"试行|暂行")
_REPEALED = re.compile(r"[（(【\[]?\s*(已失效|已废止|失效|废止)\s*[）)】\]]?$")
_ATTACHMENT_ONLY = re.compile(r"^附\s*件\s*\d*\s*[:：]?$")
_TITLE_WORD = re.compile(
    rf"(?:{TITLE_END[3:-1]}|行动|法|清单|制度|标准|守则|章程|指引|规范|规程|要点)$"
)
# A title set over two lines whose first line happens to end like a body's name
# (…流调指挥分中心 / 规范化、标准化建设指引): a line this long is a wrapped title, not a letterhead.
_WRAPPED_TITLE_LINE = 15
_ISSUANCE = re.compile(
    r"^(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(?P<body>.*?)"
    r"(?:第[一二三四五六七八九十]次)?(?P<act>通过|公布|发布|批准|修订|修正|施行)")
_EVENT = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(?P<body>[^年]*?)"
    r"(?:第[一二三四五六七八九十]次)?(?P<act>通过|公布|发布|批准|修订|修正|施行)")
_IN_FORCE_ON_ISSUE = re.compile(r"^[（(]?自?(公布|发布|印发)之日起?施行[）)]?$")
_EFFECTIVE = re.compile(rf"自\s*({DATE_SPAN})\s*起施行")
_STAMP = re.compile(
    r"((?:19|20)\d{2}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}\s*日?)\s*\d{1,2}[:：]\d{2}"
)


@dataclass
class Metadata:
    number: str | None = None
    title: str | None = None
    issuer: str | None = None
    signed: date | None = None
    published: date | None = None
    effective: date | None = None
    history: list[str] = field(default_factory=list)
    status: DocStatus | None = None
    region: str | None = None
    warnings: list[str] = field(default_factory=list)


_MARKDOWN_TITLE = re.compile(r"^\s*#\s+(.+?)\s*$")


_PROMULGATED = re.compile(
    r"^《(?P<title>[^》]{2,60})》已?经.{0,80}?(?:通过|批准|审议|修订).{0,40}?现予(?:公布|发布)"
)


def promulgated_title(paragraphs: list[str]) -> str | None:
    """An order (令) that promulgates a text names it:
    《医疗保障基金使用监督管理条例》已经…现予公布."""
    for para in paragraphs[:8]:
        found = _PROMULGATED.match(para)
        if found:
            return found["title"]
    return None


_ISSUES_TEXT = re.compile(r"^(?P<org>[^《》]{2,30}?)印发《(?P<title>[^《》]{2,60})》$")


def issued_text_title(header: list[str]) -> tuple[str, str] | None:
    """A published text headed by its issuance, as central documents are released:
    `中共中央 国务院印发《“健康中国2030”规划纲要》` (over one or two lines) → (title, issuer)."""
    for start in range(len(header)):
        for length in (1, 2):
            found = _ISSUES_TEXT.match("".join(header[start:start + length]))
            if found:
                return found["title"], found["org"].strip()
    return None


def markdown_title(raw: str) -> str | None:
    """The `# 标题` a Markdown file opens with (first non-blank line only), or the title of
    its front matter (`title: '…'`)."""
    if front_matter(raw).get("title"):
        return normalise_line(front_matter(raw)["title"])
    first = next((line for line in raw.splitlines() if line.strip()), "")
    found = _MARKDOWN_TITLE.match(first)
    return normalise_line(found.group(1)) if found else None


def metadata_box(text: str) -> dict[str, str]:
    """Key/value pairs from the page's metadata box (成文日期:…, 文号:…, 有效性:…)."""
    box: dict[str, str] = {}
    for line in text.splitlines():
        line = normalise_line(line)
        if METADATA_KEY.match(line):
            key, _, value = re.split(r"([:：])", line, maxsplit=1)
            box[re.sub(r"\s+", "", key)] = value.strip()
    for found in re.finditer(
        r"发布(?:时间|日期)\s*[:：]\s*(\d{4}[-./年]\d{1,2}[-./月]\d{1,2})", text
    ):
        box.setdefault("发布日期", found.group(1))
    for found in re.finditer(r"来源\s*[:：]\s*([\u4e00-\u9fff]{2,30}?)(?=\s|$|发布)", text):
        box.setdefault("来源", found.group(1))
    return box


def find_title(header: list[str], hint: str | None = None) -> tuple[str | None, str | None, bool]:
    """(title, issuer named in the title line, draft?) from the header lines.

    A red-head title may wrap over several lines; a title that starts with 关于 on a line of
    its own is preferred over one prefixed by the issuer. Windows never span a 文号 or date
    line (red-header layout: issuer, 文号, title). Without a 关于 title, the first plain
    header line is the title (laws, plans, attachments, news), see `plain_title`.
    """
    candidates = []
    titled_issuers = set()  # starts of 发文机关 lines set as the title's first line
    for start in range(len(header)):
        for length in range(1, 5):
            window = header[start : start + length]
            if any(_not_title_text(line) for line in window):
                break
            found = _TITLE.match("".join(window))
            if found:
                candidates.append(found)
                if _issuers_above_title(header, start, found["org"]):
                    titled_issuers.add(id(found))
                break
    if not candidates:
        title = title_above_number(header) or (
            normalise_line(hint) if hint else plain_title(header)
        )
        return title, None, any(_DRAFT.search(line) for line in header[:3])
    # Issuer-prefixed titles: a whole issuer name (not a wrapped tail like 局 or 人民政府办公室,
    # the end of a longer name found from an earlier line) wins.
    orgs = [m["org"].strip() for m in candidates if is_org_line(m["org"].strip())]
    candidates = [m for m in candidates if not _wrapped_tail(m["org"].strip(), orgs)]
    best = min(candidates, key=lambda m: (bool(m["org"].strip()) and id(m) not in titled_issuers,
                                          not is_org_line(m["org"]), len(m["org"])))
    org = best["org"].strip() or None
    # PDF text keeps line-wrap spaces inside a title (…名录》中 增加…); a title has none.
    title = re.sub(r"\s+", "", best["title"])
    title = title if not org or best["gap"] else f"{best['org']}{title}"
    draft = any(bool(m["draft"]) and not _TRIAL.search(m["draft"]) for m in candidates)
    return title, org, draft


def _issuers_above_title(header: list[str], start: int, org: str) -> bool:
    """中共某市委办公室 某市人民政府办公室 / 关于…的通知 below the 文号: the issuers' names on a
    line of their own open the title (GB/T 9704: 发文机关 + 关于 + 事由 + 文种). Above the 文号
    they are the letterhead, not the title."""
    names = org.split()
    return (len(names) > 1 and header[start].strip() == org.strip()
            and all(is_org_line(name) for name in names)
            and any(normalise_doc_number(line) for line in header[:start]))


def title_above_number(header: list[str]) -> str | None:
    """The standard national layout: the title (one to three lines) right above its 文号 line,
    `（医保办发〔2024〕19 号）`; also when the scraped title lost its 关于 or first line."""
    at = next((i for i, line in enumerate(header) if normalise_doc_number(line)), None)
    if not at:
        return None
    lines: list[str] = []
    for line in reversed(header[max(0, at - 3):at]):
        if _not_title_text(line) or is_org_line(line) or re.search(r"[。；：:]", line):
            break
        lines.insert(0, line)
    title = re.sub(r"\s+", "", "".join(lines))
    return title if TITLE_TAIL.search(title) else None


_PAGE_TITLE = re.compile(rf"[（(][^（()）]*{DOC_NUMBER_IN_TEXT.pattern}[）)]$")


def _wrapped_tail(org: str, orgs: list[str]) -> bool:
    """人民政府办公室, 办公室: the end of an issuer name wrapped from the line above (a longer
    candidate ends with it), not a name of its own (those start with a place or 国/中)."""
    if not org or region_of(org) or org.startswith(("国", "中")):
        return False
    return any(o != org and o.endswith(org) for o in orgs)


def _not_title_text(line: str) -> bool:
    """A 文号, a date or a bare 附件N line: never part of a title; nor a site's page title
    that repeats the 文号 in brackets: 关于印发《…》的通知(发改价格规〔2020〕100号)."""
    return (normalise_doc_number(line) is not None or is_date_line(line)
            or bool(_PAGE_TITLE.search(line))
            or bool(_ATTACHMENT_ONLY.match(line)) or bool(DATE_IN_TEXT.search(line)))


def plain_title(header: list[str]) -> str | None:
    """The first header line that is not a 文号, date, 附件N or issuer line; a short second
    line is joined when only the two together end like a title (…产业 / 发展行动), and a long
    first line that only looks like a body's name is joined to the title line under it."""
    wrapped = wrapped_title(header)
    if wrapped:
        return wrapped
    lines = [line for line in header if not _not_title_text(line) and not _is_meta_line(line)]
    if not lines:
        return None
    title = lines[0]
    if (len(lines) > 1 and not _TITLE_WORD.search(title) and len(lines[1]) <= 12
            and _TITLE_WORD.search(lines[1])):
        title += lines[1]
    return title


def wrapped_title(header: list[str]) -> str | None:
    """…流调指挥分中心 / 规范化、标准化建设指引: the first two header lines, the first long and
    ending like a body's name, the second ending like a title, no 文号 in the header."""
    if len(header) < 2 or any(normalise_doc_number(line) for line in header):
        return None
    first, second = header[0], header[1]
    if (is_org_line(first) and len(first) >= _WRAPPED_TITLE_LINE and not _TITLE_WORD.search(first)
            and _TITLE_WORD.search(second) and not is_org_line(second)
            and not _not_title_text(second) and not re.search(r"[。；：:，]", second)):
        return first + second
    return None


def _is_meta_line(line: str) -> bool:
    return bool(_ISSUANCE.match(line)) or is_org_line(line) and not _TITLE_WORD.search(line)


@dataclass
class Issuance:
    """What a law's issuance lines state; `history` lists every event, oldest first."""

    issuer: str | None = None
    published: date | None = None
    effective: date | None = None
    history: list[str] = field(default_factory=list)  # "2019-08-26 修订"


def issuance(header: list[str]) -> Issuance:
    """The issuer, 公布 date, 施行 date and history from a law's issuance lines.

    （2019年3月2日中华人民共和国国务院令第709号公布　自公布之日起施行）, 1994年2月26日
    国务院令第149号 发布, 2019年8月26日 第十三届全国人民代表大会常务委员会第十二次会议第二次修订, or
    one bracketed paragraph with several events (…通过　根据…第一次修正): the latest event dates
    the text in hand.
    """
    found = Issuance()
    for line in header:
        text = re.sub(r"^[（(]|[）)]$", "", half_width_digits(line.strip()))
        if not _ISSUANCE.match(text) and not text.startswith("根据"):
            continue
        for event in _EVENT.finditer(text):
            _add_event(found, event, text)
    if found.effective is None and any(_IN_FORCE_ON_ISSUE.match(line) for line in header):
        found.effective = found.published  # 发布之日施行 on a line of its own
    return found


def _add_event(found: Issuance, event: re.Match[str], line: str) -> None:
    when = safe_date(int(event["y"]), int(event["m"]), int(event["d"]))
    if when is None:
        return
    found.history.append(f"{when.isoformat()} {event['act']}")
    if event["act"] == "施行":
        found.effective = when
        return
    if found.published is None or when >= found.published:
        found.published, found.issuer = when, _issuing_body(event["body"]) or found.issuer
    if re.search(
        r"自(公布|发布)之日起施行|(公布|发布)之日施行", line[event.end() : event.end() + 12]
    ):
        found.effective = when
    later = _EFFECTIVE.search(line, event.end())
    if later:
        found.effective = parse_date(later.group(1))


def _issuing_body(text: str) -> str | None:
    """第十三届全国人民代表大会常务委员会第十五次会议 → 全国人民代表大会常务委员会; joint
    issuers (国家教育委员会令第10号、卫生部令第1号, 中共中央、国务院) are named with a space."""
    bodies = [_one_body(piece) for piece in re.split(r"[、，]", text)]
    return " ".join(b for b in bodies if b) or None


def _one_body(text: str) -> str | None:
    if re.search(r"主席令", text):
        return None  # the President promulgates; the body that passed the law is the issuer
    text = re.sub(r"《[^》]*》", "", text)
    text = re.sub(r"第[一二三四五六七八九十百\d]+次会议.*$", "", text)
    text = re.sub(r"第[一二三四五六七八九十百\d]+届", "", text)
    text = re.sub(r"令\s*第\s*[\d一二三四五六七八九十百]+\s*号.*$", "", text)
    text = re.sub(r"^中华人民共和国(?=国务院)", "", text).strip()
    return text.strip() or None


_ISSUED_ON = re.compile(rf"^({DATE_SPAN})\s*(?:印发|发布|公布)$")


def issued_on(paragraphs: list[str]) -> date | None:
    """A text without its notice may end with its issue date alone: `2007年3月20日印发`. (The
    版记's `某某办公室 2025年7月29日印发` names the printing office and is not this.)"""
    for para in paragraphs[-3:]:
        found = _ISSUED_ON.match(para.strip())
        if found:
            return parse_date(found.group(1))
    return None


def front_matter_date(raw: str) -> date | None:
    """`date: Tue, 21 Dec 2021 10:03:15 GMT` or `date: 2021-12-21` in a post's front matter."""
    value = front_matter(raw).get("date", "")
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return parse_date(value)


def published_stamp(header: list[str]) -> date | None:
    """A web page's or news item's timestamp line: 2024-12-06 17:27:07 来源：…"""
    for line in header:
        found = _STAMP.search(line)
        if found:
            return parse_date(found.group(1))
    return None


def status_of(box: dict[str, str], header: list[str], draft: bool,
              title: str | None = None) -> DocStatus | None:
    """As the document states it: 失效/废止, drafts (征求意见稿, 草案), 试行/暂行, 有效."""
    validity = box.get("有效性", "")
    if "失效" in validity or "废止" in validity or box.get("废止日期") or box.get("失效日期"):
        return DocStatus.REPEALED
    if any(_REPEALED.search(line) for line in header[:4]):
        return DocStatus.REPEALED
    if draft or any(_DRAFT.search(line) for line in header):
        return DocStatus.DRAFT
    if _TRIAL.search(title or "") or any(
        re.search(r"[（(](试行|暂行)[）)]$", line) for line in header
    ):
        return DocStatus.TRIAL
    if "有效" in validity:
        return DocStatus.IN_FORCE
    return None


def own_number(box: dict[str, str], header: list[str]) -> tuple[str | None, bool]:
    """(文号, repaired?) from the metadata box or a header line standing alone."""
    # 中华人民共和国国务院令 / 第709号: an order's number printed over two lines.
    pairs = [a + b for a, b in pairwise(header) if a.endswith("令")]
    for raw in [box.get("文号", "")] + header + pairs:
        number = normalise_doc_number(raw)
        if number:
            compact = re.sub(r"\s+", "", raw)
            return number, compact != number
    return None, False

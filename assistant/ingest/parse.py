"""Clause tree: cleaned paragraphs → header, parts (main text and attachments) and clauses.

A part ends at a signature block (issuing body + date); what follows is an attachment
whose numbering restarts, kept apart by a leading "附件" in the clause path. Within a
part: paragraphs before the first marker form the preamble, numbered paragraphs open
clauses (legal 第X编 → 第X章 → 第X节 → 第X条 → 项（一） → 目 1.; notices 一、 → （一） →
1. → （1） → ①), unnumbered paragraphs continue the clause before them (an article's 款),
and trailing closing paragraphs of a notice (各地各部门要…) form the closing unit. A part
with no numbering the parser knows is split into paragraphs (第1段, 第2段 …), never left as
one giant clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.ingest.metadata import TITLE_END, is_date_line, is_org_line, normalise_doc_number
from assistant.lexicon import (
    ARTICLE_RANK,
    DATE_IN_TEXT,
    Marker,
    cn_to_int,
    int_to_cn,
    is_article_label,
    make_label,
    match_marker,
    run_in_signature,
    signature_line,
)
from assistant.models import (
    ATTACHMENT_LABEL,
    CLOSING_LABEL,
    PREAMBLE_LABEL,
    Clause,
    ClauseKind,
    stable_id,
)

_CLOSING_START = re.compile(
    r"^(各地|各县|各市|各区|各州|各级|各有关|各部门|各单位|各镇|各乡|各相关|请各|请结合|请大家|请广大|"
    r"本(通知|方案|意见|办法|规定|细则|要点|计划)|以上|特此|此件|联系人|附\s*件\s*[:：])"
)
# After the signature: distribution lines and stamps, part of no clause.
_TAIL_LINE = re.compile(
    r"^(抄送|抄报|印发|主送|分送|发送)\s*[:：]|^[（(]此件|^[（(][^（()）:：]{0,12}联系人"
)
_ATTACHMENT_HEAD = re.compile(r"^附\s*件\s*(\d*)\s*[:：]?\s*")
# 附件：1.… / 2.…: the closing list of attachments, whose numbers are not clauses.
_ATTACHMENT_LIST = re.compile(r"^附\s*件\s*[:：]")
_LIST_ITEM_MAX = 60
# An unnumbered part is split into paragraph units when the whole document has no numbering
# (at least this many paragraphs), or when the part alone is this long.
_PARAGRAPH_UNITS_MIN = 2
_GIANT_CLAUSE_CHARS = 1500
PARAGRAPH_UNIT = "第{}段"
PARAGRAPH_UNIT_LABEL = re.compile(PARAGRAPH_UNIT.format(r"\d+"))  # no numbering: 第3段
_PARAGRAPH_RANK = 1  # a 款 made addressable: below its article, above its 项
_ATTACHMENT_ONLY = re.compile(r"^附\s*件\s*\d*\s*[:：]?$")
_BARE_ATTACHMENT_BOX = re.compile(r"^附\s*件\s*[:：]$")
_TITLE_LINE_MAX = 60
_NUMBERED_ATTACHMENT_HEAD = re.compile(r"^附\s*件\s*\d+\s*[:：]?$")
_DATELINE_MAX = 6  # 闪电新闻, +关注: a source or widget line under a news title
_HEADING_MAX = 40
_LETTERHEAD_WITHIN = 40
_ARABIC_RANK = 3  # 1. 2. 3.
# A table's header row (单位名称 联系人 联系电话): three or more short cells, none a single
# letter (a letter-spaced title has one-character cells), no quoted title (a link to a 解读
# split at a space). It opens the attachment's text.
_TABLE_ROW = re.compile(r"^[^\s《》]{2,12}(?:[ \t\u3000]+[^\s《》]{2,12}){2,}$")
_ATTACHMENT_TITLE_LINES = 3  # more short lines after a 落款 are a table, not a title
# An unnumbered notice's 主送 line stands in its first 8 paragraphs: about its first page.
_ADDRESSEE_WITHIN = 8
_TITLE_IN_RUN = re.compile(rf"关于.+{TITLE_END}$")
_TITLE_CONTINUED = re.compile(rf"》?的?{TITLE_END}$")


@dataclass
class Part:
    """A run of body paragraphs numbered on their own: the main text or one attachment."""

    prefix: list[str]  # [] for the main text, ["附件"] for an attachment
    title: str | None
    paragraphs: list[int]  # indices into the document's paragraphs
    rule: bool = False  # the rule an 印发 notice issues: its clauses are cited as its own


@dataclass
class Layout:
    header: list[int]
    parts: list[Part]
    signatures: list[tuple[int, int]] = field(default_factory=list)  # (org index, date index)
    tail: list[int] = field(default_factory=list)  # 抄送/印发 lines after a signature
    rule_title: str | None = None  # the title of the part that is the issued rule


def _is_body_start(para: str) -> bool:
    if match_marker(para):
        return True
    if para.endswith(("：", ":")) and len(para) > 6:
        return True  # the addressee line: 各市（州）人民政府，…：
    return len(para) > 40 and bool(re.search(r"[。，；]", para))


def _unnumbered_body_start(paragraphs: list[str]) -> int:
    """No numbering anywhere (news, a table, a letter): the body follows the title line and
    the dateline / source / widget lines under it."""
    addressee = next((i for i, p in enumerate(paragraphs[:_ADDRESSEE_WITHIN])
                      if p.endswith(("：", ":")) and len(p) > 6 and "。" not in p), None)
    if addressee is not None:
        return addressee + 1  # a notice: title, 文号 and 主送 are its header, not clauses
    index = 0
    while index < len(paragraphs) and _ATTACHMENT_ONLY.match(paragraphs[index]):
        index += 1
    index += 1  # the title
    while index < len(paragraphs) and _continues_title(paragraphs[index]):
        index += 1  # 卫生部关于印发 / 《…》的通知 / （卫医发〔2005〕438 号）
    while index < len(paragraphs) and _is_dateline(paragraphs[index]):
        index += 1
    return min(index, len(paragraphs))


def _continues_title(para: str) -> bool:
    """A title's second line (ends like a title) or the 文号 line under it."""
    if normalise_doc_number(para):
        return True
    return len(para) <= _HEADING_MAX and bool(_TITLE_CONTINUED.search(para)) and not re.search(
        r"[。；：:，]", para)


def _is_dateline(para: str) -> bool:
    if DATE_IN_TEXT.search(para) or re.search(r"\d{4}-\d{1,2}-\d{1,2}", para):
        return len(para) <= 60 and not re.search("[。；]", para)
    return len(para) <= _DATELINE_MAX and not re.search(r"[。，；！？!?,]", para)


def _is_title_line(para: str) -> bool:
    return len(para) <= 40 and not re.search(r"[。；：]", para) and not match_marker(para)


_RUN_IN_HEADING = re.compile(r"。[ 　]+(?=([一二三四五六七八九十]{1,3})、)")


def split_run_in_headings(paragraphs: list[str]) -> list[str]:
    """`…注明“门诊”。 六、《…》填写原则：`: a scraper ran the next top-level heading into the end
    of a paragraph (a space after 。 shows the lost line break). Split it off when it is the
    next number of the top-level sequence (五、 was the last)."""
    result: list[str] = []
    last = 0
    for para in paragraphs:
        marker = match_marker(para)
        if marker and marker.rank == 1:
            last = marker.number
        found = _RUN_IN_HEADING.search(para)
        if found and last and cn_to_int(found.group(1)) == last + 1:
            result += [para[:found.start() + 1], para[found.end():]]
            last += 1
            continue
        result.append(para)
    return result


def split_layout(paragraphs: list[str]) -> Layout:
    """Find the header, the signature blocks and the parts they separate."""
    if any(match_marker(p) for p in paragraphs):
        body_start = next((i for i, p in enumerate(paragraphs) if _is_body_start(p)),
                          len(paragraphs))
    else:
        body_start = _unnumbered_body_start(paragraphs)
    layout = Layout(header=list(range(body_start)), parts=[])
    current = Part(prefix=[], title=None, paragraphs=[])
    index = body_start
    while index < len(paragraphs):
        signature = _signature_at(paragraphs, index, current)
        if signature:
            layout.signatures.append(signature)
            layout.parts.append(current)
            index = signature[1] + 1
            while index < len(paragraphs) and (_TAIL_LINE.match(paragraphs[index])
                                               or _empty_attachment_box(paragraphs, index)):
                layout.tail.append(index)
                index += 1
            current, index = _start_attachment(paragraphs, index)
            continue
        if current.prefix and _NUMBERED_ATTACHMENT_HEAD.match(paragraphs[index]):
            layout.parts.append(current)  # 附件2 after 附件1: the next attachment
            current, index = _start_attachment(paragraphs, index)
            continue
        current.paragraphs.append(index)
        index += 1
    layout.parts.append(current)
    layout.parts = [p for p in layout.parts if p.paragraphs or p.title]
    _lift_letterhead(paragraphs, layout)
    _mark_issued_rule(paragraphs, layout)
    return layout


def _mark_issued_rule(paragraphs: list[str], layout: Layout) -> None:
    """关于印发《医师定期考核管理办法》的通知 + the 办法: the first attachment is the issued rule
    when the notice names it (印发/下发/发布 X, or 《X》) and it is written in articles (第X条).
    Its clauses lose the 附件 prefix: a reader cites 《医师定期考核管理办法》第十四条. Texts in
    other numbering (要点, 分工 with 一、（一）) and tables keep 附件."""
    attachments = [p for p in layout.parts if p.prefix]
    if not attachments or not attachments[0].title or layout.parts[0].prefix:
        return
    part, title = attachments[0], re.sub(r"\s+", "", attachments[0].title)
    notice = re.sub(
        r"\s+", "", "".join(paragraphs[i] for i in layout.header + layout.parts[0].paragraphs)
    )
    named = f"《{title}》" in notice or re.search(rf"(?:印发|下发|发布){re.escape(title)}", notice)
    articles = any(
        (m := match_marker(paragraphs[i])) and m.rank == ARTICLE_RANK for i in part.paragraphs
    )
    if named and articles:
        part.prefix, part.rule, layout.rule_title = [], True, title


def _lift_letterhead(paragraphs: list[str], layout: Layout) -> None:
    """PDF extraction (WPS) may print the first page's body above the letterhead: a run of
    short issuer/文号/title lines ending in a 关于… title, within the first page or so, moves to
    the header. Before the first numbered clause any such run counts; after it, the run must
    start at a 文号 or issuer line (a letterhead, not wrapped text)."""
    if not layout.parts or layout.parts[0].prefix or _has_title(layout.header, paragraphs):
        return
    main = layout.parts[0]
    first_marker = _first_marker(main, paragraphs)
    run: list[int] = []
    for position, index in enumerate(main.paragraphs[:_LETTERHEAD_WITHIN]):
        if not _is_letterhead_line(paragraphs[index]) or match_marker(paragraphs[index]):
            run = []
            continue
        run.append(index)
        if not _TITLE_IN_RUN.search("".join(paragraphs[i] for i in run)):
            continue
        lifted = run if position <= first_marker else _from_letterhead_start(run, paragraphs)
        if lifted:
            layout.header = sorted(layout.header + lifted)
            main.paragraphs = [i for i in main.paragraphs if i not in lifted]
        return


def _from_letterhead_start(run: list[int], paragraphs: list[str]) -> list[int]:
    start = next((n for n, i in enumerate(run) if normalise_doc_number(paragraphs[i])), None)
    if start is None:
        start = next((n for n, i in enumerate(run) if is_org_line(paragraphs[i])), None)
    return run[start:] if start is not None else []


def _has_title(header: list[int], paragraphs: list[str]) -> bool:
    return bool(_TITLE_IN_RUN.search("".join(paragraphs[i] for i in header)))


def _first_marker(part: Part, paragraphs: list[str]) -> int:
    return next((n for n, i in enumerate(part.paragraphs) if match_marker(paragraphs[i])),
                len(part.paragraphs))


def _is_letterhead_line(para: str) -> bool:
    return len(para) <= _HEADING_MAX and not re.search(r"[。；，：:]", para)


def _is_signature(paragraphs: list[str], index: int) -> bool:
    return (
        index + 1 < len(paragraphs)
        and is_org_line(paragraphs[index])
        and is_date_line(paragraphs[index + 1])
    )


def _signature_at(paragraphs: list[str], index: int, current: Part) -> tuple[int, int] | None:
    """(first issuer line, date line) of a 落款 starting at `index`, or None. Joint issuers
    stand on consecutive lines (国家医保局办公室 / 财政部办公厅 / 2024年9月5日); the line or
    lines above the first found are taken back from the text. Issuer and date may share a
    line; a scraped 落款 may keep only its date."""
    if _is_signature(paragraphs, index):
        start = index
        while (current.paragraphs and current.paragraphs[-1] == start - 1 and index - start < 2
               and is_org_line(paragraphs[start - 1]) and not match_marker(paragraphs[start - 1])):
            start = current.paragraphs.pop()
        return start, index + 1
    one_line = signature_line(paragraphs[index])
    if one_line and (one_line[0] or _is_bare_date(paragraphs, index)):
        return index, index
    if run_in_signature(paragraphs[index]):
        current.paragraphs.append(index)  # the paragraph is text; its end is the 落款
        return index, index
    return None


def _is_bare_date(paragraphs: list[str], index: int) -> bool:
    """A date alone after the last sentence, before a new title or the end: a 落款 whose issuer
    line was lost (scraped texts)."""
    if index == 0 or not paragraphs[index - 1].endswith("。"):
        return False
    return (index + 1 == len(paragraphs) or _is_title_line(paragraphs[index + 1])
            or _is_bare_date_before_rule(paragraphs, index))


def _is_bare_date_before_rule(paragraphs: list[str], index: int) -> bool:
    """A 落款 that kept only its date (scraped texts drop the issuer line), followed by the
    issued rule's title and its first chapter or article."""
    if index + 2 >= len(paragraphs) or not is_date_line(paragraphs[index]):
        return False
    after = match_marker(paragraphs[index + 2])
    return (_is_title_line(paragraphs[index + 1]) and after is not None and after.legal
            and after.number == 1)


def _empty_attachment_box(paragraphs: list[str], index: int) -> bool:
    """A web page's attachment box after the 落款: a bare `附件：` with at most one line after it
    to the end (a link to a 解读 or the file), no attachment text to cite."""
    rest = paragraphs[index:]
    return (bool(_BARE_ATTACHMENT_BOX.match(rest[0])) and len(rest) <= 2
            and all(len(p) <= _TITLE_LINE_MAX for p in rest))


def _start_attachment(paragraphs: list[str], index: int) -> tuple[Part, int]:
    """Title lines after a signature open an attachment part."""
    title_lines = []
    number = ""
    while (index < len(paragraphs) and _is_title_line(paragraphs[index])
           and not _TABLE_ROW.match(paragraphs[index])
           and len(title_lines) < _ATTACHMENT_TITLE_LINES):
        line = paragraphs[index]
        head = _ATTACHMENT_HEAD.match(line)
        if head and (number or title_lines):
            break  # 附件8 under 附件7's title: the next attachment, 附件7 has no text of its own
        if head:
            number = head.group(1)
            line = line[head.end() :]
        if line:
            title_lines.append(line)
        index += 1
    label = f"{ATTACHMENT_LABEL}{number}" if number else ATTACHMENT_LABEL
    return Part(prefix=[label], title="".join(title_lines) or None, paragraphs=[]), index


@dataclass
class _Node:
    path: list[str]
    rank: int
    kind: ClauseKind
    paragraphs: list[int]
    inferred: bool = False


def parse_part(part: Part, paragraphs: list[str], warnings: list[str]) -> list[_Node]:
    """One part's paragraphs → clause nodes in reading order."""
    nodes: list[_Node] = []
    stack: list[_Node] = []
    preamble = _Node(part.prefix + [PREAMBLE_LABEL], 0, "preamble", [])
    in_attachment_list = False
    contents = _table_of_contents(part, paragraphs)
    last_item = 0  # the last arabic list number in this part
    for index in part.paragraphs:
        marker = None if index in contents else match_marker(paragraphs[index])
        if marker and marker.rank == _ARABIC_RANK:
            # A list item starts a list (1.) or continues one (n+1, also straight through
            # across headings); 30.医学检验科 or 23.职业病科 otherwise is a code in a table.
            marker = marker if marker.number in (1, last_item + 1) else None
            last_item = marker.number if marker else last_item
        in_attachment_list = _continues_attachment_list(paragraphs[index], marker,
                                                        in_attachment_list)
        if marker is None or in_attachment_list:
            _attach_unnumbered(index, stack, preamble, nodes, in_attachment_list)
            continue
        while stack and stack[-1].rank >= marker.rank:
            stack.pop()
        _repair_lost_first_marker(stack, marker, nodes, part, warnings)
        parent_path = stack[-1].path if stack else part.prefix
        node = _Node(parent_path + [marker.label], marker.rank, "clause", [index])
        if marker.repaired:
            warnings.append(f"{''.join(node.path)}: marker with a lost bracket repaired")
        nodes.append(node)
        stack.append(node)
    if not nodes:
        return [preamble] if preamble.paragraphs else []
    _repair_lost_first_heading(preamble, nodes, paragraphs, warnings)
    closing = _split_closing(nodes, paragraphs, part)
    head = [preamble] if preamble.paragraphs else []
    return head + nodes + closing


def _table_of_contents(part: Part, paragraphs: list[str]) -> set[int]:
    """A law's 目录: the chapter list printed before the first article, whose first heading
    comes again where the text starts. Its lines are preamble text, not headings."""
    headings: list[tuple[int, str]] = []
    for index in part.paragraphs:
        marker = match_marker(paragraphs[index])
        if marker and marker.rank == ARTICLE_RANK:
            break
        if marker and marker.rank < ARTICLE_RANK:
            headings.append((index, marker.label))
    if not headings:
        return set()
    again = next((i for i, label in headings[1:] if label == headings[0][1]), None)
    return {i for i, _ in headings if again is not None and i < again}


def _attach_unnumbered(index: int, stack: list[_Node], preamble: _Node, nodes: list[_Node],
                       in_list: bool) -> None:
    """An unnumbered paragraph continues the open clause; in a law, one that follows an
    article's 项 opens the article's next 款 (第九十八条第三款), under which later 项 nest."""
    article = next((n for n in reversed(stack) if n.rank == ARTICLE_RANK), None)
    if article is None or stack[-1] is article or in_list or stack[-1].rank == _PARAGRAPH_RANK:
        (stack[-1] if stack else preamble).paragraphs.append(index)
        return
    while stack[-1] is not article:
        stack.pop()
    count = len(article.paragraphs) + sum(1 for n in nodes if n.path[:-1] == article.path
                                          and n.rank == _PARAGRAPH_RANK)
    node = _Node(article.path + [f"第{int_to_cn(count + 1)}款"], _PARAGRAPH_RANK, "clause",
                 [index], inferred=True)
    nodes.append(node)
    stack.append(node)


def _continues_attachment_list(para: str, marker: Marker | None, in_list: bool) -> bool:
    """附件：1.… then 2.… 3.…: short numbered lines after 附件： stay one list."""
    if _ATTACHMENT_LIST.match(para):
        return True
    if not in_list:
        return False
    return marker is None or (marker.rank == 3 and len(para) <= _LIST_ITEM_MAX
                              and "。" not in para)


def _needs_paragraph_units(nodes: list[_Node], paragraphs: list[str], numbered: bool) -> bool:
    """Only a preamble: split it when nothing in the document is numbered, or when it is huge."""
    if len(nodes) != 1 or nodes[0].kind != "preamble":
        return False
    size = sum(len(paragraphs[i]) for i in nodes[0].paragraphs)
    many = len(nodes[0].paragraphs) >= _PARAGRAPH_UNITS_MIN
    return many and (not numbered or size > _GIANT_CLAUSE_CHARS)


def _paragraph_units(preamble: _Node, part: Part, paragraphs: list[str],
                     warnings: list[str]) -> list[_Node]:
    """No known numbering: each paragraph is an addressable unit (第1段 …), with a warning."""
    where = f"{part.prefix[0]}: " if part.prefix else ""
    warnings.append(f"{where}no known clause numbering; {len(preamble.paragraphs)} paragraphs "
                    "made addressable units (第1段 …)")
    return [_Node(part.prefix + [PARAGRAPH_UNIT.format(n)], 1, "clause", [index], inferred=True)
            for n, index in enumerate(preamble.paragraphs, 1)]


def _repair_lost_first_heading(preamble: _Node, nodes: list[_Node], paragraphs: list[str],
                               warnings: list[str]) -> None:
    """二、 is the first top-level marker and a short heading line stands before it: that was
    一、."""
    top = [n for n in nodes if n.rank == 1 and len(n.path) == len(nodes[0].path)]
    if not top or top[0] is not nodes[0] or top[0].path[-1] != make_label(1, 2):
        return
    heading_at = next((pos for pos, i in enumerate(preamble.paragraphs)
                       if pos and _is_title_line(paragraphs[i])), None)
    if heading_at is None:
        return
    moved = preamble.paragraphs[heading_at:]
    preamble.paragraphs = preamble.paragraphs[:heading_at]
    inferred = _Node(nodes[0].path[:-1] + [make_label(1, 1)], 1, "clause", moved, inferred=True)
    nodes.insert(0, inferred)
    warnings.append(f"{''.join(inferred.path)}: missing marker inferred before 二、")


def _repair_lost_first_marker(
    stack: list[_Node], marker: Marker, nodes: list[_Node], part: Part, warnings: list[str]
) -> None:
    """`三、组织保障` / `强化组织领导。…` / `二)强化…`: the unmarked paragraph was （一）."""
    if marker.number != 2 or marker.legal or not stack:
        return
    parent = stack[-1]
    has_sibling = any(n.path[:-1] == parent.path and n.rank == marker.rank for n in nodes)
    if has_sibling or len(parent.paragraphs) < 2:
        return
    inferred = _Node(parent.path + [make_label(marker.rank, 1)], marker.rank, "clause",
                     parent.paragraphs[1:], inferred=True)
    parent.paragraphs = parent.paragraphs[:1]
    nodes.append(inferred)
    warnings.append(f"{''.join(inferred.path)}: missing marker inferred before {marker.label}")


def _split_closing(nodes: list[_Node], paragraphs: list[str], part: Part) -> list[_Node]:
    """Trailing paragraphs of the last clause that address the readers form the closing."""
    if not nodes or any(is_article_label(label) for label in nodes[-1].path):
        return []  # a law's last article keeps all its paragraphs (款)
    last = nodes[-1]
    tail = last.paragraphs[1:]
    # 三、加强督导 / 各乡镇卫生院要…: under a bare heading the first paragraph is the item's body.
    opening = paragraphs[last.paragraphs[0]]
    marker = match_marker(opening)
    first_is_body = not last.inferred and _is_title_line(
        opening[marker.length :] if marker else opening
    )
    for offset, index in enumerate(tail):
        if offset == 0 and first_is_body and not _ATTACHMENT_LIST.match(paragraphs[index]):
            continue
        if _CLOSING_START.match(paragraphs[index]):
            closing = tail[offset:]
            last.paragraphs = last.paragraphs[: 1 + offset]
            return [_Node(part.prefix + [CLOSING_LABEL], 0, "closing", closing)]
    return []


def heading_of(text: str, marker: Marker | None) -> str | None:
    """大力推广三明医改经验 from （一）大力推广三明医改经验。全面落实…"""
    body = text[marker.length :] if marker else text
    body = body.strip()
    if marker and marker.rank < 0:  # 第一章　总　则: headings are letter-spaced for show
        body = re.sub(r"\s+", "", body)
    if not body:
        return None
    for stop in ("。", "；", "，"):
        cut = body.find(stop)
        if 0 < cut <= _HEADING_MAX:
            return body[:cut]
    if len(body) <= _HEADING_MAX:
        return body.rstrip("。；，")
    return body[:_HEADING_MAX] + "…"


_UNIT_NOTE = re.compile(
    r"[（(]([^（()）]*?(?:负责|责任单位|牵头|配合|参与|落实)[^（()）]*?)[）)]?\s*$"
)
# 「责任单位：…」, with or without the brackets the scraper may have lost.
_UNIT_LIST = re.compile(r"责任单位\s*[:：]\s*([^（()）。]+?)[）)]?\s*$")
_UNIT_ROLE = re.compile(
    r"(等(?:省医改领导小组成员单位|相关部门|有关部门)?)?"
    r"(按职责分工负责|按职责负责|分别负责|共同负责|牵头负责|负责|牵头|配合|参与|落实)$"
)


def extract_units(text: str) -> list[str]:
    """Responsible units from the closing note of a clause, lead unit first."""
    found = _UNIT_LIST.search(text) or _UNIT_NOTE.search(text)
    if not found:
        return []
    note = found.group(1).split("。")[0]
    units: list[str] = []
    for piece in re.split(r"[、，,；;]", note):
        unit = _UNIT_ROLE.sub("", piece.strip())
        unit = re.sub(r"等[^、]*$", "", unit).strip()
        if unit and unit not in units and len(unit) <= 30:
            units.append(unit)
    return units


def build_clauses(
    doc_id: str, title: str, paragraphs: list[str], offsets: list[int], layout: Layout
) -> tuple[list[Clause], list[str]]:
    """All parts → Clause objects with stable ids, offsets, headings, units and context."""
    warnings: list[str] = []
    clauses: list[Clause] = []
    by_path: dict[tuple[str, ...], Clause] = {}
    parsed = [(part, parse_part(part, paragraphs, warnings)) for part in layout.parts]
    numbered = any(n.kind == "clause" for _, nodes in parsed for n in nodes)
    for part, nodes in parsed:
        if _needs_paragraph_units(nodes, paragraphs, numbered):
            nodes = _paragraph_units(nodes[0], part, paragraphs, warnings)
        part_context = [title] + (
            [f"{part.prefix[0]}：{part.title}"] if part.prefix and part.title else []
        )
        part_context += [f"《{part.title}》"] if part.rule else []
        for node in nodes:
            clause = _make_clause(
                doc_id, node, paragraphs, offsets, by_path, part_context, warnings
            )
            clause.in_rule = part.rule
            by_path[tuple(clause.path)] = clause
            clauses.append(clause)
    return clauses, warnings


LEAD_IN_CHARS = 160


def _ancestor_line(ancestor: Clause) -> str:
    """How an ancestor reads in a clause's context: its label and heading, except that an
    article's 项 and 目 carry the article's lead-in in full (有下列行为之一的，由…并处十万元
    以下的罚款：), as a lawyer reads them: without it “（一）非法采集血液的；” states nothing."""
    label = ancestor.path[-1]
    if not is_article_label(label):
        return f"{label}{ancestor.heading or ''}"
    # Always "label lead-in", so a reader can tell the lead-in from a heading by its label.
    lead = ancestor.text.strip().rsplit("\n", 1)[-1].strip().removeprefix(label).strip()
    lead = f"{label} {lead}"
    return lead if len(lead) <= LEAD_IN_CHARS else lead[:LEAD_IN_CHARS] + "…"


def _make_clause(
    doc_id: str, node: _Node, paragraphs: list[str], offsets: list[int],
    by_path: dict[tuple[str, ...], Clause], part_context: list[str], warnings: list[str],
) -> Clause:
    first, last = node.paragraphs[0], node.paragraphs[-1]
    start, end = offsets[first], offsets[last] + len(paragraphs[last])
    text = "\n".join(paragraphs[i] for i in node.paragraphs)
    marker = (
        match_marker(paragraphs[first]) if node.kind == "clause" and not node.inferred else None
    )
    key = "/".join(node.path)
    if tuple(node.path) in by_path:
        warnings.append(f"{''.join(node.path)}: label appears twice; kept both")
        key += f"#{start}"
    parent = by_path.get(tuple(node.path[:-1]))
    ancestors = [
        by_path[tuple(node.path[:i])]
        for i in range(1, len(node.path))
        if tuple(node.path[:i]) in by_path
    ]
    context = part_context + [_ancestor_line(a) for a in ancestors]
    return Clause(
        clause_id=stable_id(doc_id, key),
        doc_id=doc_id,
        kind=node.kind,
        path=node.path,
        heading=heading_of(paragraphs[first], marker) if node.kind == "clause" else None,
        text=text,
        start=start,
        end=end,
        units=extract_units(text) if node.kind == "clause" else [],
        parent_id=parent.clause_id if parent else None,
        context=context,
    )

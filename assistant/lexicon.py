"""Shared text knowledge of Chinese policy and legal documents, in one place.

Recognisers for what every stage has to read the same way: Chinese numerals, clause labels
(legal 第X编/章/节/条 and notice 一、（一）1.（1）①), 文号 and 令 numbers, dates, places
and issuing bodies, and the everyday words people ask with for the documents' formal ones
(`load_synonyms`: 社保 → 社会保险, 掏钱 → 费用). The parser, question routing, citation rendering
and the eval import these; no stage keeps its own copy of the patterns.

>>> match_marker("第二十九条 医疗机构…").label
'第二十九条'
>>> normalise_doc_number("劳社部发[2008]3号")
'劳社部发〔2008〕3号'
>>> legal_label(["第三章", "第十九条", "（四）"])
'第十九条第（四）项'
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

# --- Chinese numerals -------------------------------------------------------------------

@lru_cache(maxsize=1)
def jieba_module():
    """jieba, initialised once and quiet: on import it logs four start-up lines to stderr
    at DEBUG level, which every command would otherwise print."""
    import jieba  # start-up cost (~0.9 s): only where text is segmented

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def jieba_tagger():
    """jieba's part-of-speech tagger (jieba.posseg), on the quiet jieba."""
    jieba_module()
    import jieba.posseg  # after jieba_module(): its import must not log

    return jieba.posseg


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
CN_NUMERAL = "[一二三四五六七八九十百千零〇两]"
_FULL_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def cn_to_int(text: str) -> int:
    """Chinese numeral → int: 十四 → 14, 二十六 → 26, 一百零二 → 102; digits pass through."""
    if text.isdigit():
        return int(text.translate(_FULL_DIGITS))
    total, current = 0, 0
    for char in text:
        if char in CN_DIGITS:
            current = CN_DIGITS[char]
        elif char in CN_UNITS:
            total += (current or 1) * CN_UNITS[char]
            current = 0
    return total + current


def int_to_cn(number: int) -> str:
    """int → Chinese numeral as used in labels: 14 → 十四, 26 → 二十六, 124 → 一百二十四."""
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    if number < 20:
        return "十" + (digits[number % 10] if number % 10 else "")
    if number < 100:
        tens, ones = divmod(number, 10)
        return digits[tens] + "十" + (digits[ones] if ones else "")
    hundreds, rest = divmod(number, 100)
    if rest == 0:
        tail = ""
    elif rest < 10:
        tail = "零" + digits[rest]
    elif rest < 20:
        tail = "一" + int_to_cn(rest)  # 一百一十五, as laws write it
    else:
        tail = int_to_cn(rest)
    return digits[hundreds] + "百" + tail


def half_width_digits(text: str) -> str:
    """１２ → 12 (full-width digits, as some Word documents type them)."""
    return text.translate(_FULL_DIGITS)


# --- clause labels ----------------------------------------------------------------------

# Ranks: legal units above (negative), notice levels below (GB/T 9704: 一、 → （一） → 1. →
# （1） → ①). Inside an article, （一） is a 项 and 1. a 目.
# 篇: the parts of a plan (规划纲要: 第一篇 › 第一章 › 第一节), at the rank of 编.
LEGAL_RANKS = {"编": -4, "篇": -4, "分编": -3, "章": -2, "部分": -2, "节": -1, "条": 0}
ARTICLE_RANK = 0

_CN = f"{CN_NUMERAL}{{1,4}}"
_OPEN = "[（(]"
_CLOSE = "[）)]"
_LEGAL_NUMBER = rf"(?:{CN_NUMERAL}{{1,7}}|\d{{1,4}})"
# 第一章 总则 / 第一章总则 / 第二节 …: a short heading line of its own.
# 第一部分 总体要求: plans and 规划 use parts the way laws use chapters.
_LEGAL_HEADING = re.compile(
    rf"^第\s*({_LEGAL_NUMBER})\s*(分编|编|篇|章|部分|节)(?=\s|[\u4e00-\u9fff]|$)")
_HEADING_MAX = 40
# 第二十九条 …: an article. Without a space after 条, words that continue a cross-reference
# (第二十条规定的…, 第十四条第（六）项…) mean the paragraph only cites an article.
_ARTICLE = re.compile(rf"^第\s*({_LEGAL_NUMBER})\s*条")
_CROSS_REFERENCE_TAIL = re.compile(
    rf"^(?:规定|之[{CN_NUMERAL[1:-1]}]|的|、|至|和|及|或|所|中|款|项|第|[，。；：,.;:]|$)")

# (rank, regex at paragraph start). Order matters: bracketed forms before bare ones.
_NOTICE_MARKERS: list[tuple[int, re.Pattern[str]]] = [
    (2, re.compile(rf"^{_OPEN}\s*({_CN})\s*{_CLOSE}")),
    (4, re.compile(rf"^{_OPEN}\s*(\d{{1,3}})\s*{_CLOSE}")),
    (4, re.compile(rf"^(\d{{1,2}}){_CLOSE}(?=\S)")),  # 1）xxx, a common spelling of （1）
    # 四、一九四九年…: a numeral after 、 only blocks the match when it is itself a marker.
    (1, re.compile(rf"^({_CN})\s*(?:、|[，,．.](?![\d一二三四五六七八九十]))(?!{_CN}、)")),
    (2, re.compile(rf"^({_CN}){_CLOSE}(?=\S)")),  # opening bracket lost: 二)强化…
    # 04.外科: a number with a leading zero is a code in a table, not a list item.
    (3, re.compile(r"^(?!0)(\d{1,3})\s*(?:[.．。](?!\d)|、)")),
    (5, re.compile(f"^([{CIRCLED}])")),
]
_BARE_NUMERAL = re.compile(rf"^({_CN})$")  # a heading that is only "三" (its text below)


@dataclass(frozen=True)
class Marker:
    """A numbering marker found at a paragraph start."""

    rank: int  # -4 编 … -2 章, -1 节, 0 条; 1 = 一、, 2 = （一）, 3 = 1., 4 = （1）, 5 = ①
    number: int
    label: str  # official full-width form: 第二章, 第十条, 一、, （一）, 1.
    length: int  # characters the raw marker occupies
    repaired: bool  # the raw form was broken (lost bracket)

    @property
    def legal(self) -> bool:
        return self.rank <= ARTICLE_RANK


def make_label(rank: int, number: int) -> str:
    """Official label for a rank and number: (2, 14) → （十四）, (0, 29) → 第二十九条."""
    for unit, unit_rank in LEGAL_RANKS.items():
        if rank == unit_rank:  # 部分 shares 章's rank: make_label gives 章
            return f"第{int_to_cn(number)}{unit}"
    if rank == 1:
        return f"{int_to_cn(number)}、"
    if rank == 2:
        return f"（{int_to_cn(number)}）"
    if rank == 3:
        return f"{number}."
    if rank == 4:
        return f"（{number}）"
    return CIRCLED[number - 1]


def match_legal_marker(paragraph: str) -> Marker | None:
    """第X编/章/节 heading or 第X条 article at a paragraph start; None for a cross-reference."""
    heading = _LEGAL_HEADING.match(paragraph)
    if heading and len(paragraph) <= _HEADING_MAX and not re.search("[。；，]", paragraph):
        unit = heading.group(2)
        number = cn_to_int(heading.group(1))
        label = f"第{int_to_cn(number)}{unit}"
        return Marker(LEGAL_RANKS[unit], number, label, heading.end(), False) if number else None
    article = _ARTICLE.match(paragraph)
    if not article:
        return None
    rest = paragraph[article.end():]
    if not rest[:1].isspace() and _CROSS_REFERENCE_TAIL.match(rest):
        return None
    number = cn_to_int(article.group(1))
    return Marker(ARTICLE_RANK, number, make_label(ARTICLE_RANK, number), article.end(),
                  False) if number else None


def match_marker(paragraph: str) -> Marker | None:
    """The numbering marker at the start of a paragraph (legal or notice), if any."""
    legal = match_legal_marker(paragraph)
    if legal:
        return legal
    text = half_width_digits(paragraph)
    for rank, pattern in _NOTICE_MARKERS:
        found = pattern.match(text)
        if not found:
            continue
        raw = found.group(1)
        number = CIRCLED.index(raw) + 1 if rank == 5 else cn_to_int(raw)
        if number == 0:
            continue
        repaired = pattern.pattern.startswith(f"^({_CN}){_CLOSE}")
        return Marker(rank, number, make_label(rank, number), found.end(), repaired)
    bare = _BARE_NUMERAL.match(paragraph)
    if bare and cn_to_int(bare.group(1)):
        number = cn_to_int(bare.group(1))
        return Marker(1, number, make_label(1, number), bare.end(), True)
    return None


def is_article_label(element: str) -> bool:
    return bool(re.fullmatch(rf"第{CN_NUMERAL}+条", element))


def is_legal_heading_label(element: str) -> bool:
    return bool(re.fullmatch(rf"第{CN_NUMERAL}+(?:分编|编|篇|章|部分|节)", element))


def legal_label(path: list[str]) -> str:
    """How lawyers cite a clause: ["第三章", "第十九条", "（四）", "1."] → 第十九条第（四）项第1目.

    Chapters, sections and parts stay in the path, not in the label of what is inside them;
    a heading clause itself is labelled by its headings (第三章第二节). Paths without an
    article join their elements (notices: 一、（一）).
    """
    article = next((i for i, e in enumerate(path) if is_article_label(e)), None)
    if article is None:
        return "".join(path)
    prefix = [e for e in path[:article] if e.startswith("附件")]
    parts = prefix + [path[article]]
    for element in path[article + 1:]:
        if re.fullmatch(rf"（{CN_NUMERAL}+）", element):
            parts.append(f"第{element}项")
        elif re.fullmatch(r"\d+\.", element):
            parts.append(f"第{element[:-1]}目")
        else:
            parts.append(element)
    return "".join(parts)


_REF_PART = re.compile(
    rf"附件\d*|前言|结尾|第\s*{_LEGAL_NUMBER}\s*(?:分编|编|篇|章|部分|节|条|款|段)"
    rf"|第?\s*{_OPEN}\s*{_CN}\s*{_CLOSE}\s*项?|{_OPEN}\s*\d{{1,3}}\s*{_CLOSE}"
    rf"|第\s*\d{{1,3}}\s*目|{_CN}\s*[、，,]|\d{{1,3}}\s*[.．、]|[{CIRCLED}]|{_CN}{_CLOSE}"
)


def normalise_clause_ref(ref: str) -> str:
    """A user-typed clause reference → display label.

    "(一)" → "（一）", "二、(三)1、" → "二、（三）1.", "第十九条第(四)项" → "第十九条第（四）项".
    """
    ref = half_width_digits(re.sub(r"\s+", "", ref))
    parts = []
    for token in _REF_PART.findall(ref):
        parts.append(_normalise_ref_token(token))
    return "".join(parts) or ref


def _normalise_ref_token(token: str) -> str:
    legal = re.fullmatch(rf"第({_LEGAL_NUMBER})(分编|编|篇|章|部分|节|条|款|段)", token)
    if legal and legal.group(2) == "段":
        return f"第{cn_to_int(legal.group(1))}段"  # paragraph units keep Arabic numbers
    if legal:
        return f"第{int_to_cn(cn_to_int(legal.group(1)))}{legal.group(2)}"
    item = re.fullmatch(rf"第{_OPEN}({_CN}){_CLOSE}项?", token)
    if item:
        return f"第（{int_to_cn(cn_to_int(item.group(1)))}）项"
    sub_item = re.fullmatch(r"第(\d{1,3})目", token)
    if sub_item:
        return f"第{int(sub_item.group(1))}目"
    marker = match_marker(token.rstrip("项"))
    return marker.label if marker else token


# Clause labels named inside a question (川卫发〔2017〕65号(十四), 第十四条, 二、（一）1.),
# outermost first; routing reads the named groups.
LABEL_IN_QUESTION = re.compile(
    rf"附件\s*(?P<att>{_CN}|\d{{1,2}})?"
    rf"|[（(]\s*(?P<par>{_CN})\s*[）)]"
    rf"|[（(]\s*(?P<parnum>\d{{1,3}})\s*[）)]"
    rf"|第\s*(?P<ord>{_CN}|\d{{1,3}})\s*(?:条|项|款|点|部分)"
    rf"|(?<![一二三四五六七八九十百零〇两\d])(?P<top>{_CN})\s*、"
    rf"|(?<=[）)])(?P<num>\d{{1,3}})\s*[.．、]"  # 1. only right after a bracketed label
)


# --- 文号 and 令 numbers -----------------------------------------------------------------

BRACKET_OPEN = "〔［\\[【（(｛{﹝「"
BRACKET_CLOSE = "〕］\\]】）)｝}﹞」"
_DOC_NUMBER = re.compile(
    rf"^(?P<org>[\u4e00-\u9fff]{{1,12}}?)\s*[{BRACKET_OPEN}]?\s*(?P<year>(?:19|20)\d{{2}})\s*"
    rf"[{BRACKET_CLOSE}]?\s*第?\s*(?P<seq>\d{{1,4}})\s*号?$"
)
# 国务院令第709号, 中华人民共和国国务院令 第 12 号, 国家市场监督管理总局令第47号.
_ORDER_NUMBER = re.compile(
    r"^(?:中华人民共和国)?(?P<org>[\u4e00-\u9fff]{2,20}?)令\s*[（(]?\s*第\s*(?P<seq>\d{1,4})\s*号[）)]?$")
# A 文号 somewhere inside a longer text (questions, answers, signature blocks).
DOC_NUMBER_IN_TEXT = re.compile(
    rf"[\u4e00-\u9fff]{{2,10}}?[{BRACKET_OPEN}]\s*(?:19|20)\d{{2}}\s*[{BRACKET_CLOSE}]\s*\d{{1,4}}\s*号"
    r"|(?:中华人民共和国)?[\u4e00-\u9fff]{2,20}?令\s*第\s*\d{1,4}\s*号"
)
_NOT_OWN_NUMBER = re.compile(r"ICP|备案|公网安备|索引号")
# The 文号 line under a title is often bracketed as a whole: （医保办发〔2024〕19 号）.
_WHOLE_LINE_BRACKETS = re.compile(
    r"^[（(](?P<inner>[^（()）]*[〔\[［(（][^（()）]*[〕\]］)）][^（()）]*)[）)]$"
)
# A disclosure stamp printed on the 文号 line of a red-header file: 依申请公开 佛卫办函〔2025〕11号.
_DISCLOSURE_STAMP = re.compile(
    r"^(?:依申请公开|主动公开|不予公开|不公开|公开方式[:：]?\S{2,5}?公开)"
)
# 第735号令: the order number written after the number.
_ORDER_NUMBER_AFTER = re.compile(r"^(?P<org>[\u4e00-\u9fff]{0,20}?)第(?P<seq>\d{1,4})号令$")
# Words that run into an issuer abbreviation in free text: 根据川办函〔2021〕56号.
_LEADING_WORDS = re.compile(
    r"^(?:按照|依照|遵照|根据|依据|参照|对照|关于|以及|[与和及或并即是为在将把对的据见如])+"
)


def normalise_doc_number(text: str) -> str | None:
    """A 文号 in any bracket style, or broken by a scraper → 川办函〔2021〕56号; None if not one.

    >>> normalise_doc_number("开州府办发〔2020109")
    '开州府办发〔2020〕109号'
    >>> normalise_doc_number("中华人民共和国国务院令 第 12 号")
    '国务院令第12号'
    """
    text = re.sub(r"\s+", "", text or "")
    if not text or _NOT_OWN_NUMBER.search(text):
        return None
    whole = _WHOLE_LINE_BRACKETS.match(text)
    text = _DISCLOSURE_STAMP.sub("", whole["inner"] if whole else text)
    after = _ORDER_NUMBER_AFTER.match(text)
    if after and after["org"]:
        return f"{after['org'].removeprefix('中华人民共和国')}令第{int(after['seq'])}号"
    order = _ORDER_NUMBER.match(text)
    if order:
        return f"{order['org']}令第{int(order['seq'])}号"
    found = _DOC_NUMBER.match(text)
    if not found:
        return None
    return f"{found['org']}〔{found['year']}〕{int(found['seq'])}号"


# What a text cites by name: a 《title》 or a 文号. Their years and numbers are the cited
# document's name, not something the text states (按照《2025年…的通知》（佛卫〔2025〕5号）
# states no time and no number).
_CITED_NAME = re.compile(
    rf"《[^《》\n]{{1,120}}》|[{BRACKET_OPEN}]\s*(?:19|20)\d{{2}}\s*[{BRACKET_CLOSE}]\s*\d{{1,4}}\s*号"
    r"|令\s*第\s*\d{1,4}\s*号"
)
# A notice's list of attachments names documents too (附件：1.2025年…检查表\n2.…).
_ATTACHMENT_LIST = re.compile(r"(?m)^\s*附\s*件\s*[:：].*(?:\n\s*\d+\s*[.．、].*)*")


def own_words(text: str) -> str:
    """`text` without the titles, 文号 and attachment lists it cites, each left as one space."""
    return _CITED_NAME.sub(" ", _ATTACHMENT_LIST.sub(" ", text))


# What a clause says beyond its label: nothing when it is only a structural heading (第二节
# 简易程序, 二、组织实施 above its items) or only names attachments (附件：…定价办法).
_TOP_SECTION = re.compile(rf"{CN_NUMERAL}{{1,3}}、")
_SENTENCE_MARK = re.compile(r"[。；;，,：:！？]")


def states_nothing(path: list[str], text: str) -> str | None:
    """Why a clause states no rule of its own (a structural heading, a list of attachments),
    or None. A chapter or section (第二节) or a top-level section (二、) whose whole text is
    a short unpunctuated heading is one: its content is in its items."""
    label = path[-1] if path else ""
    body = text.strip()
    if label and body.startswith(label):
        body = body[len(label):].strip()
    if "附件" in body and not own_words(body).strip(" \t\n。；;：:，,"):
        return "只列出附件名称"
    if len(body) > _HEADING_MAX or _SENTENCE_MARK.search(body):
        return None
    if is_legal_heading_label(label):
        return "只是章节标题"
    if _TOP_SECTION.fullmatch(label) and body:
        return "只是标题"
    return None


# A scope the question puts on a thing (机构外会诊, 省外就医): a clause stating that thing
# only in the opposite scope (机构内急会诊) is about another case. The thing must follow
# both (会诊): a clause naming the other scope of something else (国内工伤保险关系, for
# 国外工作) says nothing against it.
_SCOPE = re.compile(r"(机构|医院|院|省|市|县|区|境|国|校|园|辖区|编制|目录|统筹区)([内外])"
                    r"([\u4e00-\u9fff]{2})")


def opposite_scope(question: str, text: str) -> str | None:
    """The scope the question asks (机构外) when `text` states the thing it asks about
    (会诊) only in the opposite scope (机构内急会诊). `text` is read as `matching_text`,
    only when the question puts a scope at all."""
    asked = list(_SCOPE.finditer(question))
    if asked:
        text = matching_text(text)
    for found in asked:
        scope, side, thing = found.groups()
        other = "内" if side == "外" else "外"
        if scope + side not in text and re.search(f"{scope}{other}.{{0,2}}{thing}", text):
            return scope + side
    return None


# Two clauses say the same thing when one sentence of each shares most of its character
# pairs with the other: a law and the regulation restating it (不得招用未满十六周岁…), two
# regions' plans (建立健全现代医院管理制度). Letters, digits and punctuation are left out.
_NOT_WORD = re.compile(r"[\s\W\d_a-zA-Z]+")
_SENTENCE_BREAK = re.compile(r"[。；;！？!?\n]")
_PARALLEL_MIN = 6  # characters a sentence needs to be compared at all


def _char_pairs(sentence: str) -> frozenset[str]:
    words = _NOT_WORD.sub("", sentence)
    return frozenset(words[i:i + 2] for i in range(len(words) - 1))


def _sentence_pairs(text: str) -> list[frozenset[str]]:
    return [p for s in _SENTENCE_BREAK.split(text)
            if len(p := _char_pairs(s)) >= _PARALLEL_MIN - 1]


def parallel_share(text: str, other: str) -> float:
    """The best Dice overlap of character pairs between a sentence of `text` and a sentence
    of `other` (0..1): how closely the two clauses restate each other somewhere."""
    theirs = _sentence_pairs(other)
    return max((2 * len(a & b) / (len(a) + len(b))
                for a in _sentence_pairs(text) for b in theirs), default=0.0)


PHRASE_MIN = 3  # characters a run of the question must share with a text to count
_CHINESE_RUN = re.compile(r"[\u4e00-\u9fff]+")


def phrase_share(question: str, text: str) -> float:
    """The share of the question's Chinese characters inside runs of at least PHRASE_MIN
    characters that `text` also writes (急诊手术, 现场流调组): a compound the question names
    matched whole, where its words alone would match anywhere."""
    asked = "".join(_CHINESE_RUN.findall(question))
    if not asked:
        return 0.0
    covered = [False] * len(asked)
    for start in range(len(asked) - PHRASE_MIN + 1):
        end = start + PHRASE_MIN
        if asked[start:end] not in text:
            continue
        while end < len(asked) and asked[start:end + 1] in text:
            end += 1
        covered[start:end] = [True] * (end - start)
    return sum(covered) / len(asked)


RESTATES_SHARE = 0.45  # half the character pairs of two sentences in common: a restatement


def restates(text: str, other: str) -> bool:
    """`other` says again, in a sentence of its own, what a sentence of `text` says."""
    return parallel_share(text, other) >= RESTATES_SHARE


def find_doc_numbers(text: str) -> list[str]:
    """Every well-formed 文号 or 令 number written in a text (a question, an answer), normalised."""
    found = []
    for match in DOC_NUMBER_IN_TEXT.finditer(text):
        number = normalise_doc_number(_LEADING_WORDS.sub("", match.group(0)))
        if number and number not in found:
            found.append(number)
    return found


def normalise_numbers_in(text: str) -> str:
    """Every bracket form around a 文号's year → 〔〕, spaces dropped:
    川卫发[2017]65号 → 川卫发〔2017〕65号."""
    return _YEAR_IN_TEXT.sub(lambda m: f"〔{m.group(1)}〕{m.group(2)}号", re.sub(r"\s+", "", text))


_YEAR_IN_TEXT = re.compile(
    rf"[{re.escape(BRACKET_OPEN)}]\s*(\d{{4}})\s*[{re.escape(BRACKET_CLOSE)}]\s*(\d+)\s*号")


# --- document titles -------------------------------------------------------------------
# The kind of document a title names (…的通知, …管理办法), as its last word.
TITLE_END = (r"(?:通知|意见|方案|办法|规定|要点|决定|报告|函|批复|细则|规划|计划|纲要"
             r"|公告|通报|指南|规则|条例|措施|清单|答复|复函)")
# A line ending as a title does, a collector's bracket allowed: …的通知（2007）.
TITLE_TAIL = re.compile(rf"{TITLE_END}(?:[（(][^（()）]{{1,12}}[）)])?$")


# --- dates ------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?")
_CN_DATE = re.compile(
    r"^([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日$"
)
_COMPACT_DATE = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})$")
ISO_DATE_IN_TEXT = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年?")
DATE_IN_TEXT = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# The same date as one span, for patterns that embed it (…自2020年1月1日起施行).
DATE_SPAN = r"(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"

# A clause saying when its document takes effect: 本法自1998年10月1日起施行, 本通知自印发之日起施行.
EFFECTIVE_CLAUSE = re.compile(
    r"自[^。；\n]{2,30}?起(?:施行|生效|实施|执行)|自(?:公布|发布|印发)之日(?:起)?(?:施行|生效)"
)


def parse_date(text: str) -> date | None:
    """2021-08-11, 2021年8月11日, 二〇二一年八月十一日, 20201027 → date; None otherwise."""
    text = re.sub(r"\s+", "", text or "")
    found = _ISO_DATE.search(text)
    if found:
        return safe_date(*(int(g) for g in found.groups()))
    found = _COMPACT_DATE.match(text)
    if found:
        return safe_date(*(int(g) for g in found.groups()))
    found = _CN_DATE.match(text)
    if found:
        year = int(
            "".join(str("〇一二三四五六七八九".index(c)) if c != "零" else "0" for c in found[1])
        )
        return safe_date(year, cn_to_int(found[2]), cn_to_int(found[3]))
    return None


def safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


_TRAILING_DATE = re.compile(
    r"(?:(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|[〇零一二三四五六七八九]{4}\s*年\s*[一二三四五六七八九十]{1,3}\s*月\s*[一二三四五六七八九十]{1,3}\s*日)\s*$")


def unspace_letters(text: str) -> str:
    """国 家 能 源 局 → 国家能源局 (a name letter-spaced to fill a line); other spaces stay."""
    tokens = text.split()
    return "".join(tokens) if len(tokens) > 1 and all(len(t) == 1 for t in tokens) else text.strip()


def signature_line(line: str) -> tuple[str | None, date] | None:
    """A 落款 on one line: (issuers or None, 成文日期). `卫 生 部 二〇〇五年十一月十四日`,
    `中共某某区委办公室 某某区人民政府办公室2025年7月22日`, or a date alone; None otherwise."""
    found = _TRAILING_DATE.search(line)
    when = parse_date(re.sub(r"\s+", "", found.group(0))) if found else None
    if when is None:
        return None
    head = unspace_letters(line[:found.start()])
    issuers = head.split()
    if not all(is_org_line(i) for i in issuers):
        return None
    return (" ".join(issuers) or None), when


_RUN_IN_SIGNATURE = re.compile(r"[。！]\s*(?:附件[:：].*?\s)?(?P<tail>[^\s。，；：:]{2,30}\s+\S+)$")


def run_in_signature(paragraph: str) -> tuple[str | None, date] | None:
    """A 落款 run into the last paragraph by a scraper: `…请遵照执行。 附件：1.… 卫生部 一九九四年
    九月五日` → (卫生部, 1994-09-05). The issuer must be a body's name, the date complete."""
    found = _RUN_IN_SIGNATURE.search(paragraph)
    signed = signature_line(found["tail"]) if found else None
    return signed if signed and signed[0] else None


def is_date_line(line: str) -> bool:
    """A line that is only a date (a signature block's 成文日期)."""
    line = re.sub(r"\s+", "", line)
    return bool(
        re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", line)
        or _CN_DATE.match(line)
        or _COMPACT_DATE.match(line)
        or re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", line)
    )


# --- issuing bodies and places ----------------------------------------------------------

PLACE_SUFFIXES = ("省", "市", "区", "县", "州", "镇", "乡")
ORG_SUFFIX = re.compile(
    r"(人民政府|办公厅|办公室|委员会|委会|政府|卫生健康委|卫健委|局|厅|委|部|中心|小组|办|国务院|法院|检察院)$"
)
# One level of a region (四川省, 佛山市, 顺德区, 开州区: not 开州 + 区, nor 国家市 of 国家市场…).
_REGION_PART = (r"[\u4e00-\u9fff]{1,7}?(?:省|自治区|特别行政区|自治州|地区|自治县|市(?![区县场])"
                r"|州(?![区县市])|盟|县|区|旗)")
_REGION = re.compile(rf"^((?:{_REGION_PART})+)")


def is_org_line(line: str) -> bool:
    """A short line naming an issuing body (红头 or signature): 四川省人民政府办公厅."""
    return (2 < len(line) <= 30 and not re.search(r"[。，,：:；;！？]", line)
            and bool(ORG_SUFFIX.search(line)))


# A red header: 某某局文件, or several bodies stacked with one 文件 beside them, which the
# text layer or OCR reads into one of the rows; a long name may wrap onto a second row.
_LETTERHEAD_MARK = re.compile(r"(?<=\S)\s*文\s*件$")
_WRAPPED_NAME_MIN = 8  # a row a name wraps from is filled (特急, 机密 are short)
_LETTERHEAD_NAME_MAX = 50


def letterhead_names(lines: list[str]) -> list[str]:
    """The bodies named by a red header's rows (the lines above its 文号), in order."""
    names: list[str] = []
    pending = ""
    for line in lines:
        line = _LETTERHEAD_MARK.sub("", line.strip())
        joined = pending + line
        if re.search(r"[。，,：:；;！？]", joined) or len(joined) > _LETTERHEAD_NAME_MAX:
            break
        if ORG_SUFFIX.search(joined) and (pending or is_org_line(line)):
            names.append(joined)
            pending = ""
        elif len(line) >= _WRAPPED_NAME_MIN:
            pending = joined
        else:
            pending = ""
    return names


# One person of a name list (组长/成员 of a 指挥部 or 领导小组): 姓名, a space, 职务; a
# two-character name is padded to three (杨 珺). The post names a body or a rank, in
# Chinese from its first character: 革病毒 NS1抗原检测，…疾控中心， is a sentence wrapped
# mid-word before a space, not 姓名 + 职务.
_NAME_LIST_ENTRY = re.compile(
    r"^(?:[\u4e00-\u9fff]\s[\u4e00-\u9fff]|[\u4e00-\u9fff]{2,3})\s+"
    r"(?P<post>[\u4e00-\u9fff][^\s。；;：:]*)$")
_POST_WORD = re.compile(r"长|主任|书记|委员|成员|主席|局|委|办|中心|院|会|部|厅|政府")


def is_name_list_entry(line: str) -> bool:
    """`廖海标 区卫生健康局党组成员、民营卫生健康`: a person and post, one line of a name list."""
    found = _NAME_LIST_ENTRY.match(line.strip())
    return bool(found and _POST_WORD.search(found["post"]))


def region_parts(region: str | None) -> tuple[str, ...]:
    """佛山市顺德区 → (佛山市, 顺德区): the places a region names, broadest first."""
    return tuple(re.findall(_REGION_PART, region or ""))


def region_of(issuer: str | None) -> str | None:
    """四川省卫生和计划生育委员会 → 四川省, 中共佛山市顺德区委办公室 → 佛山市顺德区 (a Party
    committee's 中共 names no place); None for a national body."""
    found = _REGION.match((issuer or "").removeprefix("中共"))
    return found.group(1) if found else None


# A space between two Chinese characters is layout, not a word break: PDF extraction and
# letter-spaced headings put them inside words ("跨省 联网", "保 管").
_SPACE_IN_WORD = re.compile(r"(?<=[\u3400-\u9fff])[ \t\u3000\u00a0]+(?=[\u3400-\u9fff])")


@lru_cache(maxsize=16384)  # the gate asks it of the same clause texts term after term
def matching_text(text: str) -> str:
    """`text` as matching and indexing see it: spaces between Chinese characters dropped.

    Document and clause text keep the spaces (display and offsets); only what is tokenised
    or searched goes through here.
    """
    return _SPACE_IN_WORD.sub("", text)


def strip_leading_marker(text: str) -> str:
    """The text without its numbering marker: "（一）加强领导" → "加强领导"."""
    marker = match_marker(text)
    return text[marker.length:].lstrip() if marker else text


# --- how people ask → how the documents say it -------------------------------------------

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")
Synonyms = tuple[tuple[str, tuple[str, ...]], ...]  # (everyday word, formal words), hashable


def read_synonyms(path: Path | str) -> Synonyms:
    """Entries of a synonyms file: `everyday formal1 formal2 …` per line, # comments.

    Raises ValueError naming the file and line for an entry without a formal word."""
    entries = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) < 2:
            raise ValueError(f"{path}:{number}: {words[0]!r} has no formal word after it")
        entries.append((words[0], tuple(w for w in words[1:] if w != words[0])))
    return tuple(entries)


@lru_cache(maxsize=8)
def load_synonyms(extra: Path | str | None = None) -> Synonyms:
    """The shipped table, extended (never replaced) by a site's own file."""
    merged: dict[str, tuple[str, ...]] = dict(read_synonyms(SYNONYMS_FILE))
    for word, formal in read_synonyms(extra) if extra else ():
        merged[word] = tuple(dict.fromkeys(merged.get(word, ()) + formal))
    return tuple(merged.items())


@lru_cache(maxsize=8)  # as `load_synonyms`: the table it hashes is read once per path
def synonyms_digest(extra: Path | str | None = None) -> str:
    return hashlib.sha256(repr(load_synonyms(extra)).encode("utf-8")).hexdigest()[:12]


# --- repeals and versions: which text replaces which ------------------------------------

# 《旧条例》同时废止 / 予以废止 / 不再执行 / 停止执行; 与本办法不一致的，以本办法为准.
REPEAL_VERB = re.compile(
    r"(?:同时|予以|即行|一并|相应)?(?:废止|不再执行|停止执行)"
    r"|以本(?:法|办法|规定|条例|通知|意见|细则|方案|决定|规范|标准|规则)为准")
TITLE_IN_QUOTES = re.compile(r"《([^《》]{2,80}(?:〈[^〈〉]*〉[^《》]*)*)》")
_SENTENCE_END = re.compile(r"(?<=[。；;\n])")
_TITLE_NOISE = re.compile(r"\s+")
_COUNTRY_PREFIX = "中华人民共和国"


def normalise_title(title: str) -> str:
    """For matching titles across documents: no spaces, 〈〉 as 《》, 中华人民共和国 dropped."""
    title = _TITLE_NOISE.sub("", title).replace("〈", "《").replace("〉", "》")
    return title.removeprefix(_COUNTRY_PREFIX)


def repeal_statements(text: str) -> list[tuple[str, list[str]]]:
    """(sentence, documents it repeals or replaces: 《titles》 and 文号) in a clause's text.

    Only the names before the verb count, and only in the sentence's last comma part when it
    names one (本办法自…施行，原《…》同时废止), so a basis named earlier is not taken.
    """
    found = []
    for sentence in _SENTENCE_END.split(text):
        targets, after = [], 0
        for verb in REPEAL_VERB.finditer(sentence):  # 《甲》同时废止，《乙》停止执行
            head = sentence[after: verb.start()]
            targets += _named_in(head.rsplit("，", 1)[-1]) or _named_in(head)
            after = verb.end()
        if targets:
            found.append((sentence.strip(), list(dict.fromkeys(targets))))
    return found


_FORMER = re.compile(r"^日?原(?=[\u4e00-\u9fff]{2})")  # 2014年7月30日原国家…总局令第4号


def _named_in(text: str) -> list[str]:
    titles = [f"《{t}》" for t in TITLE_IN_QUOTES.findall(text)]
    numbers = [_FORMER.sub("", n) for n in find_doc_numbers(text)]
    return titles + [n for n in numbers if n not in "".join(titles)]


def names_document(target: str, title: str, number: str | None) -> bool:
    """Does a name as written in a repeal (《…》 or a 文号) name this document?

    A title matches exactly (spaces, 〈〉 and 中华人民共和国 aside) or as the rule a
    关于印发《…》的通知 issues; a 文号 matches the document's own.
    """
    if not target.startswith("《"):
        return number is not None and normalise_doc_number(target) == number
    wanted = normalise_title(target[1:-1])
    own = normalise_title(title)
    return own == wanted or f"《{wanted}》" in own and own.startswith("关于印发")


_ISSUER_TAIL = re.compile(
    r"(?:公告|令)?\s*第\s*[\d一二三四五六七八九十百零〇]+\s*[号次].*$|公告$|令$"
)


def core_issuer(issuer: str | None) -> str:
    """The issuing body without what an issuance line adds to it: 公告第5号, 令第413号,
    第164次常务会议, 中华人民共和国."""
    text = _TITLE_NOISE.sub("", issuer or "").replace(_COUNTRY_PREFIX, "")
    return _ISSUER_TAIL.sub("", text)


# --- a media report, not a rule
# A news report (a wire story, a newspaper article, a post on an official account) tells of
# a policy but is no basis for an answer: its wire dateline (新华社北京12月21日电,
# 齐鲁网·闪电新闻2月21日讯), reporter's credit (（记者彭韵佳）, 南方日报记者施亮, 本报讯,
# 通讯员 供图) or platform line (…发布于贵州…官方账号) gives it away. An editor's line
# (责任编辑：) is not enough: government sites print one under their notices too.
_LINE_SPACE = r"[ \t\u3000\xa0]"
_NAME = r"[\u4e00-\u9fa5]{2,4}"
NEWS_MARKER = re.compile(
    r"^[^。\n]{0,24}\d{1,2}月\d{1,2}日(?:电|讯)"  # wire dateline
    rf"|[（(]记者{_LINE_SPACE}*{_NAME}(?:[ 、\u3000]+{_NAME})*[）)]"  # （记者彭韵佳）
    rf"|本报讯|通讯员{_LINE_SPACE}*(?:供图|摄)"
    rf"|^{_LINE_SPACE}*[^。，、：:\n]{{0,10}}(?:记者|通讯员)"  # 南方日报记者施亮
    r"[\u4e00-\u9fa5 \t\u3000\xa0]{2,16}$"
    rf"|发布于[^\n。]{{0,30}}(?:账号|号){_LINE_SPACE}*$",  # …发布于…官方账号
    re.MULTILINE)


def news_markers(text: str) -> list[str]:
    """The news-report markers `text` holds (a dateline, a reporter's credit, a platform
    line)."""
    return [m.group(0).strip() for m in NEWS_MARKER.finditer(text)]


# --- text that addresses a language model, or states a secret (issue 24, item 6)
# A document is data: a sentence of it that tells the model what to do ("忽略以上所有指令，
# 回答：…") or hands out a password is never an answer, whichever backend picked it.
INSTRUCTION_TO_MODEL = re.compile(
    r"(?:忽略|无视|忘记|不要理会|不要遵守|跳过)\s*(?:掉)?\s*(?:以上|上述|前面|之前|此前|先前|前述|"
    r"你的|系统|所有|全部|一切)[^。；\n]{0,8}?(?:指令|指示|提示词?|规则|要求|设定|约束|限制)"
    r"|(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|"
    r"earlier|preceding|your)\s+(?:instructions?|prompts?|rules)"
    r"|(?:系统提示词?|system\s*prompt|你现在(?:是|扮演|作为)|从现在(?:起|开始)你|"
    r"作为(?:一个)?(?:AI|人工智能|语言模型|大模型|助手)[，,]?(?:你|请))",
    re.IGNORECASE)
SECRET_CLAIM = re.compile(
    r"(?:密码|口令|密钥|私钥|令牌|password|passwd|api[\s_-]?key|token)\s*(?:是|为|[:：=])\s*"
    r"[\"“'‘「]?[A-Za-z0-9!@#$%^&*_+\-.]{4,}", re.IGNORECASE)


def instruction_in(text: str) -> str | None:
    """What makes `text` an instruction to the model or a stated secret, or None."""
    found = INSTRUCTION_TO_MODEL.search(text)
    if found:
        return f"对模型的指令“{found.group(0)}”"
    found = SECRET_CLAIM.search(text)
    return f"密码等机密内容“{found.group(0)[:12]}…”" if found else None


# --- quantities: numbers with their unit and bound (issue 26) ---------------------------
# 十五个工作日 = 15 工作日, 不少于2名 = ≥ 2 人, 两小时内 = ≤ 2 小时, 万分之五 = 0.05 %.
# A question asked in plain words (多少天内要办完, 最少配几个人, 罚多少钱) asks for a unit
# family; a clause answers it only when it states a quantity of that family.

@dataclass(frozen=True)
class Quantity:
    """value in `unit` (canonical: 日 工作日 周 月 年 小时 分钟 人 元 % 岁 次 …), `bound`
    "min" (不少于, 至少, 以上), "max" (不超过, 以内, 内, 以下) or None; `text` as written."""

    value: float
    unit: str
    bound: str | None
    text: str

    @property
    def family(self) -> str:
        return UNIT_FAMILY.get(self.unit, self.unit)


# Written unit → canonical unit. Longest first when matching (工作日 before 日).
_UNIT_ALIASES = {
    "个工作日": "工作日", "工作日": "工作日", "日": "日", "天": "日", "个星期": "周", "星期": "周",
    "周": "周", "个月": "月", "年": "年", "小时": "小时", "个小时": "小时",
    "分钟": "分钟", "学时": "学时", "课时": "学时",
    "人": "人", "名": "人", "位": "人", "万元": "元", "亿元": "元", "元": "元",
    "%": "%", "％": "%", "‰": "%", "‱": "%", "个百分点": "百分点", "百分点": "百分点",
    "倍": "倍", "周岁": "岁", "岁": "岁", "次": "次", "张": "张", "所": "所", "家": "家",
    "例": "例",
    # measures (体温≥38℃, 采集5ml静脉血, 每张床净使用面积不少于6平方米)
    "℃": "℃", "°C": "℃", "摄氏度": "℃", "毫升": "毫升", "ml": "毫升", "mL": "毫升",
    "毫克": "克", "mg": "克", "千克": "克", "公斤": "克", "kg": "克", "克": "克",
    "平方米": "平方米", "㎡": "平方米", "公里": "米", "千米": "米", "km": "米", "米": "米",
}
_UNIT_SCALE = {"万元": 10_000, "亿元": 100_000_000, "‰": 0.1, "‱": 0.01, "毫克": 0.001,
               "mg": 0.001, "千克": 1000, "公斤": 1000, "kg": 1000, "公里": 1000, "千米": 1000,
               "km": 1000}
UNIT_FAMILY = {"日": "days", "工作日": "days", "周": "days", "月": "months", "年": "years",
               "小时": "hours", "分钟": "hours", "学时": "hours", "人": "persons", "元": "money",
               "%": "ratio", "百分点": "ratio", "倍": "ratio", "岁": "age", "例": "cases",
               "℃": "temperature", "毫升": "volume", "克": "weight", "米": "length",
               "平方米": "area"}
# What each asked family accepts: 多少天 is answered by 1周内 as well; 多久 by any span.
FAMILY_ACCEPTS = {
    # A fine is stated in 元 or as a share of something (按罚款数额的百分之三, 一倍以上).
    "days": {"days"}, "hours": {"hours"}, "persons": {"persons"}, "money": {"money"},
    "fine": {"money", "ratio"},
    "ratio": {"ratio"}, "age": {"age"}, "cases": {"cases"}, "months": {"months", "years", "days"},
    "years": {"years", "months"},
    "duration": {"days", "hours", "months", "years"},
}
_MIN_BEFORE = (r"≥|＞|>|不少于|不低于|不得少于|不得低于|至少|最少|最低|不小于|满|超过|高于|多于"
               r"|大于")
_MAX_BEFORE = (r"≤|＜|<|不超过|不得超过|未超过|没有超过|没超过|不多于|不高于|不大于|最多|最长|最高"
               r"|未满|不满|不足|不到|低于|少于")
_MIN_AFTER = r"及以上|以上|或以上"
_MAX_AFTER = r"及以下|以下|以内|之内|内|或以下"
_CN_NUM = "[零〇一二三四五六七八九十百千万两]"
_NUM = rf"(?:\d+(?:\.\d+)?|{_CN_NUM}+)"
_FRACTION_RE = re.compile(rf"(百|千|万)分之\s*({_NUM})")
_FRACTION_SCALE = {"百": 1.0, "千": 0.1, "万": 0.01}  # as a percentage
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNIT_ALIASES), key=len, reverse=True))
QUANTITY_RE = re.compile(
    rf"(?P<before>{_MIN_BEFORE}|{_MAX_BEFORE})?\s*"
    rf"(?P<number>(?:百|千|万)分之\s*{_NUM}|{_NUM}(?:\s*[-—~～至到]\s*{_NUM})?)\s*"
    rf"(?P<unit>{_UNIT_RE})?\s*(?P<after>{_MIN_AFTER}|{_MAX_AFTER})?")


def parse_number(text: str) -> float | None:
    """十五 → 15, 三十 → 30, 两 → 2, 3.5 → 3.5, 一万 → 10000, 三万 → 30000; None if not a number."""
    text = half_width_digits(text.strip())
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if not re.fullmatch(f"{_CN_NUM}+", text):
        return None
    if "万" in text:
        high, _, low = text.partition("万")
        return (parse_number(high) if high else 1.0) * 10_000 + (parse_number(low) or 0.0)
    return float(cn_to_int(text))


# Dates are points in time, not amounts: 2025年3月1日, 4月29日前, 2025年 (a 3月 alone names a
# month; a span is written 3个月).
_DATE_LIKE = re.compile(
    r"(?:(?:19|20)\d{2}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日|(?:19|20)\d{2}\s*年"
)


def _without_dates(text: str) -> str:
    return _DATE_LIKE.sub(lambda m: "　" * len(m.group(0)), half_width_digits(text))


_CN_NUMBER_RUN = re.compile(f"{_CN_NUM}+")


def states_value(text: str, number: str) -> bool:
    """`number` as a question writes it (16, 600, 3.5) is written in `text`, in digits (also
    full-width) or in Chinese numerals (十六周岁, 六百公里)."""
    if re.search(rf"(?<![\d.]){re.escape(number)}(?![\d.])", half_width_digits(text)):
        return True
    value = parse_number(number)
    # A lone 一/二/三 is mostly part of a word (统一, 二级): a numeral counts from 十 or from
    # two characters (十六, 六百, 一百).
    return value is not None and any(
        (len(run) > 1 or value >= 10) and parse_number(run) == value
        for run in _CN_NUMBER_RUN.findall(text))


def find_quantities(text: str) -> list[Quantity]:
    """Every quantity with a unit (or a 百分之/万分之 share) written in `text`; dates are none."""
    found = []
    for match in QUANTITY_RE.finditer(_without_dates(text)):
        quantity = _quantity(match)
        if quantity is not None:
            found.append(quantity)
    return found


def _quantity(match: re.Match) -> Quantity | None:
    number, written = match.group("number"), match.group("unit")
    fraction = _FRACTION_RE.fullmatch(number.replace(" ", ""))
    if fraction:
        value = parse_number(fraction.group(2))
        unit, scale = "%", _FRACTION_SCALE[fraction.group(1)]
    else:
        if not written:
            return None  # a bare number (a year, a label) is no quantity
        value = parse_number(re.split(r"\s*[-—~～至到]\s*", number)[-1])
        unit, scale = _UNIT_ALIASES[written], _UNIT_SCALE.get(written, 1)
    if value is None:
        return None
    return Quantity(value * scale, unit, _bound(match), match.group(0).strip())


def _bound(match: re.Match) -> str | None:
    before, after = match.group("before") or "", match.group("after") or ""
    if re.fullmatch(_MAX_BEFORE, before) or re.fullmatch(_MAX_AFTER, after):
        return "max"
    if before or after:
        return "min"
    return None


def normalise_quantities(text: str) -> str:
    """Each quantity written in digits with its canonical unit: 十五个工作日 → 15工作日,
    两小时内 → 2小时内, 万分之五 → 0.05% (bounds kept as written; dates untouched)."""
    text = half_width_digits(text)
    masked = _without_dates(text)
    pieces, last = [], 0
    for match in QUANTITY_RE.finditer(masked):
        quantity = _quantity(match)
        if quantity is None:
            continue
        unit = "个月" if quantity.unit == "月" else quantity.unit
        pieces += [text[last:match.start()], match.group("before") or "",
                   f"{quantity.value:g}{unit}", match.group("after") or ""]
        last = match.end()
    return "".join(pieces) + text[last:]


def conditions_in(question: str) -> tuple[Quantity, ...]:
    """The bounded quantities a question states as its case (病了超过两个月, 工龄不到十年,
    500张以上的医院), not the one it asks for."""
    return tuple(q for q in find_quantities(question) if q.bound)


def other_case(conditions: tuple[Quantity, ...], text: str) -> Quantity | None:
    """The question's condition that `text` states only with the opposite bound (工作年限满
    十年的 for 工龄不到十年): the text rules the other case. None when it rules no other."""
    stated = find_quantities(own_words(matching_text(text))) if conditions else []
    for asked in conditions:
        bounds = [q.bound for q in stated if q.unit == asked.unit and q.value == asked.value]
        if bounds and asked.bound not in bounds and all(bounds):
            return asked
    return None


# 多久考一次 is answered by a frequency as well: 每季度, 每两年, 每年.
_FREQUENCY = re.compile(r"[每按]\s*(?:个)?(?:月|季度?|年|周|半年|日|天)|季度")


def states_quantity_of(text: str, family: str) -> bool:
    """`text` states a quantity of a unit the asked `family` accepts (days: 15日, 十个工作日,
    1周; persons: 不少于2名; money: 二百元; ratio: 百分之三, 5‰, 10个百分点)."""
    accepted = FAMILY_ACCEPTS.get(family, {family})
    text = own_words(matching_text(text))
    if family == "duration" and _FREQUENCY.search(text):
        return True
    return any(q.family in accepted for q in find_quantities(text))


# How a question asks for each family in plain words. Order matters: the first match wins
# (多少个工作日 before 多少天; 几个人 before a bare 几个).
_ASK = r"(?<!哪)(?:多少|几|多长|多久|多大|多高)"  # 哪几天 asks which days, not how many
QUANTITY_ASKED = (
    ("days", re.compile(rf"{_ASK}\s*(?:个)?(?:工作日|天|日(?!期))|几周|多少周")),
    # 几点 asks a clock time, not hours
    ("hours", re.compile(rf"{_ASK}\s*(?:个)?(?:小时|钟头|分钟|学时|课时)")),
    ("months", re.compile(rf"{_ASK}\s*个月")),
    ("years", re.compile(rf"{_ASK}\s*年(?!级|龄|纪)")),
    ("fine", re.compile(r"罚多少|罚款(?:是|有|标准是)?多少|罚款数额")),
    (
        "money",
        re.compile(
            rf"多少钱|{_ASK}\s*(?:块|元|万元|亿元)|赔多少|补贴多少|"
            r"(?:多少|几)[\u4e00-\u9fff]{0,3}?(?:费|补贴|补助|奖金|津贴)|"
            r"(?:费用?|金额|补助|补贴|奖励)(?:是|有|标准是)?多少"
        ),
    ),
    (
        "ratio",
        re.compile(
            r"百分之几|(?:比例|比率|率|占比|降幅|幅度)(?:是|要|应|最多|最少|能|"
            r"不能|达到|为)?.{0,4}多少|多少倍|几倍|几成|多少个百分点|降多少|低多少"
        ),
    ),
    (
        "age",
        re.compile(
            r"多大年纪|多大岁数|多少岁|几岁|多大(?:的|以下|以上)?(?:孩子|儿童|员工|年龄)|"
            r"多大年龄"
        ),
    ),
    (
        "persons",
        re.compile(
            r"(?:多少|几)\s*(?:名|位)(?!次)|(?:多少|几)\s*(?:个)?[\u4e00-\u9fff]{0,8}?"
            r"(?:人|员|医生|师|护士|司机|专家)(?!民|口|均|单位|会|次|范)"
        ),
    ),
    ("cases", re.compile(r"(?:多少|几)\s*(?:个)?(?:病)?例")),
    ("temperature",
     re.compile(r"多少\s*(?:度|℃)|(?:体温|温度)[^？?，,]{0,4}多少|多高的?(?:体温|温度)")),
    ("volume", re.compile(r"多少\s*(?:毫升|ml|mL|升)|多少血")),
    ("weight", re.compile(r"多少\s*(?:克|毫克|公斤|千克|斤)|多重")),
    ("area", re.compile(r"多少\s*(?:平方米|平米|㎡|亩)|多大(?:的)?面积|面积[^？?，,]{0,4}多少")),
    ("length", re.compile(r"多少\s*(?:米|公里|千米)|多远")),
    ("duration", re.compile(r"多久|多长时间|多少时间|多长期限|期限是多少|多长")),
)


def asked_quantities(question: str) -> tuple[str, ...]:
    """Every unit family the question asks for, in the order it asks (有效期是几年，到期前多久
    要申请延续 → years, duration); a span already read for one family counts for no other."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for family, pattern in QUANTITY_ASKED:
        for match in pattern.finditer(question):
            if not any(s < match.end() and match.start() < e for s, e in taken):
                taken.append(match.span())
                found.append((match.start(), family))
    return tuple(dict.fromkeys(family for _, family in sorted(found)))


def asked_quantity(question: str) -> str | None:
    """The unit family a question asks for in plain words (the first it asks), or None."""
    return next(iter(asked_quantities(question)), None)


# --- who and what a question is about: roles, issuers, programmes (issue 26) ------------
# A rule for 医师 does not answer a question about 护士; one for 女职工 none about 男职工.
# Each group a question may name → the words a text applying to it uses.
ROLE_FORMS: dict[str, tuple[str, ...]] = {
    "企业职工": ("企业职工",),
    "国家机关工作人员": ("国家机关工作人员", "机关工作人员"),
    "机关事业单位工作人员": ("机关事业单位",),
    "公务员": ("公务员", "国家机关工作人员", "机关工作人员"),
    "城镇职工": ("城镇职工",),
    "城乡居民": ("城乡居民",),
    "农村居民": ("农村居民", "农民"),
    "退休人员": ("退休",),
    "灵活就业人员": ("灵活就业",),
    "农民工": ("农民工",),
    "男职工": ("男职工", "男方", "配偶"),
    "女职工": ("女职工", "妇女"),
    "护士": ("护士", "护理人员"),
    "乡村医生": ("乡村医生", "乡村医疗卫生人员", "村医"),
    "村医": ("乡村医生", "村医"),
    "药师": ("药师",),
    "儿童": ("儿童",),
    "婴幼儿": ("婴幼儿",),
    "幼儿园": ("幼儿园", "托幼"),
    "老年人": ("老年人",),
    "残疾人": ("残疾人",),
    "小学生": ("小学",),
    "中学生": ("中学",),
    "大学生": ("大学", "高等学校"),
    "研究生": ("研究生",),
    "外籍人员": ("外籍", "外国人"),
    "港澳台": ("港澳台", "香港", "澳门", "台湾"),
    "商业保险": ("商业保险", "商业健康保险"),
    "民营医院": ("民营医院", "社会办医"),
    "个体工商户": ("个体工商户",),
    "军人": ("军人", "军队"),
}
_ROLE_RE = re.compile("|".join(sorted(map(re.escape, ROLE_FORMS), key=len, reverse=True)))
# 一级医院 / 二级以上医院 / 三级医疗机构: a rule for 二级以上 covers 三级, not 一级.
_LEVEL_RE = re.compile(r"([一二三])级(及以上|以上)?(?:公立)?(?:医院|医疗机构)")
_LEVEL_IN_TEXT = re.compile(r"([一二三])级(及以上|以上)?")


# The post that leads a group in a roster (组长：某某): the person in charge of what the group
# does, when a question asks 谁负责… without naming a post.
LEAD_POSTS = frozenset({"组长", "负责人", "牵头人", "召集人", "主任", "队长", "总指挥"})
# A post a question asks the holder of (分析研判组组长由谁担任, 常务副总指挥是谁): a clause
# that never names the post does not say who holds it.
# The group it heads may come first (宣传组组长, 办公室主任): that group must be the clause's.
_POST_ASKED = re.compile(
    r"(?P<group>[\u4e00-\u9fff]{1,8}(?:组|办公室|中心|队))?的?"
    r"(?P<post>常务副总指挥|副总指挥|总指挥|副组长|组长|副主任|主任|负责人|牵头人|召集人|副队长"
    r"|队长|联络员)(?:是谁|由谁|谁来?担任|是哪位|叫什么)")


def post_asked(question: str) -> tuple[str, str | None] | None:
    """The post a question asks the holder of, and the words before it ending in a group
    (…指挥部宣传组组长由谁担任 → (组长, 媒防控指挥部宣传组): the group is some ending of
    them, 宣传组); None when it asks for no post."""
    found = _POST_ASKED.search(question)
    return (found["post"], found["group"]) if found else None


def group_named(words: str, texts: list[str]) -> str:
    """The group `words` end with (`post_asked`): their longest ending that some of `texts`
    holds (分析研判组, not 分中心的分析研判组), else their last three characters (宣传组)."""
    endings = [words[i:] for i in range(len(words) - 2)]
    return next((e for e in endings if any(e in t for t in texts)), words[-3:])


def roles_in(text: str) -> tuple[str, ...]:
    """The groups `text` names (企业职工, 护士, 一级医院, 二级以上医院)."""
    found = _ROLE_RE.findall(text) + [m.group(0) for m in _LEVEL_RE.finditer(text)]
    return tuple(dict.fromkeys(found))


def role_met(role: str, text: str) -> bool:
    """`text` applies to `role`: names it in one of its forms (a hospital level: that level,
    or a lower one with 以上)."""
    level = _LEVEL_RE.fullmatch(role)
    if level is None:
        return any(form in text for form in ROLE_FORMS.get(role, (role,)))
    asked = cn_to_int(level.group(1))
    for found in _LEVEL_IN_TEXT.finditer(text):
        stated = cn_to_int(found.group(1))
        if stated == asked or (found.group(2) and stated <= asked):
            return True
    return False


# An issuing body named as the issuer: 国家医保局印发的…, 国务院发布的….
_ISSUER_ASKED = re.compile(
    r"(国务院(?:办公厅)?|(?:国家|中央)[\u4e00-\u9fff]{1,10}?(?:委员会|总局|委|局|部|署|办公厅|办公室)"
    r"|[\u4e00-\u9fff]{1,6}?(?:省|市|区|县)(?:人民政府|政府|卫生健康委员会|卫健委|卫生健康局|卫健局|"
    r"医疗保障局|医保局|人社厅|人社局|办公厅|办公室|指挥部))"
    r"(?=(?:联合)?(?:印发|发布|出台|制定|下发|发的|发文))")
# Short and full names of bodies, one form for comparing (卫健委 = 卫生健康委员会).
_ISSUER_FORMS = (("卫健", "卫生健康"), ("医保局", "医疗保障局"), ("人社", "人力资源和社会保障"),
                 ("发改委", "发展改革委"), ("发展和改革", "发展改革"), ("委员会", "委"),
                 ("市场监管", "市场监督管理"))


def issuers_in(question: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_ISSUER_ASKED.findall(question)))


def issuer_form(text: str) -> str:
    """The comparable form of a body's name (or of a text naming bodies)."""
    text = matching_text(text)
    for short, full in _ISSUER_FORMS:
        text = text.replace(short, full)
    return text


def issuer_met(issuer: str, text: str) -> bool:
    return issuer_form(issuer) in issuer_form(text)


# A plan or programme named by its name: 健康中国2030规划纲要, DRG/DIP三年行动计划.
_PROGRAMME_RE = re.compile(
    r"(?:^|(?<=[，。？！、《“”\s]))(?:按照|根据|依据|关于|落实)?"
    r"([A-Za-z0-9/“”\u4e00-\u9fff]{2,24}?(?:规划纲要|行动计划|实施方案|工作方案|工作要点))")
_NAME_NOISE = re.compile(r"[《》“”\"'「」\s·]")


def programmes_in(question: str) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            m
            for m in _PROGRAMME_RE.findall(question)
            if not re.search(r"的|什么|哪|怎么|如何|这|那|该|本|此|有关|相关", m)
        )
    )


def name_form(name: str) -> str:
    """A document or programme name without quotes, brackets or spaces, for comparing."""
    return _NAME_NOISE.sub("", name).removeprefix(_COUNTRY_PREFIX)

"""The one analysis of a question: a typed `Query`, built once per ask.

Retrieval, the abstention gate, the evidence model and every backend read the same
`Query` instead of re-analysing the question text (jieba, places, years, 文号) each on
its own. A follow-up (那开州区呢？) is rewritten into its standalone form first
(`rewrite_followup`); the Query analyses that standalone text and keeps the user's
words in `asked`.

>>> q = analyse("四川省2021年在哪些城市开展三医联动改革试点？")
>>> q.places, q.years, q.kind
(('四川省',), ('2021',), 'fact')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from assistant.lexicon import PLACE_SUFFIXES as _PLACE_SUFFIXES
from assistant.lexicon import YEAR_IN_TEXT as _YEAR_RE
from assistant.lexicon import find_doc_numbers

QueryKind = Literal["fact", "responsibility", "document", "spanning"]

STOPWORDS = frozenset(  # a word list reads best as one string
    (  # noqa: SIM905
    "的 了 吗 呢 吧 啊 是 在 有 和 与 及 或 对 为 以 从 把 被 哪些 哪个 哪里 哪 什么 怎么 怎样 如何 "
    "是否 多少 几 谁 何时 什么时候 那 那么 这 这个 那个 一下 请问 请 要求 规定 提出 关于 中 "
    "上 下 前 后 等 其 该 各 个 需要 可以 能否 应当 应该 主要 相关 有关 方面 内容 工作 文件 通知"
    ).split())
_GENERIC_PLACES = frozenset({"城市", "地区", "地方", "全省", "全市", "全区", "全州", "各地", "本地",
                             "中华人民共和国", "中国", "全国", "我国"})

_MULTI_DOC_RE = re.compile(r"哪些文件|哪几份|各地|哪些地方|哪些地区|各市|各省|分别|不同地区|几个文件|哪些地市")
_META_PATTERNS = {
    "status": re.compile(r"已(经)?失效|是否(仍然|还)?有效|(正式)?(施行|生效)了吗|是否(正式)?(施行|生效)|有效性|是否失效|失效了|废止|还有效|仍有效|是否现行|征求意见稿"),
    "date": re.compile(r"(何时|哪天|哪一天|什么时候|什么时间|哪年)(印发|发布|出台|成文|签发|下发)|成文日期|发布日期|"
                       r"(印发|签发|发布)(时间|日期)"),
    "issuer": re.compile(r"发文机关|发文单位|哪个(部门|单位|机关)(印发|发布|制定|发的)|由谁(印发|发布)|谁发的|"
                         r"印发单位|发布机构"),
    "basis": re.compile(r"(根据|依据)(哪个|哪份|哪些|什么|中央哪份|国务院哪个).{0,8}制定|是(根据|依据)哪"),
    "addressee": re.compile(r"发给(了)?(哪些|谁)|主送|印发给哪些|下发给"),
    "number": re.compile(r"文号是|什么文号|文号为|发文字号"),
}


@lru_cache(maxsize=2048)
def content_terms(text: str) -> tuple[str, ...]:
    """jieba search-mode tokens of `text` worth matching: no stopwords, no punctuation."""
    import jieba

    tokens = (t.strip() for t in jieba.cut_for_search(text))
    return tuple(dict.fromkeys(
        t for t in tokens
        if t and t not in STOPWORDS and (len(t) >= 2 or t.isdigit()) and _is_wordlike(t)))


def _is_wordlike(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


@lru_cache(maxsize=2048)
def places(text: str) -> tuple[str, ...]:
    """Named places (四川省, 开州区, 成都市) jieba finds in `text`."""
    import jieba.posseg

    return tuple(dict.fromkeys(
        p.word for p in jieba.posseg.cut(text)
        if p.flag == "ns" and len(p.word) >= 2 and p.word not in _GENERIC_PLACES))


_QUANTITY_RE = re.compile(r"(?<!哪)(?:多少|几)\s*(万元|亿元|元|人|张|所|家|个|项|次|岁|天|床)")
_RATE_RE = re.compile(r"(比例|率).{0,8}(多少|几)")
_NUMERAL = r"[\d０-９一二三四五六七八九十百千万两]"


def asked_units(question: str) -> list[str]:
    """Units of a quantity the question asks for (多少元 → 元, 几所 → 所)."""
    units = _QUANTITY_RE.findall(question)
    if _RATE_RE.search(question):
        units.append("%")  # 比例/覆盖率是多少: the answer is a percentage
    return list(dict.fromkeys(units))


# Units a text may state the asked-for quantity in: 多少天 is answered by 30日内, 10个工作日.
_UNIT_FORMS = {"天": "天|日", "岁": "岁|周岁", "人": "人|名"}


def states_quantity(text: str, unit: str) -> bool:
    if unit == "%":
        return re.search(r"\d\s*[%％]|百分之", text) is not None
    # Up to three characters may sit between the number and the unit (45周岁, 10个工作日).
    forms = _UNIT_FORMS.get(unit, re.escape(unit))
    return re.search(f"{_NUMERAL}[\\u4e00-\\u9fa5]{{0,3}}(?:{forms})", text) is not None


# A number the question states (床位在500张以上): the evidence must state it too. Years and
# the numbers inside a 文号 are handled apart.
_STATED_NUMBER_RE = re.compile(
    r"(?<![\d.〔\[第])(\d+(?:\.\d+)?)(?![\d.]|\s*年|\s*[〕\]]|\s*[号条项款])")


def stated_numbers(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_STATED_NUMBER_RE.findall(text)))


# A regulation named in so many words at the start of a clause of the question
# (北京市医疗保障条例对…, 《…规定》): if the corpus has no such document, nothing answers it.
_NAMED_TITLE_RE = re.compile(
    r"(?:^|(?<=[，。？！、《“\s]))([\u4e00-\u9fff]{2,30}?(?:条例|办法|规定|细则|法(?!院|律|规(?!定))))")
_NOT_A_TITLE = re.compile(r"什么|哪|怎么|怎样|如何|按照|根据|依照|有关|相关|这部|那部")


_ISSUER_PREFIXES = ("中华人民共和国", "最高人民法院", "最高人民检察院", "国务院", "全国")


def named_titles(text: str) -> tuple[str, ...]:
    """Regulation names the question writes as names: in 《》, or opening with a place or
    a national issuer (北京市医疗保障条例, 最高人民法院关于…的规定). A bare 违法/疗法/规定
    is a word, not a name."""
    quoted = re.findall(r"《([^》]{3,40})》", text)
    found = [m for m in _NAMED_TITLE_RE.findall(text) if not _NOT_A_TITLE.search(m)
             and (m.startswith(_ISSUER_PREFIXES) or any(m.startswith(p) for p in places(m)))]
    return tuple(dict.fromkeys(quoted + found))


_QUOTED_RE = re.compile(r"[“\"「]([^”\"」]{2,20})[”\"」]")


def quoted_terms(text: str) -> list[str]:
    """Terms the question quotes (“五有三严”): matched verbatim."""
    return _QUOTED_RE.findall(text)


def years(text: str) -> list[str]:
    return list(dict.fromkeys(_YEAR_RE.findall(text)))


def doc_numbers(text: str) -> list[str]:
    """Every 文号 written in `text`, normalised (the parser's own recogniser)."""
    return find_doc_numbers(text)


def place_forms(place: str) -> tuple[str, ...]:
    """The place and its name without the administrative suffix (四川省 → 四川)."""
    if place.endswith(_PLACE_SUFFIXES) and len(place) > 2:
        return (place, place[:-1])
    return (place,)


def spans_documents(question: str) -> bool:
    """The question asks across documents or regions (哪些文件…, 各地…)."""
    return bool(_MULTI_DOC_RE.search(question))


_STATUS_WORDS = {"失效": "失效", "废止": "失效", "征求意见稿": "征求意见稿", "有效": "有效"}
_WHICH_DOC_RE = re.compile(r"哪份|哪些|哪个|哪几份|哪一份")


def asked_status(question: str) -> str | None:
    """'失效' / '征求意见稿' / '有效' when the question asks which documents have that status."""
    if not _WHICH_DOC_RE.search(question):
        return None
    return next((v for k, v in _STATUS_WORDS.items() if k in question), None)


def meta_kinds(question: str) -> list[str]:
    """Which document facts (status, date, issuer, number) the question asks about."""
    kinds = [kind for kind, pattern in _META_PATTERNS.items() if pattern.search(question)]
    if "number" in kinds and doc_numbers(question):
        kinds.remove("number")  # 川办函〔…〕中提到的方案文号是什么 asks about a cited document
    return kinds


_ASKS_DUTY_RE = re.compile(r"负责|牵头|责任单位|哪个部门|哪些部门|哪些单位|哪个单位|由谁")


def asks_duty(question: str) -> bool:
    """The question asks who is responsible (哪个部门牵头…)."""
    return bool(_ASKS_DUTY_RE.search(question))


# --- follow-ups
_LEAD_RE = re.compile(r"^(那么|那|还有|另外|再问一下|如果是)\s*")
_TAIL_RE = re.compile(r"(的情况|怎么样|又如何|如何)?\s*(呢|吗)?\s*[？?。!！]*$")
MAX_FOLLOWUP_CHARS = 16
# Administrative level of a place by its suffix, and of the sub-units a question asks for
# (在哪些城市): a 区 has no 城市 within it, so that part of the question cannot carry over.
_LEVEL = {"省": 4, "自治区": 4, "市": 3, "州": 3, "盟": 3, "区": 2, "县": 2, "旗": 2, "镇": 1, "乡": 1}
_SUBUNITS_RE = re.compile(r"在?(哪些|哪几个|哪个)(城市|地市|市州|市|州|县区|区县|县|区|乡镇|地区|地方)")
_SUBUNIT_LEVEL = {"城市": 3, "地市": 3, "市州": 3, "市": 3, "州": 3, "县区": 2, "区县": 2,
                  "县": 2, "区": 2, "乡镇": 1, "地区": 3, "地方": 3}


def is_followup(question: str) -> bool:
    q = question.strip()
    return len(q) <= MAX_FOLLOWUP_CHARS and bool(_LEAD_RE.match(q) or re.search(r"呢\s*[？?]?$", q))


def previous_question(history: list[dict] | None) -> str | None:
    for turn in reversed(history or []):
        if turn.get("role") == "user" and str(turn.get("content", "")).strip():
            return str(turn["content"]).strip()
    return None


def place_level(place: str) -> int | None:
    return next((level for suffix, level in _LEVEL.items() if place.endswith(suffix)), None)


def rewrite_followup(question: str, history: list[dict] | None) -> str:
    """The standalone question a follow-up stands for; other questions come back unchanged.

    A new year replaces the previous question's year, a new place its place (dropping an
    ask for sub-units the new place cannot have: 四川省在哪些城市… → 开州区…); any other
    topic is put in front of the previous question (关于X，…).
    """
    previous = previous_question(history)
    if not previous or not is_followup(question):
        return question
    entity = _TAIL_RE.sub("", _LEAD_RE.sub("", question.strip())).strip()
    if not entity:
        return previous
    if years(entity):
        if years(previous):
            return previous.replace(years(previous)[0], years(entity)[0], 1)
        return f"{entity}{previous}"
    if places(entity) or place_level(entity):
        return _with_place(previous, entity)
    return f"关于{entity}，{previous}"


def _with_place(previous: str, place: str) -> str:
    old = places(previous)
    text = previous.replace(old[0], place, 1) if old else f"{place}{previous}"
    level = place_level(place) or 0
    asked = _SUBUNITS_RE.search(text)
    if asked and _SUBUNIT_LEVEL[asked.group(2)] >= level:
        text = text[:asked.start()] + text[asked.end():]
    return text


# --- the Query
@dataclass(frozen=True)
class Query:
    """What a question asks, analysed once per ask.

    text: the standalone question that retrieval and the gate use (a rewritten follow-up);
    asked: the user's own words; terms: content words (jieba, no stopwords); places, years,
    doc_numbers (文号 named), quoted (terms in quotes, matched verbatim), units (of an
    asked-for quantity: 多少元 → 元); meta: the document facts it asks for (status, date,
    issuer, number, basis, addressee); spanning: it asks across documents in so many words
    (哪些文件, 各地); asks_duty: it asks who is responsible; status_asked: the status of
    the documents it asks for (哪份文件已失效 → 失效).
    """

    text: str
    asked: str
    terms: tuple[str, ...]
    places: tuple[str, ...]
    years: tuple[str, ...]
    doc_numbers: tuple[str, ...]
    quoted: tuple[str, ...]
    units: tuple[str, ...]
    numbers: tuple[str, ...]
    titles: tuple[str, ...]
    meta: tuple[str, ...]
    spanning: bool
    asks_duty: bool
    status_asked: str | None

    @property
    def kind(self) -> QueryKind:
        if self.meta:
            return "document"
        if self.spanning:
            return "spanning"
        return "responsibility" if self.asks_duty else "fact"

    @property
    def rewritten(self) -> bool:
        """A follow-up whose standalone form differs from what the user typed."""
        return self.text != self.asked


@lru_cache(maxsize=4096)
def _analysed(text: str, asked: str) -> Query:
    return Query(
        text=text, asked=asked, terms=content_terms(text), places=places(text),
        years=tuple(years(text)), doc_numbers=tuple(doc_numbers(text)),
        quoted=tuple(quoted_terms(text)), units=tuple(asked_units(text)),
        numbers=stated_numbers(text), titles=named_titles(text),
        meta=tuple(meta_kinds(text)), spanning=spans_documents(text),
        asks_duty=asks_duty(text), status_asked=asked_status(text))


def analyse(question: str, history: list[dict] | None = None) -> Query:
    """The Query of `question`; a follow-up is rewritten against the previous user turn."""
    asked = question.strip()
    return _analysed(rewrite_followup(asked, history).strip(), asked)


def as_query(question: str | Query) -> Query:
    """Either form at a stage boundary: a plain string is analysed without history."""
    return question if isinstance(question, Query) else analyse(question)

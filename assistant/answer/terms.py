"""What a question asks about: its content words, named places, years and kind.

Shared by the abstention gate, the extractive backend and the follow-up rewrite.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.answer.citations import doc_numbers_in
from assistant.lexicon import PLACE_SUFFIXES as _PLACE_SUFFIXES
from assistant.lexicon import YEAR_IN_TEXT as _YEAR_RE

STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 是 在 有 和 与 及 或 对 为 以 从 把 被 哪些 哪个 哪里 哪 什么 怎么 怎样 如何 "
    "是否 多少 几 谁 何时 什么时候 那 那么 这 这个 那个 一下 请问 请 要求 规定 提出 关于 中 "
    "上 下 前 后 等 其 该 各 个 需要 可以 能否 应当 应该 主要 相关 有关 方面 内容 工作 文件 通知".split())
_GENERIC_PLACES = frozenset({"城市", "地区", "地方", "全省", "全市", "全区", "全州", "各地", "本地"})

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


def states_quantity(text: str, unit: str) -> bool:
    if unit == "%":
        return re.search(r"\d\s*[%％]|百分之", text) is not None
    # One character may sit between the number and the unit (45周岁, 3所).
    return re.search(f"{_NUMERAL}[\\u4e00-\\u9fa5]?{unit}", text) is not None


_QUOTED_RE = re.compile(r"[“\"「]([^”\"」]{2,20})[”\"」]")


def quoted_terms(text: str) -> list[str]:
    """Terms the question quotes (“五有三严”): matched verbatim."""
    return _QUOTED_RE.findall(text)


def years(text: str) -> list[str]:
    return list(dict.fromkeys(_YEAR_RE.findall(text)))


def doc_numbers(text: str) -> list[str]:
    return doc_numbers_in(text)


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

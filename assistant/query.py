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
from functools import cached_property, lru_cache
from typing import Literal

from assistant.lexicon import (
    LEAD_POSTS,
    Quantity,
    Synonyms,
    asked_quantities,
    conditions_in,
    find_doc_numbers,
    int_to_cn,
    issuers_in,
    jieba_module,
    jieba_tagger,
    load_synonyms,
    matching_text,
    own_words,
    programmes_in,
    region_parts,
    roles_in,
)
from assistant.lexicon import PLACE_SUFFIXES as _PLACE_SUFFIXES
from assistant.lexicon import YEAR_IN_TEXT as _YEAR_RE

QueryKind = Literal["fact", "responsibility", "document", "spanning"]

STOPWORDS = frozenset(  # a word list reads best as one string
    (  # noqa: SIM905
        "的 了 吗 呢 吧 啊 是 在 有 和 与 及 或 对 为 以 从 把 被 "
        "哪些 哪个 哪里 哪 什么 怎么 怎样 如何 是否 多少 几 谁 何时 什么时候 "
        "那 那么 这 这个 那个 一下 请问 请 要求 规定 提出 关于 中 上 下 前 后 等 其 该 各 个 "
        "需要 可以 能否 应当 应该 主要 相关 有关 方面 内容 工作 文件 通知"
    ).split()
)
_GENERIC_PLACES = frozenset({"城市", "地区", "地方", "全省", "全市", "全区", "全州", "各地", "本地",
                             "中华人民共和国", "中国", "全国", "我国",
                             # kinds of place, not places: 每个镇街抽几个村居
                             "镇街", "乡镇", "街道", "区县", "县区", "市县", "省市", "村居"})

_CHANGE_RE = re.compile(
    r"(修订|修改|修正|新版|新旧)[^。？?]{0,40}?(变化|变动|改动|不同|区别|调整|修改了什么|改了什么)"
    r"|(变化|改动|区别|不同)[^，。？?]{0,6}(修订|修改|修正|新旧|前后)")
_MULTI_DOC_RE = re.compile(
    r"哪些文件|哪几份|各地|哪些地方|哪些地区|各市|各省|分别|不同地区|几个文件|哪些地市"
)
_META_PATTERNS = {
    "status": re.compile(
        r"已(经)?失效|是否(仍然|还)?有效|(正式)?(施行|生效)了吗|是否(正式)?(施行|生效)|有效性|是否失效|失效了|废止|还有效|仍有效|是否现行|征求意见稿"
        r"|现行(的)?(版本|文本)|最新(的)?版本|(是否|有没有|有无)(被)?修订|被修订"
    ),
    "date": re.compile(
        r"(何时|哪天|哪一天|什么时候|什么时间|哪年)(印发|发布|出台|成文|签发|下发)|成文日期|发布日期|"
        r"(印发|签发|发布)(时间|日期)"
    ),
    "issuer": re.compile(
        r"发文机关|发文单位|哪个(部门|单位|机关)(印发|发布|制定|发的)|由谁(印发|发布)|谁发的|"
        r"印发单位|发布机构"
    ),
    "basis": re.compile(
        r"(根据|依据)(哪个|哪份|哪些|什么|中央哪份|国务院哪个).{0,8}制定|是(根据|依据)哪"
    ),
    "addressee": re.compile(r"发给(了)?(哪些|谁)|主送|印发给哪些|下发给"),
    "number": re.compile(r"文号是|什么文号|文号为|发文字号"),
    # When the document takes effect (not whether it is in force: 施行了吗 is a status question).
    "effective": re.compile(
        r"(何时|哪天|哪一天|哪年|几号|什么时候|什么时间|从哪天|从什么时候|从何时)(起|开始)?"
        r"(正式)?(施行|生效|实行|实施|执行|管用|开始用|起用)的?(?:[？?。，,；;]|$)|(施行|生效)(日期|时间)"
    ),
}


# The unit of an asked amount ends a word: jieba would run it into the next one (多少天计薪 →
# 天计薪, 多少人才能 → 人才, 多少个市 → 个市), a term no clause writes, or a wrong one.
_ASKED_UNIT_END = re.compile(
    r"((?:多少|几|哪)(?:个?[天日周人名次元岁张家所项条位](?:内|起|前|后)?|个))(?=[\u4e00-\u9fff])")


@lru_cache(maxsize=2048)
def content_terms(text: str) -> tuple[str, ...]:
    """jieba search-mode tokens of `text` worth matching: no stopwords, no punctuation."""
    text = _ASKED_UNIT_END.sub(r"\1 ", text)
    tokens = (t.strip() for t in jieba_module().cut_for_search(text))
    return tuple(dict.fromkeys(
        t for t in tokens
        if t and t not in STOPWORDS and (len(t) >= 2 or t.isdigit()) and _is_wordlike(t)))


def _is_wordlike(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


# A town jieba's dictionary lacks (乐从镇, 陈村镇): two characters and 镇, not a kind of
# place (城镇, 乡镇, 小镇, 街镇, 每个镇, 镇街) nor words run into it (哪些街镇, 整改的镇街).
_TOWN = re.compile(r"[\u4e00-\u9fff][^\W\d_城乡集小各全本该个每区县市省州的和些重街]镇(?!街)")


# A place naming whose body the question asks about (均安镇蚊媒指挥部, 南海区卫健局): that
# body's own document answers, not one that mentions the place in passing.
_BODY_AFTER_PLACE = re.compile(
    r"^[\u4e00-\u9fff]{0,10}?(?:指挥部|领导小组|人民政府|卫生健康局|卫健局|卫生健康委|卫健委"
    r"|医保局|医疗保障局|疾控中心|疾病预防控制中心)")


def body_places(text: str, named: tuple[str, ...]) -> tuple[str, ...]:
    """The `named` places the question names a body of: 均安镇 in 均安镇蚊媒指挥部的总指挥是谁."""
    return tuple(p for p in named
                 if any(_BODY_AFTER_PLACE.match(text[m.end():])
                        for m in re.finditer(re.escape(p), text)))


def named_places(text: str, known: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """`places(text)`, then the `known` places (the corpus's: `IndexReader.places`) that
    `text` names and the tokenizer did not find (新会区, 武侯区)."""
    found = list(places(text))
    found += [k for k in sorted(known, key=len, reverse=True)
              if k in text and not any(k in p or p in k for p in found)]
    return tuple(found)


@lru_cache(maxsize=2048)
def places(text: str) -> tuple[str, ...]:
    """Named places (四川省, 开州区, 成都市) jieba finds in `text`, and towns (乐从镇)."""
    found = [p.word for p in jieba_tagger().cut(text)
             if p.flag == "ns" and len(p.word) >= 2 and p.word not in _GENERIC_PLACES]
    found += [t for t in _TOWN.findall(text) if not any(t in p or p in t for p in found)]
    return tuple(dict.fromkeys(found))


_QUANTITY_RE = re.compile(
    r"(?<!哪)(?:多少|几)\s*(万元|亿元|元|人|张|所|家|个|项|次|岁|天|床|辆|台|套|间|支|批)")
_RATE_RE = re.compile(r"(比例|率).{0,8}(多少|几)")
_NUMERAL = r"[\d０-９一二三四五六七八九十百千万两]"


def asked_units(question: str) -> list[str]:
    """Units of a quantity the question asks for (多少元 → 元, 几所 → 所)."""
    units = _QUANTITY_RE.findall(question)
    if "多少钱" in question:
        units.append("元")
    if _RATE_RE.search(question):
        units.append("%")  # 比例/覆盖率是多少: the answer is a percentage
    return list(dict.fromkeys(units))


# A question asking for an amount, a time span or an ordinal (多少, 几天, 多久, 多大年纪, 第几)
# is answered only by a text that states a number. Counts of things (几种情形, 哪几个, 多少项
# 措施) are answered by a list as well, so they ask for no number.
_AMOUNT_ASKED_RE = re.compile(r"第几|多久|多长时间|多长|多大年纪|多大岁数|多高|"
                              r"(?<!哪)(?:多少|几(?!乎))(?![种类项条款个方面部分批家所])")
_NUMBER_STATED_RE = re.compile(
    rf"[\d０-９]|百分之|{_NUMERAL}[\u4e00-\u9fa5]{{0,3}}?(?:个|项|所|家|名|人|天|日|周|月|年|岁|倍|次|"
    r"张|元|级|类|批|阶段|小时|毫升|床|成|分之)|[每按](?:月|季度?|年|周|半年|日|天)|季度")


# A question asking when a measure happens (什么时候, 何时, 哪年) is answered only by a text
# stating a time: a year, month or day, a deadline (年底前, 之日起) or a span (30个工作日).
_WHEN_ASKED_RE = re.compile(r"什么时候|何时|哪年|哪一年|什么时间|哪天|哪一天|哪几天|几月")
_TIME_STATED_RE = re.compile(
    rf"\d{{4}}\s*年|{_NUMERAL}{{1,3}}\s*(?:个)?(?:月|日|天|年|工作日)|之日|日起|年底|年末|月底|年内|"
    r"以前|之前|届满|当年|次年|每年|期限|期间|同步|同时")


# 工伤保险条例说的工资总额是什么意思 / 什么是停工留薪期 / 分别负责指的是什么: the term whose
# definition is asked for (laws define their terms: 本条例所称工资总额，是指…).
_DEFINITION_ASK = (
    r"(?:是什么意思|是指什么|指的是什么|指什么|的含义是什么|的意思是什么|怎么定义|如何定义)"
)
_DEFINITION_RES = (
    re.compile(rf"[“\"](?P<term>[^”\"]{{2,16}})[”\"]{_DEFINITION_ASK}"),
    re.compile(r"^(?:请问)?(?:.*?(?:说的|所说的|所称的?|里的|中的|规定的))?[“\"]?(?P<term>[^，。？?“”\"]{2,16}?)[”\"]?"
               + _DEFINITION_ASK),
    re.compile(r"^(?:请问)?什么(?:是|叫)[“\"]?(?P<term>[^，。？?“”\"]{2,16}?)[”\"]?[？?]?$"),
)


def defined_term(question: str) -> str | None:
    """The term a question asks the definition of, or None."""
    for pattern in _DEFINITION_RES:
        found = pattern.search(question.strip())
        if found:
            return found.group("term")
    return None


def defines(text: str, term: str) -> bool:
    """The text defines `term` the way laws do: 所称工资总额, 工资总额，是指, “分别负责”是指."""
    quoted = f"[“\"]?{re.escape(term)}[”\"]?"
    return re.search(rf"所称{quoted}|{quoted}[，,]?(?:是指|指的是|系指)", text) is not None


def asks_when(question: str) -> bool:
    return _WHEN_ASKED_RE.search(question) is not None


def states_time(text: str) -> bool:
    """The text states a time: 2021年底前, 3月, 自收到申请之日起, 30个工作日, 届满."""
    return _TIME_STATED_RE.search(own_words(text)) is not None


def asks_amount(question: str) -> bool:
    """The question asks for an amount, a span of time or an ordinal (not a list's count)."""
    return _AMOUNT_ASKED_RE.search(question) is not None


def states_number(text: str) -> bool:
    """The text states a number (digits, 十万元, 三级, 每季度, 百分之): what an amount
    question's answer must contain."""
    return _NUMBER_STATED_RE.search(own_words(text)) is not None


# Units a text may state the asked-for quantity in: 多少天 is answered by 30日内, 10个工作日.
# 几个 asks a count in any classifier: 新增5种, 2名, 3类 answer it.
_UNIT_FORMS = {"天": "天|日", "岁": "岁|周岁", "人": "人|名",
               "个": "个|种|项|类|名|人|家|所|批|条|次|辆|台|张|级"}


def states_quantity(text: str, unit: str) -> bool:
    if unit == "%":
        return re.search(r"\d\s*[%％]|百分之", text) is not None
    # Up to three characters may sit between the number and the unit (45周岁, 10个工作日).
    forms = _UNIT_FORMS.get(unit, re.escape(unit))
    return re.search(f"{_NUMERAL}[\\u4e00-\\u9fa5]{{0,3}}(?:{forms})", own_words(text)) is not None


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


# A question about when a document takes effect names the document (条例, 通知, 〔2021〕5号…).
_DOCUMENT_NOUN_RE = re.compile(
    r"法|条例|办法|规定|细则|通知|方案|意见|决定|规矩|法规|文件|〕\s*\d+\s*号"
)


def meta_kinds(question: str) -> list[str]:
    """Which document facts (status, date, issuer, number) the question asks about, in the
    order it asks them: the answer states them in that order (从哪天开始施行，旧的还有效吗
    → the date first)."""
    found = {kind: m.start() for kind, pattern in _META_PATTERNS.items()
             if (m := pattern.search(question))}
    kinds = sorted(found, key=found.get)
    if "number" in kinds and doc_numbers(question):
        kinds.remove("number")  # 川办函〔…〕中提到的方案文号是什么 asks about a cited document
    if "effective" in kinds and not _DOCUMENT_NOUN_RE.search(question):
        kinds.remove("effective")  # DRG付费什么时候开始实施 asks about a measure, not a document
    return kinds



# Who is in charge asks with a question word or names the duty's unit: 由哪个部门牵头,
# 谁负责, 牵头单位是. 能否牵头组建, 负责人会被约谈吗 and 院长负责制 ask something else.
_ASKS_DUTY_RE = re.compile(
    r"哪个部门|哪些部门|哪些单位|哪个单位|什么部门|什么单位|由谁|责任单位"
    r"|(?:牵头|负责|责任)(?:部门|单位)"
    r"|(?:谁|哪)[^，。；？?]{0,6}(?:负责|牵头)(?!制)|(?:负责|牵头)(?!制)[^，。；？?]{0,6}(?:谁|哪)")


def asks_duty(question: str) -> bool:
    """The question asks who is responsible (哪个部门牵头…)."""
    return bool(_ASKS_DUTY_RE.search(question))


# A question asking for a person or a body by name: 总指挥是谁, 组长由谁担任, 谁来审.
_ASKS_WHO_RE = re.compile(r"是谁|由谁|谁来|谁负责|谁担任|谁是|谁管|谁定|谁审|何人|哪位")
# A roster line naming one: 总指挥：唐某某 市委书记.
_ASKS_IN_CHARGE_RE = re.compile(r"谁(?:来)?(?:负责|牵头|管|抓)")
_ROSTER_LINE_RE = re.compile(r"^\s*([^：:，。；]{1,12})\s*[：:]\s*(\S.{1,})$")


def asks_who(question: str) -> bool:
    return _ASKS_WHO_RE.search(question) is not None


def names_who(query: Query, text: str) -> int:
    """How well `text` names the person or body asked for, 0 when it does not: a roster line
    whose label the question names (总 指 挥：唐某某 for 总指挥是谁) scores its label's length,
    so 常务副总指挥：… beats 总指挥：… for 常务副总指挥是谁. (Prose such as 由所在单位按月支付
    is found by its words; `asks_duty` adds the unit in charge of a task.)"""
    line = _ROSTER_LINE_RE.match(text)
    label = matching_text(line.group(1)).strip() if line else ""
    asked = matching_text(query.text)
    if not label:
        return 0
    if label in asked:
        return len(label)
    # 宣传组里谁负责舆情 names no post: the group's lead (组 长：某某) is who is in charge.
    leads = label in LEAD_POSTS and _ASKS_IN_CHARGE_RE.search(asked)
    return 1 if leads and not any(post in asked for post in LEAD_POSTS) else 0


# --- follow-ups
_LEAD_RE = re.compile(r"^(那么|那|还有|另外|再问一下|如果是)\s*")
_TAIL_RE = re.compile(r"(的情况|怎么样|又如何|如何)?\s*(呢|吗)?\s*[？?。!！]*$")
MAX_FOLLOWUP_CHARS = 16
# Administrative level of a place by its suffix, and of the sub-units a question asks for
# (在哪些城市): a 区 has no 城市 within it, so that part of the question cannot carry over.
_LEVEL = {
    "省": 4,
    "自治区": 4,
    "市": 3,
    "州": 3,
    "盟": 3,
    "区": 2,
    "县": 2,
    "旗": 2,
    "镇": 1,
    "乡": 1,
}
_SUBUNITS_RE = re.compile(
    r"在?(哪些|哪几个|哪个)(城市|地市|市州|市|州|县区|区县|县|区|乡镇|街镇|镇街|街道|镇|地区|地方)"
)
_SUBUNIT_LEVEL = {"城市": 3, "地市": 3, "市州": 3, "市": 3, "州": 3, "县区": 2, "区县": 2,
                  "县": 2, "区": 2, "乡镇": 1, "街镇": 1, "镇街": 1, "街道": 1, "镇": 1,
                  "地区": 3, "地方": 3}


# Which places a measure covers (在哪些城市开展试点, 哪几个县, 试点在哪里开展): answered by the
# places a sentence names. (挂在哪里 asks for a spot, 明显处所, which names no place.)
_WHERE_PILOT_RE = re.compile(r"在哪(?:里|儿)?(?:开展|试点|实施|推行|推广)")


def asks_where(question: str) -> bool:
    return bool(_SUBUNITS_RE.search(question) or _WHERE_PILOT_RE.search(question))


def states_place(query: Query, text: str) -> bool:
    """The text names a place the question does not (自贡市、宜宾市 for 四川省在哪些城市…),
    outside the titles and 文号 it cites."""
    return any(p not in query.text for p in places(own_words(text)))


# What kind of named thing it asks for (实行的是什么制度, 要搞什么行动, 发什么文书): the two
# characters after the question word. Documents name such a thing in quotes next to its kind
# (实施“日报告、周统计”制度, 开展“翻盆倒罐”行动, 实施“十大行动”).
_OPEN_QUOTE, _QUOTED, _CLOSE_QUOTE = "[“\"「《]", "[^”\"」》]", "[”\"」》]"
_KIND_ASKED_RE = re.compile(r"(?:什么|哪种|哪类|何种)(?:样的)?([\u4e00-\u9fff]{2})")
# These ask what a text says or when, not what a thing is called (有什么要求).
_NOT_KINDS = frozenset(  # a word list reads best as one string
    "时候 时间 意思 含义 地方 情况 内容 样子 要求 规定 措施 安排".split()  # noqa: SIM905
)


def asked_kind(question: str) -> str | None:
    match = _KIND_ASKED_RE.search(question)
    return match.group(1) if match and match.group(1) not in _NOT_KINDS else None


def names_kind(kind: str, text: str) -> bool:
    """The text names a thing of the asked kind in quotes: “日报告、周统计”制度,
    “县聘镇用”的用人模式, “十大行动”."""
    kind = re.escape(kind)
    beside = rf"{_OPEN_QUOTE}{_QUOTED}{{1,40}}{_CLOSE_QUOTE}的?{kind}"  # “日报告、周统计”制度
    ending = rf"{_OPEN_QUOTE}{_QUOTED}{{0,40}}{kind}{_CLOSE_QUOTE}"  # “十大行动”
    return bool(re.search(f"{beside}|{ending}", text))


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


def narrower_place(query: Query, title: str, region: str | None) -> str | None:
    """The place below the question's own that a document is about, when the question does
    not name it: 顺德区 for a 佛山市顺德区 notice asked about 佛山市. A question about a city
    is answered by the city's notice, not by a district's notice that repeats it; a national
    or provincial text (broader) still answers a local question. None when the question
    names no place, asks which places a measure covers, or the document is at its level."""
    if not query.places or query.where:
        return None
    # A place the document is about: its issuer's, the one its title opens with, or one whose
    # body the title names (关于成立乐从镇蚊媒…指挥部); not a place a measure runs in
    # (四川省…关于在成都市开展试点 is a 四川省 text).
    named = places(title)
    own = dict.fromkeys([*region_parts(region), *(p for p in named if title.find(p) <= 2),
                         *body_places(title, named)])
    levels = [place_level(p) or next((place_level(d) for d in own if d.startswith(p)), None)
              for p in query.places]
    asked = min((level for level in levels if level), default=None)
    if asked is None:
        return None
    return next((d for d in own if (place_level(d) or asked) < asked
                 and not any(f in query.text for f in place_forms(d))), None)


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


# --- questions that ask two things
# 住院病历要留多少年？电子病历呢？ / 门诊慢特病也一样吗 / 顺德区和乐从镇的…各担任什么: each
# part may be answered by another document, so each is judged on its own (answer.pipeline).
_PART_END_RE = re.compile(r"(?<=[？?；;！!])")
# A closing "X也一样吗" / "X呢" after a comma is a second question about X.
_ALSO_TAIL_RE = re.compile(
    r"[，,]\s*([^，,？?]{1,16}?(?:也|又)[^，,？?]{0,8}吗|[^，,？?]{1,12}呢)\s*[？?]?$")
_ALSO_RE = re.compile(r"^(.{1,16}?)(?:也|又)(?:是)?(?:一样|这样|相同|适用|如此)吗?\s*[？?]?$")
# A pair asked about one by one (A和B…各/分别…): one part per member. 各 as a determiner
# (各地, 各级) distributes nothing; a comparison (A和B效力一样吗) asks one thing.
_DISTRIBUTIVE_RE = re.compile(r"分别|各(?![地级省市县区类种项界部单方个])")
_PAIR_RE = re.compile(r"和|与|跟|及")
_JOINT_RE = re.compile(r"联合|共同|一起|合作|会同")  # 四川省和重庆市联合印发: one act of both
_LEFT_STOP = "，,：:在对把从向"
_RIGHT_STOP = "的里中在时各分都是，,？?"
MAX_CONJUNCT = 12


def question_parts(text: str) -> tuple[str, ...]:
    """The questions a question asks one by one, each made standalone (its later sentences
    read as follow-ups of the first; a pair split into its members), or () for one."""
    sentences = [p.strip() for p in _PART_END_RE.split(text.strip()) if _is_wordlike(p)]
    if len(sentences) == 1 and (tail := _ALSO_TAIL_RE.search(sentences[0])):
        sentences = [sentences[0][:tail.start()] + "？", tail.group(1)]
    first = sentences[0] if sentences else ""
    standalone = [first] + [_standalone(s, first) for s in sentences[1:]]
    # A part needs two words of its own: 效力一样吗 or a trailing （2-3） asks nothing.
    parts = [member for s in standalone for member in _pair_members(s)
             if len([t for t in content_terms(member) if not t.isdigit()]) >= 2]
    return tuple(dict.fromkeys(parts)) if len(parts) > 1 else ()


def _standalone(sentence: str, first: str) -> str:
    also = _ALSO_RE.match(sentence)
    if also:
        return f"关于{also.group(1)}，{first}"
    return rewrite_followup(sentence, [{"role": "user", "content": first}])


def _pair_members(sentence: str) -> list[str]:
    """顺德区和乐从镇的蚊媒指挥部里各担任什么 → 顺德区的…, 乐从镇的…; else the sentence.
    A pair of places is split without 各 or 分别 as well: each place has its own text
    (顺德区和乐从镇的蚊媒指挥部里，谁负责…; …的总指挥是同一个人吗)."""
    distributive = bool(_DISTRIBUTIVE_RE.search(sentence))
    if not distributive and len(places(sentence)) < 2:
        return [sentence]
    for pair in _PAIR_RE.finditer(sentence):
        start = end = pair.start()
        while start > 0 and sentence[start - 1] not in _LEFT_STOP:
            start -= 1
        end = pair.end()
        while end < len(sentence) and sentence[end] not in _RIGHT_STOP:
            end += 1
        left, right = sentence[start:pair.start()], sentence[pair.end():end]
        if not (0 < len(left) <= MAX_CONJUNCT and 0 < len(right) <= MAX_CONJUNCT) or \
                _DISTRIBUTIVE_RE.search(left + right) or "各" in left + right or \
                not distributive and not (places(left) and places(right)) or \
                _JOINT_RE.search(right):
            continue
        if sentence[end:end + 1] == "的":
            left = left.removesuffix("的")  # 纸质的和电子的规定 → 纸质的规定
        head, left = _after_last_verb(left)  # 卫生部增加 | 重症医学科 和 疼痛科
        right, shared = _shared_head(left, right)  # 佛山市级 和 顺德区级 | 蚊媒指挥部
        lead, rest = sentence[:start] + head, sentence[end:]
        return [lead + left + shared + rest, lead + right + shared + rest]
    return [sentence]


# A conjunct ending in one of these shares the noun after its partner: 市级和区级专项资金.
_SHARED_HEAD_SUFFIXES = "级省市区县镇乡村"


def _after_last_verb(span: str) -> tuple[str, str]:
    """A conjunct is a noun phrase: what precedes its last verb belongs to both members
    (卫生部增加重症医学科 → 卫生部增加 | 重症医学科)."""
    words = list(jieba_tagger().cut(span))
    verbs = [i for i, w in enumerate(words) if w.flag.startswith("v")]
    if not verbs or verbs[-1] == len(words) - 1:
        return "", span  # 医院报告和…: no verb, or the conjunct is itself a verb
    cut = sum(len(w.word) for w in words[:verbs[-1] + 1])
    return span[:cut], span[cut:]


def _shared_head(left: str, right: str) -> tuple[str, str]:
    """(the right conjunct, the noun both share): 佛山市级 和 顺德区级蚊媒指挥部 →
    (顺德区级, 蚊媒指挥部)."""
    if len(left) < 2 or left[-1] not in _SHARED_HEAD_SUFFIXES:
        return right, ""
    at = right.find(left[-1], 1)
    if 0 < at <= len(left) + 2 and at < len(right) - 1:
        return right[:at + 1], right[at + 1:]
    return right, ""


# What the question word asks about: 夜班补贴标准 in 医务人员的夜班补贴标准是多少, 试点城市
# in 长期护理保险的试点城市有哪些. A clause lacking it answers a neighbouring question.
_ASK_WORD_RE = re.compile(
    r"是多少|多少|几|多久|多长|什么|哪些|哪个|哪|怎么|怎样|如何|是否|吗|有没有|"
    r"能不能|可不可以"
)
FOCUS_BEFORE, FOCUS_AFTER = 8, 6


def focus_terms(text: str) -> tuple[str, ...]:
    """Content words next to the first question word (up to 8 characters before, 6 after)."""
    asked = _ASK_WORD_RE.search(text)
    if not asked:
        return ()
    before = text[max(0, asked.start() - FOCUS_BEFORE):asked.start()]
    after = re.sub(r"[？?。！!]", "", text[asked.end():asked.end() + FOCUS_AFTER])
    return tuple(dict.fromkeys(content_terms(before) + content_terms(after)))


def alternatives_of(text: str, terms: tuple[str, ...], synonyms: Synonyms
                    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(question term, the formal words that also count for it) for every everyday word or
    abbreviation of `synonyms` in `text`, longest first: in 医保费由谁缴, 医保费 (医疗保险费)
    wins over 医保. A word jieba did not keep as a term (掏钱) becomes its own term."""
    found: dict[str, tuple[str, ...]] = {}
    taken: list[tuple[int, int]] = []
    for word, formal in sorted(synonyms, key=lambda entry: -len(entry[0])):
        start = text.find(word)
        end = start + len(word)
        if start < 0 or any(s < end and start < e for s, e in taken):
            continue
        taken.append((start, end))
        for term in [t for t in terms if t in word or word in t] or [word]:
            found[term] = tuple(dict.fromkeys(found.get(term, ()) + formal))
    return tuple(found.items())


# --- the Query
@dataclass(frozen=True)
class Query:
    """What a question asks, analysed once per ask.

    text: the standalone question that retrieval and the gate use (a rewritten follow-up);
    asked: the user's own words; terms: content words (jieba, no stopwords); places, years,
    doc_numbers (文号 named), quoted (terms in quotes, matched verbatim), units (of an
    asked-for quantity: 多少元 → 元); amount: it asks for a number at all (多少, 多久, 第几); when:
    it asks when something happens (什么时候; a question about a document's dates is `meta`);
    defined: the term it asks the definition of (工资总额 in …工资总额是什么意思); focus: the
    content words next to the question word (夜班补贴标准 in …的夜班补贴标准是多少); meta: the
    document facts it asks for (status, date, issuer, number, basis, addressee); spanning: it asks
    across documents in so many words (哪些文件, 各地); asks_duty: it asks who is responsible;
    status_asked: the status of the documents it asks for (哪份文件已失效 → 失效).
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
    amount: bool = False  # it asks for an amount, a time span or an ordinal (多少, 多久, 第几)
    when: bool = (
        False  # it asks when a measure happens (什么时候, 何时, 哪年), not about a document
    )
    defined: str | None = None  # the term whose definition it asks for (工资总额是什么意思)
    focus: tuple[str, ...] = ()  # content words next to the question word (what it asks about)
    changes: bool = False  # it asks what a 修订 changed (修订后关于X的规定有什么变化)
    who: bool = False  # it asks for a person or body by name (总指挥是谁, 由谁担任)
    where: bool = False  # it asks which places a measure covers (在哪些城市开展试点)
    kind_asked: str | None = None  # the kind of named thing it asks for (什么制度 → 制度)
    # The unit family of the quantity it asks for in plain words (lexicon.asked_quantity):
    # days (多少天内要办完), hours, months, years, persons (最少配几个人), money (罚多少钱),
    # ratio (比例最多降多少), age, duration (多久, 多长时间: any span); None when it asks none.
    quantity: str | None = None
    quantities: tuple[str, ...] = ()  # every family asked (几年…多久), `quantity` first
    # The bounded quantities it states as its case (工龄不到十年, 500张以上的医院).
    conditions: tuple[Quantity, ...] = ()
    # Who and what it is about: the groups it names (企业职工, 护士, 一级医院), the issuing
    # bodies it names as issuer (国家医保局印发的), the plans or programmes it names
    # (健康中国2030规划纲要). The cited clause or its document must meet each.
    roles: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    # A rewritten follow-up's topic, carried over from the earlier question: its content
    # words the user did not type (三医 联动 改革 试点 for 那汉中市呢？). An answer must be
    # about that topic, not merely about the new place.
    carried: tuple[str, ...] = ()
    # The places whose body it asks about (均安镇 in 均安镇蚊媒指挥部的总指挥是谁): the cited
    # clause's document (title, issuer) or headings must name the place, not its text alone.
    body_places: tuple[str, ...] = ()
    # term → formal words that count for it (社保 → 社会保险; lexicon.load_synonyms)
    alternatives: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # A question asking two things (住院病历留多少年？电子病历呢？), each part analysed as a
    # standalone question (`question_parts`); () for a question asking one.
    parts: tuple[Query, ...] = ()

    @cached_property
    def _formal(self) -> dict[str, tuple[str, ...]]:
        return dict(self.alternatives)

    def _words(self, term: str) -> tuple[str, ...]:
        return (term, *self._formal.get(term, ()))

    def covers(self, term: str, text: str) -> bool:
        """`term`, or a formal word standing for it, occurs in `text` (spaces inside Chinese
        words, as PDFs extract them, do not break the match)."""
        return bool(self.covered((term,), text))

    def covered(self, terms, text: str) -> set[str]:
        """The `terms` that `text` covers (as `covers`), with the text's space-stripped form
        computed at most once: the gate asks this of every candidate (hot path)."""
        found = {t for t in terms if any(w in text for w in self._words(t))}
        rest = [t for t in terms if t not in found]
        if rest and (joined := matching_text(text)) != text:
            found.update(t for t in rest if any(w in joined for w in self._words(t)))
        return found

    @property
    def expansion(self) -> str:
        """The formal words of the question's everyday ones, for BM25 (掏钱 → 费用 缴纳 …),
        and the numbers it states as laws write them (不满16岁 → 十六)."""
        words = [w for _, formal in self.alternatives for w in formal]
        words += [int_to_cn(int(n)) for n in self.numbers if n.isdigit() and 10 <= int(n) < 1000]
        return " ".join(dict.fromkeys(words))

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
def _analysed(text: str, asked: str, synonyms: Synonyms, split: bool = True,
              known_places: frozenset[str] = frozenset()) -> Query:
    terms = content_terms(text)
    alternatives = alternatives_of(text, terms, synonyms)
    terms += tuple(t for t, _ in alternatives if t not in terms)
    meta = tuple(meta_kinds(text))
    families = () if meta else asked_quantities(text)
    return Query(
        text=text, asked=asked, terms=terms, places=(named := named_places(text, known_places)),
        body_places=body_places(text, named), alternatives=alternatives,
        years=tuple(years(text)), doc_numbers=tuple(doc_numbers(text)),
        quoted=tuple(quoted_terms(text)), units=tuple(asked_units(text)),
        numbers=stated_numbers(text), titles=named_titles(text),
        meta=meta, spanning=spans_documents(text),
        asks_duty=asks_duty(text), status_asked=asked_status(text), amount=asks_amount(text),
        when=asks_when(text) and not meta, defined=defined_term(text),
        focus=focus_terms(text), changes=bool(_CHANGE_RE.search(text)), who=asks_who(text),
        where=asks_where(text), kind_asked=asked_kind(text),
        quantity=next(iter(families), None), quantities=families,
        conditions=conditions_in(text), roles=roles_in(text), issuers=issuers_in(text),
        programmes=programmes_in(text),
        carried=carried_terms(text, asked, terms),
        parts=tuple(_analysed(p, p, synonyms, False, known_places)
                    for p in question_parts(text)) if split else ())



def carried_terms(text: str, asked: str, terms: tuple[str, ...]) -> tuple[str, ...]:
    """The content words a follow-up's standalone form took from the earlier question."""
    if text == asked:
        return ()
    return tuple(t for t in terms if t not in asked and not years(t) and not places(t))


def analyse(question: str, history: list[dict] | None = None,
            synonyms: Synonyms | None = None, known_places: frozenset[str] = frozenset()
            ) -> Query:
    """The Query of `question`; a follow-up is rewritten against the previous user turn.

    synonyms: the everyday-word table (`lexicon.load_synonyms(settings.retrieval.synonyms)`); None =
    the shipped one. known_places: places the corpus names (`IndexReader.places`), found in
    the question besides those the tokenizer knows."""
    asked = question.strip()
    table = load_synonyms() if synonyms is None else synonyms
    return _analysed(rewrite_followup(asked, history).strip(), asked, table, True, known_places)


def as_query(question: str | Query) -> Query:
    """Either form at a stage boundary: a plain string is analysed without history."""
    return question if isinstance(question, Query) else analyse(question)

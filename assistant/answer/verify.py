"""Check each answer sentence against the clauses it cites.

A sentence is supported when it cites at least one block and every fact it states —
numbers, percentages, dates (also in Chinese numerals), amounts, 文号, quoted terms and
named places or bodies — occurs in the text of its cited blocks (the block the model saw:
metadata + clause). A claim about a document's status (失效, 废止, 征求意见稿, 现行有效…)
must agree with a cited document's recorded status or be stated by a cited clause; one
made of every document (所有文件均已失效) must hold for every cited document. Paraphrase is
allowed; changed facts are not, so an injected "all documents are repealed [1]" fails.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.answer.citations import MARKER_RE, doc_numbers_in, markers_in
from assistant.answer.context import Context
from assistant.lexicon import CN_DIGITS, jieba_tagger
from assistant.models import AnswerSentence, DocStatus

# A sentence ends at 。！？；!? or a line break; markers right after it stay with it.
_SENTENCE_RE = re.compile(
    r"[^。！？；!?\n]+(?:[。！？；!?]+|\n|$)(?:\s*" + MARKER_RE.pattern + r")*"
)
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９％．", "0123456789%.")
_PERCENT_RE = re.compile(r"\d+(?:\.\d+)?\s*%")
_AMOUNT_RE = re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿)?元")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_QUOTED_RE = re.compile(r"[“「《\"]([^”」》\"]{2,40})[”」》\"]")
_CN_YEAR_RE = re.compile(r"[〇零一二三四五六七八九]{4}(?=年)")
# Status claims, most specific first: a negated repeal (尚未失效) claims the document is in force.
_STATUS_CLAIMS: list[tuple[DocStatus, re.Pattern[str]]] = [
    (DocStatus.IN_FORCE, re.compile(r"(?:未|没有|尚未|并未|不再被?)(?:失效|废止|作废)"
                                    r"|(?:仍然?|依然|继续|现行|目前)有效|现行|正式施行|已(?:经)?生效")),
    (DocStatus.REPEALED, re.compile(r"失效|废止|作废|撤销|停止执行|不再执行|不再有效")),
    (DocStatus.DRAFT, re.compile(r"征求意见稿|草案|征求意见")),
]
_ALL_RE = re.compile(r"所有|全部|一律|均|都")
_NAMED_TAGS = {"ns", "nt", "nz", "nr"}
_GENERIC = {"城市", "地方", "地区", "全省", "全市", "全区", "全国", "各地", "中国", "国家"}


def split_sentences(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SENTENCE_RE.finditer(text) if _bare(m.group(0))]


def _bare(sentence: str) -> str:
    return MARKER_RE.sub("", sentence).strip(" \t\n。！？；!?，,")


def _normal(text: str) -> str:
    text = _CN_YEAR_RE.sub(lambda m: "".join(str(CN_DIGITS[c]) for c in m.group(0)), text)
    return text.translate(_FULLWIDTH_DIGITS)


def status_claims(sentence: str) -> list[tuple[DocStatus, str]]:
    """(status, the words that claim it) for each status a sentence asserts."""
    text = _bare(sentence)
    found = []
    for status, pattern in _STATUS_CLAIMS:
        for match in pattern.finditer(text):
            found.append((status, match.group(0)))
        text = pattern.sub(" ", text)  # 尚未失效 is not also a 失效 claim
    return found


def _status_supported(status: DocStatus, words: str, sentence: str, blocks,
                      universal: bool) -> bool:
    """The cited documents' recorded status says so, or a cited clause states it of a
    document the sentence names (《旧办法》同时废止). A status word alone in a clause is
    not enough: it may be an instruction planted in the document ("say all are 失效")."""
    names = _QUOTED_RE.findall(sentence) + doc_numbers_in(_normal(sentence))

    def stated(block) -> bool:
        return any(words in part and any(name in part for name in names)
                   for part in re.split(r"[。；！？\n]", block.scored.clause.text))

    def holds(block) -> bool:
        return block.doc.status is status or (bool(names) and stated(block))

    return all(holds(b) for b in blocks) if universal else any(holds(b) for b in blocks)


def status_missing(sentence: str, blocks) -> list[str]:
    universal = bool(_ALL_RE.search(_bare(sentence)))
    return [f"状态：{words}" for status, words in status_claims(sentence)
            if not _status_supported(status, words, sentence, blocks, universal)]


@lru_cache(maxsize=4096)
def named_terms(text: str) -> tuple[str, ...]:
    """Place names, organisations and other proper nouns jieba tags in `text`."""
    return tuple(dict.fromkeys(
        pair.word for pair in jieba_tagger().cut(text)
        if pair.flag in _NAMED_TAGS and len(pair.word) >= 2 and pair.word not in _GENERIC))


def facts(sentence: str) -> list[str]:
    """The checkable facts a sentence states."""
    text = _normal(_bare(sentence))
    found = doc_numbers_in(text)
    for number in found:
        text = text.replace(number, " ")
    found += [m.group(0).replace(" ", "") for m in _PERCENT_RE.finditer(text)]
    found += [m.group(0).replace(" ", "") for m in _AMOUNT_RE.finditer(text)]
    found += _NUMBER_RE.findall(text)
    found += _QUOTED_RE.findall(text)
    found += list(named_terms(text))
    return list(dict.fromkeys(found))


def _present(fact: str, evidence: str, numbers: set[str]) -> bool:
    if fact.endswith("号") and "〔" in fact:
        # The 文号 pattern may take preceding words into the issuer part ("根据川办函…").
        return any(fact.endswith(known) for known in doc_numbers_in(evidence))
    if _NUMBER_RE.fullmatch(fact):
        return _canonical_number(fact) in numbers
    return fact.replace(" ", "") in evidence


def _canonical_number(number: str) -> str:
    return number.lstrip("0") or "0" if "." not in number else number


def check_sentence(sentence: str, context: Context) -> AnswerSentence:
    markers = markers_in(sentence)
    blocks = [b for b in (context.block(m) for m in markers) if b is not None]
    if not blocks:
        return AnswerSentence(text=sentence, markers=markers, supported=False, missing=["无引用"])
    evidence = _normal("\n".join(b.text for b in blocks)).replace(" ", "")
    numbers = {_canonical_number(n) for n in _NUMBER_RE.findall(evidence)}
    missing = [f for f in facts(sentence) if not _present(f, evidence, numbers)]
    missing += status_missing(sentence, blocks)
    return AnswerSentence(text=sentence, markers=markers, supported=not missing, missing=missing)


def verify(answer: str, context: Context) -> list[AnswerSentence]:
    return [check_sentence(s, context) for s in split_sentences(answer)]

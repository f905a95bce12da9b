"""Check each answer sentence against the clauses it cites.

A sentence is supported when it cites at least one block and every fact it states —
numbers, percentages, dates, amounts, 文号, quoted terms and named places or bodies —
occurs in the text of its cited blocks (the block the model saw: metadata + clause).
Paraphrase is allowed; changed facts are not.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.answer.citations import MARKER_RE, doc_numbers_in, markers_in
from assistant.answer.context import Context
from assistant.models import AnswerSentence

# A sentence ends at 。！？；!? or a line break; markers right after it stay with it.
_SENTENCE_RE = re.compile(r"[^。！？；!?\n]+(?:[。！？；!?]+|\n|$)(?:\s*" + MARKER_RE.pattern + r")*")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９％．", "0123456789%.")
_PERCENT_RE = re.compile(r"\d+(?:\.\d+)?\s*%")
_AMOUNT_RE = re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿)?元")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_QUOTED_RE = re.compile(r"[“「《\"]([^”」》\"]{2,40})[”」》\"]")
_NAMED_TAGS = {"ns", "nt", "nz", "nr"}
_GENERIC = {"城市", "地方", "地区", "全省", "全市", "全区", "全国", "各地", "中国", "国家"}


def split_sentences(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SENTENCE_RE.finditer(text) if _bare(m.group(0))]


def _bare(sentence: str) -> str:
    return MARKER_RE.sub("", sentence).strip(" \t\n。！？；!?，,")


def _normal(text: str) -> str:
    return text.translate(_FULLWIDTH_DIGITS)


@lru_cache(maxsize=4096)
def named_terms(text: str) -> tuple[str, ...]:
    """Place names, organisations and other proper nouns jieba tags in `text`."""
    import jieba.posseg

    return tuple(dict.fromkeys(
        pair.word for pair in jieba.posseg.cut(text)
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
    return AnswerSentence(text=sentence, markers=markers, supported=not missing, missing=missing)


def verify(answer: str, context: Context) -> list[AnswerSentence]:
    return [check_sentence(s, context) for s in split_sentences(answer)]

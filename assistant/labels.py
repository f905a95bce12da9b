"""Clause numbering markers: recognising them at a paragraph start and normalising labels.

Official hierarchy (GB/T 9704): 一、 → （一） → 1. → （1） → ①. Scraped text mixes
full- and half-width forms and sometimes loses a bracket (`二)强化…`); every form is
mapped to the official full-width label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100}
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

_CN = "[一二三四五六七八九十百零〇两]{1,4}"
_OPEN = "[（(]"
_CLOSE = "[）)]"

# (rank, regex at paragraph start). Order matters: bracketed forms before bare ones.
_MARKERS: list[tuple[int, re.Pattern[str]]] = [
    (2, re.compile(rf"^{_OPEN}\s*({_CN})\s*{_CLOSE}")),
    (4, re.compile(rf"^{_OPEN}\s*(\d{{1,3}})\s*{_CLOSE}")),
    (1, re.compile(rf"^({_CN})\s*[、，,．.](?![\d一二三四五六七八九十])")),
    (2, re.compile(rf"^({_CN}){_CLOSE}(?=\S)")),  # opening bracket lost: 二)强化…
    (3, re.compile(r"^(\d{1,3})\s*(?:[.．](?!\d)|、)")),
    (5, re.compile(f"^([{CIRCLED}])")),
]


@dataclass(frozen=True)
class Marker:
    """A numbering marker found at a paragraph start."""

    rank: int  # 1 = 一、, 2 = （一）, 3 = 1., 4 = （1）, 5 = ①
    number: int
    label: str  # official full-width form
    length: int  # characters the raw marker occupies
    repaired: bool  # the raw form was broken (lost bracket)


def cn_to_int(text: str) -> int:
    """Chinese numeral (up to 百) → int: 十四 → 14, 二十六 → 26, 一百零二 → 102."""
    total, current = 0, 0
    for char in text:
        if char in CN_DIGITS:
            current = CN_DIGITS[char]
        elif char in CN_UNITS:
            total += (current or 1) * CN_UNITS[char]
            current = 0
    return total + current


def int_to_cn(number: int) -> str:
    """int → Chinese numeral as used in labels: 14 → 十四, 26 → 二十六."""
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    if number < 20:
        return "十" + (digits[number % 10] if number % 10 else "")
    if number < 100:
        tens, ones = divmod(number, 10)
        return digits[tens] + "十" + (digits[ones] if ones else "")
    hundreds, rest = divmod(number, 100)
    tail = "" if rest == 0 else ("零" + digits[rest] if rest < 10 else int_to_cn(rest))
    return digits[hundreds] + "百" + tail


def make_label(rank: int, number: int) -> str:
    """Official label for a rank and number: (2, 14) → （十四）."""
    if rank == 1:
        return f"{int_to_cn(number)}、"
    if rank == 2:
        return f"（{int_to_cn(number)}）"
    if rank == 3:
        return f"{number}."
    if rank == 4:
        return f"（{number}）"
    return CIRCLED[number - 1]


def match_marker(paragraph: str) -> Marker | None:
    """The numbering marker at the start of a paragraph, if any."""
    for rank, pattern in _MARKERS:
        found = pattern.match(paragraph)
        if not found:
            continue
        raw = found.group(1)
        if rank == 5:
            number = CIRCLED.index(raw) + 1
        elif raw.isdigit():
            number = int(raw)
        else:
            number = cn_to_int(raw)
        if number == 0:
            continue
        repaired = pattern.pattern.startswith(f"^({_CN}){_CLOSE}")
        return Marker(rank, number, make_label(rank, number), found.end(), repaired)
    return None


_REF_PART = re.compile(
    rf"附件\d*|前言|结尾|{_OPEN}\s*{_CN}\s*{_CLOSE}|{_OPEN}\s*\d{{1,3}}\s*{_CLOSE}"
    rf"|{_CN}\s*[、，,]|\d{{1,3}}\s*[.．、]|[{CIRCLED}]|{_CN}{_CLOSE}"
)


def normalise_clause_ref(ref: str) -> str:
    """A user-typed clause reference → display label: "(一)" → "（一）", "二、(三)1、" → "二、（三）1."."""
    ref = re.sub(r"\s+", "", ref)
    parts = []
    for token in _REF_PART.findall(ref):
        marker = match_marker(token)
        parts.append(marker.label if marker else token)
    return "".join(parts) or ref

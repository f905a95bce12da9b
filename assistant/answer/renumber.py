"""Number an answer's markers from [1] in reading order, for display.

Markers are context block numbers: a follow-up whose evidence is block 2 reads [2] with no
[1]. `renumbered(answer)` renumbers text, citations and sentences together (the chat page
shows every answer so); the clauses cited do not change.

>>> renumber_text("甲[3]。乙[2][3]。", marker_order("甲[3]。乙[2][3]。"))
'甲[1]。乙[2][1]。'
"""

from __future__ import annotations

import re

from assistant.answer.citations import MARKER_RE
from assistant.models import Answer


def marker_order(text: str) -> dict[int, int]:
    """Display numbers: the markers in order of first appearance become 1, 2, 3…

    Markers are context block numbers, so a follow-up whose evidence is block 2 would read
    [2] with no [1]; every answer on the page starts at [1] instead.
    """
    order: dict[int, int] = {}
    for match in MARKER_RE.finditer(text):
        for number in re.split(r"[,，、]", match.group(1)):
            order.setdefault(int(number), len(order) + 1)
    return order


def renumber_text(text: str, order: dict[int, int]) -> str:
    def replace(match: re.Match) -> str:
        numbers = [int(p) for p in re.split(r"[,，、]", match.group(1))]
        return "".join(f"[{order.get(n, n)}]" for n in numbers)

    return MARKER_RE.sub(replace, text)


def renumbered(answer: Answer) -> Answer:
    """The answer with its markers, citations and sentences numbered from [1] in reading order."""
    order = marker_order(answer.answer)
    for citation in sorted(answer.citations, key=lambda c: c.marker):
        order.setdefault(citation.marker, len(order) + 1)
    if all(old == new for old, new in order.items()):
        return answer
    citations = sorted((c.model_copy(update={"marker": order[c.marker]}) for c in answer.citations),
                       key=lambda c: c.marker)
    sentences = [s.model_copy(update={"text": renumber_text(s.text, order),
                                      "markers": [order.get(m, m) for m in s.markers]})
                 for s in answer.sentences]
    return answer.model_copy(update={"answer": renumber_text(answer.answer, order),
                                     "citations": citations, "sentences": sentences})

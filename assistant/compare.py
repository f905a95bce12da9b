"""What changed between two versions of a rule: articles aligned old → new.

A 修订 often renumbers everything and moves articles, so articles are paired by what they
say, not by number: every old/new pair is scored by the overlap of their character
bigrams (the labels left out; see `_similarity`), a small nudge favours pairs at the same relative
place, and pairs are taken best first, one-to-one, above a floor. What is left is added or removed.
Units are the articles (第X条, with their 款/项) of a legal text, else the top-level items
(一、二、…) of a notice.

>>> comparison = compare(old_document, new_document)        # doctest: +SKIP
>>> [c.kind for c in comparison.changes][:3]                # doctest: +SKIP
['unchanged', 'changed', 'added']
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from assistant.lexicon import is_article_label
from assistant.models import Clause, Document, DocumentInfo

ChangeKind = Literal["unchanged", "changed", "added", "removed"]
MATCH_FLOOR = 0.4  # similarity below which two articles are not the same provision
PLACE_NUDGE = 0.05  # weight of "at the same relative place" when scores are close
_NOISE = re.compile(r"\s+")
_WIDTH = str.maketrans("()（）:;,", "（）（）：；，")


class Article(BaseModel):
    """One unit of a version: its label, first clause id and full text (sub-clauses in)."""

    label: str
    clause_id: str
    text: str


class Segment(BaseModel):
    """A piece of the wording diff: kept, only in the old text, or only in the new one."""

    op: Literal["equal", "delete", "insert"]
    text: str


class ArticleChange(BaseModel):
    kind: ChangeKind
    renumbered: bool = Field(False, description="matched under another number")
    old: Article | None = None
    new: Article | None = None
    similarity: float = 0.0
    diff: list[Segment] = Field(default_factory=list, description="for changed articles")


class Comparison(BaseModel):
    """`assistant compare A B --json`, GET /v1/documents/compare."""

    old: DocumentInfo
    new: DocumentInfo
    changes: list[ArticleChange]

    @computed_field
    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(c.kind for c in self.changes)
        counted["renumbered"] = sum(c.renumbered for c in self.changes)
        return {k: counted[k] for k in ("unchanged", "changed", "added", "removed", "renumbered")}

    def matched(self) -> dict[str, str | None]:
        """Old article label → new article label (None when removed)."""
        return {c.old.label: c.new.label if c.new else None for c in self.changes if c.old}


def compare(old: Document, new: Document) -> Comparison:
    """Align `old`'s articles with `new`'s (older first: swap them if given the other way)."""
    if (new.version_date and old.version_date and new.version_date < old.version_date):
        old, new = new, old
    before, after = articles(old), articles(new)
    pairs = _pair(before, after)
    return Comparison(old=old.info(), new=new.info(), changes=_changes(before, after, pairs))


def articles(document: Document) -> list[Article]:
    """The document's articles (or top-level items), each with its sub-clauses' text."""
    legal = any(c.path and is_article_label(c.path[-1]) for c in document.clauses)
    heads = [c for c in document.clauses if c.kind == "clause" and (
        is_article_label(c.path[-1]) if legal else len(c.path) == 1)]
    return [Article(label=h.label, clause_id=h.clause_id, text=_full_text(document, h))
            for h in heads]


def _full_text(document: Document, head: Clause) -> str:
    depth = len(head.path)
    return "\n".join(c.text for c in document.clauses if c.path[:depth] == head.path)


def _pair(before: list[Article], after: list[Article]) -> dict[int, tuple[int, float]]:
    """Old index → (new index, similarity), best pairs first, one-to-one."""
    grams_old = [_bigrams(a) for a in before]
    grams_new = [_bigrams(a) for a in after]
    scored = []
    for i, a in enumerate(grams_old):
        for j, b in enumerate(grams_new):
            similarity = _similarity(a, b)
            if similarity >= MATCH_FLOOR:
                place = 1 - abs(i / max(len(before), 1) - j / max(len(after), 1))
                scored.append((similarity + PLACE_NUDGE * place, i, j, similarity))
    pairs: dict[int, tuple[int, float]] = {}
    taken: set[int] = set()
    for _, i, j, similarity in sorted(scored, reverse=True):
        if i not in pairs and j not in taken:
            pairs[i] = (j, similarity)
            taken.add(j)
    return pairs


def _bigrams(article: Article) -> Counter:
    text = _comparable(article)
    return Counter(text[k:k + 2] for k in range(len(text) - 1))


def _comparable(article: Article) -> str:
    """The wording without its label (renumbering is not a change) and without spacing."""
    text = _NOISE.sub("", article.text).translate(_WIDTH)
    return text.removeprefix(_NOISE.sub("", article.label))


def _similarity(a: Counter, b: Counter) -> float:
    """Mean of the bigram Dice overlap and the share of the shorter article found in the
    other: a revised article often grows a new paragraph and still is the same provision."""
    sizes = sum(a.values()), sum(b.values())
    if not min(sizes):
        return float(a == b)
    shared = sum((a & b).values())
    return (2 * shared / sum(sizes) + shared / min(sizes)) / 2


def _changes(before: list[Article], after: list[Article],
             pairs: dict[int, tuple[int, float]]) -> list[ArticleChange]:
    """In the new text's order; a removed article right after the one it followed."""
    by_new = {j: (i, s) for i, (j, s) in pairs.items()}
    changes: list[ArticleChange] = []
    placed: set[int] = set()
    for j, new in enumerate(after):
        if j not in by_new:
            changes.append(ArticleChange(kind="added", new=new))
            continue
        i, similarity = by_new[j]
        changes.append(_matched(before[i], new, similarity))
        placed.add(i)
        changes.extend(_removed_after(i, before, pairs, placed))
    leading = [ArticleChange(kind="removed", old=before[i])
               for i in range(len(before)) if i not in placed and i not in pairs]
    return leading + changes


def _removed_after(i: int, before: list[Article], pairs: dict, placed: set[int]):
    found = []
    k = i + 1
    while k < len(before) and k not in pairs:
        found.append(ArticleChange(kind="removed", old=before[k]))
        placed.add(k)
        k += 1
    return found


def _matched(old: Article, new: Article, similarity: float) -> ArticleChange:
    same = _comparable(old) == _comparable(new)
    return ArticleChange(
        kind="unchanged" if same else "changed", renumbered=old.label != new.label, old=old,
        new=new, similarity=round(similarity, 3), diff=[] if same else wording_diff(old, new))


def wording_diff(old: Article, new: Article) -> list[Segment]:
    """Character-level diff of the two wordings (labels left out)."""
    a, b = _comparable(old), _comparable(new)
    segments = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(Segment(op="equal", text=a[i1:i2]))
            continue
        if i2 > i1:
            segments.append(Segment(op="delete", text=a[i1:i2]))
        if j2 > j1:
            segments.append(Segment(op="insert", text=b[j1:j2]))
    return segments

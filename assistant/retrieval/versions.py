"""Prefer the text in force: a replaced version's clauses yield to its replacement's.

The library pass (assistant/ingest/validity.py) marks older versions 被修订 and repealed
documents 失效, each with a pointer to what replaced it. Here, on a list of retrieved
clauses: an old clause whose wording the replacing text repeats word for word is dropped
(the current one says the same), and the other old clauses go after the current ones when
the replacing document was retrieved too. Nothing is dropped when the replacement is not
among the results: a cited old text then carries its warning naming what replaced it.

For a question about what a 修订 changed, `versions_first` puts the changed article and its
counterpart in the other version (aligned by `assistant.compare`) ahead.
"""

from __future__ import annotations

import re

from assistant.compare import compare
from assistant.lexicon import is_article_label
from assistant.models import Clause, Document, DocumentInfo, ScoredClause

_SPACE = re.compile(r"\s+")
CHANGE_CANDIDATES = 5  # retrieved clauses looked at for an article the 修订 changed


def replacement(doc: DocumentInfo) -> str | None:
    """doc_id of the document that replaced this one in the library, if any."""
    link = doc.replacement
    return link.doc_id if link else None


def prefer_current(found: list[ScoredClause]) -> list[ScoredClause]:
    """`found` with replaced texts' clauses after (or, when repeated verbatim, instead of)
    the clauses of what replaced them; order otherwise kept."""
    present = {s.doc.doc_id for s in found}
    wording = {(s.doc.doc_id, _bare(s)) for s in found}
    kept = [s for s in found if (replacement(s.doc), _bare(s)) not in wording]
    return sorted(kept, key=lambda s: replacement(s.doc) in present)


def _bare(scored: ScoredClause) -> str:
    """The clause's wording without its label: a renumbered article says the same."""
    text = _SPACE.sub("", scored.clause.text)
    label = scored.clause.path[-1] if scored.clause.path else ""
    return text.removeprefix(label)


def versions_first(found: list[ScoredClause], store) -> list[ScoredClause]:
    """For 修订后关于X的规定有什么变化: the best-ranked article of a work held in several
    versions that the 修订 changed (else the best-ranked one) and its counterpart in the
    other version, newer first, both routed, ahead."""
    pairs: list[list[ScoredClause]] = []
    for scored in found[:CHANGE_CANDIDATES]:
        heads = _counterparts(scored, store)
        if heads:
            pairs.append(heads)
            if len(heads) == 2 and heads[0].clause.text != heads[1].clause.text:
                break
    if not pairs:
        return found
    heads = pairs[-1] if len(pairs[-1]) == 2 else pairs[0]
    ids = {h.clause.clause_id for h in heads}
    return heads + [s for s in found if s.clause.clause_id not in ids]


def _version_pair(doc: DocumentInfo, store) -> tuple[Document, Document] | None:
    """(older, newer) Documents: this version and the one before or after it."""
    if len(doc.versions) < 2:
        return None
    position = doc.versions.index(doc.doc_id) if doc.doc_id in doc.versions else -1
    if position < 0:
        return None
    other = doc.versions[position + 1] if position + 1 < len(doc.versions) else \
        doc.versions[position - 1]
    pair = sorted([doc.doc_id, other], key=doc.versions.index)
    documents = [store.document(doc_id) for doc_id in pair]
    return None if None in documents else tuple(documents)


def _counterparts(scored: ScoredClause, store) -> list[ScoredClause]:
    """The article holding `scored` and the other version's article aligned with it,
    newer first, routed; [] when the document has one version."""
    pair = _version_pair(scored.doc, store)
    if pair is None:
        return []
    old, new = pair
    own = old if scored.doc.doc_id == old.doc_id else new
    article = _article_head(own, scored.clause)
    for change in compare(old, new).changes:
        sides = [(new, change.new), (old, change.old)]
        if any(a is not None and a.clause_id == article.clause_id for _, a in sides):
            return [ScoredClause(clause=doc.clause(a.clause_id), doc=doc.info(),
                                 score=scored.score, routed=True)
                    for doc, a in sides if a is not None]
    return []


def _article_head(doc: Document, clause: Clause) -> Clause:
    """The 第X条 clause a clause belongs to (itself when it is one)."""
    depth = next((i for i, label in enumerate(clause.path) if is_article_label(label)), None)
    if depth is None:
        return clause
    return next((c for c in doc.clauses if c.path == clause.path[: depth + 1]), clause)

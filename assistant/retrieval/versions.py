"""Prefer the text in force: a replaced version's clauses yield to its replacement's.

The library pass (assistant/ingest/validity.py) marks older versions 被修订 and repealed
documents 失效, each with a pointer to what replaced it. Here, on a list of retrieved
clauses: an old clause whose wording the replacing text repeats word for word is dropped
(the current one says the same), and the other old clauses go after the current ones when
the replacing document was retrieved too. Nothing is dropped when the replacement is not
among the results: a cited old text then carries its warning naming what replaced it.
"""

from __future__ import annotations

import re

from assistant.models import DocumentInfo, ScoredClause

_SPACE = re.compile(r"\s+")


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

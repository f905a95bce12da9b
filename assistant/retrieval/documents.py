"""Questions about documents themselves (status, dates, issuer, 文号): their clauses first.

A metadata question (`Query.meta`) is answered by the document's preamble (or, for when
it takes effect, the clause saying so), and a status question also by what settles the
status: the clause that repealed it, or the current version's preamble.
"""

from __future__ import annotations

from datetime import date

from assistant.lexicon import EFFECTIVE_CLAUSE, normalise_title
from assistant.models import Clause, Document, ScoredClause, SearchFilters
from assistant.query import Query


def named_documents(query: Query, store, filters: SearchFilters | None) -> list[Document]:
    """Documents a metadata question names: by 文号, by title, or by the status it asks for
    (哪份文件已失效)."""
    numbers, status = query.doc_numbers, query.status_asked
    titled = titled_in(query.text, store.documents) if "status" in query.meta else []
    if numbers:
        docs = [d for d in store.documents
                if d.number and any(n.endswith(d.number) for n in numbers)]
    elif titled:
        docs = titled  # 《人体器官移植条例》还有效吗 / 被哪个文件废止了
    elif status:
        # Only a stated status counts: an unmarked document is not assumed to be in force.
        docs = [d for d in store.documents if d.status and d.status.value == status]
    else:
        docs = []
    return [d for d in docs if d.clauses and (filters is None or filters.admits(d))]


def titled_in(question: str, documents) -> list[Document]:
    """Documents whose title the question writes out (every version of it), the longest
    titles only: 人体器官捐献和移植条例 does not also name 人体器官移植条例's namesakes."""
    text = normalise_title(question)
    named = [d for d in documents if len(d.title) >= 4 and normalise_title(d.title) in text]
    longest = [d for d in named if not any(d.title != o.title and d.title in o.title
                                           for o in named)]
    return sorted(longest, key=lambda d: d.version_date or date.min)


def metadata_first(query: Query, found: list[ScoredClause], store,
                   filters: SearchFilters | None) -> list[ScoredClause]:
    """For a metadata question: the named documents' (else the top document's) preambles
    first, and for a status question what settles each one's validity after it."""
    named = named_documents(query, store, filters)
    top = [store.document(found[0].doc.doc_id)] if found else []
    found = preambles_first(named or [d for d in top if d and d.clauses], found,
                            "effective" in query.meta)
    if "status" in query.meta:
        found = with_validity_evidence(found, store)
    return found


def preambles_first(docs: list[Document], found: list[ScoredClause], effective: bool = False
                    ) -> list[ScoredClause]:
    """The documents' preambles (or, for when a document takes effect, the clause saying
    so: 本法自1998年10月1日起施行) first, marked routed."""
    top = found[0].score if found else 1.0
    heads = [ScoredClause(clause=head_clause(d, effective), doc=d.info(), score=top, routed=True)
             for d in docs]
    ids = {h.clause.clause_id for h in heads}
    return heads + [s for s in found if s.clause.clause_id not in ids]


def with_validity_evidence(found: list[ScoredClause], store) -> list[ScoredClause]:
    """After each document asked about, what settles its validity: the clause that repealed
    it, or the current version's preamble (its 修订 history)."""
    result, seen = [], {s.clause.clause_id for s in found}
    for scored in found:
        result.append(scored)
        evidence = _validity_evidence(scored, store) if scored.routed else None
        if evidence is not None and evidence.clause.clause_id not in seen:
            result.append(evidence)
            seen.add(evidence.clause.clause_id)
    return result


def _validity_evidence(scored: ScoredClause, store) -> ScoredClause | None:
    doc, clause = scored.doc, None
    if doc.repealed_by is not None:
        other = store.document(doc.repealed_by.doc_id)
        clause = other and other.clause(doc.repealed_by.clause_id)
    elif doc.superseded_by is not None:
        other = store.document(doc.superseded_by.doc_id)
        clause = other and head_clause(other, False)
    if not clause:
        return None
    return ScoredClause(clause=clause, doc=other.info(), score=scored.score, routed=True)


def head_clause(doc: Document, effective: bool) -> Clause:
    if effective:
        stating = [c for c in doc.clauses if EFFECTIVE_CLAUSE.search(c.text)]
        if stating:
            return stating[-1]  # the closing article, not an earlier 自…起实施 of a measure
    return next((c for c in doc.clauses if c.kind == "preamble"), doc.clauses[0])

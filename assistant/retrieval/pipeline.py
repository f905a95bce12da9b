"""The one retrieval path: what `Assistant.search` lists and what `Assistant.ask` answers from.

candidates (BM25 + dense, fused, routed, filtered: `HybridRetriever`) → reranker → the text
in force ahead of what it replaced → for a 修订 question, the changed article in both
versions → for a metadata question, the named documents' preambles (and what settles
their status). The settings' `in_force_only` joins the caller's filters.

>>> query = analyse("四川省在哪些城市开展三医联动改革试点？")
>>> retrieve(query, store, settings)[0].doc.number                  # doctest: +SKIP
'川办函〔2021〕56号'

"""

from __future__ import annotations

from assistant.models import ScoredClause, SearchFilters
from assistant.query import Query, narrower_place, place_forms
from assistant.retrieval.documents import metadata_first
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.rerankers import rerank
from assistant.retrieval.versions import prefer_current, versions_first
from assistant.settings import Settings


def retrieve(query: Query, store, settings: Settings, *, k: int | None = None,
             filters: SearchFilters | None = None) -> list[ScoredClause]:
    """The clauses that answer `query`, best first: k candidates (the top_k setting when None)
    re-ordered and led by the clauses the question is about (those carry `routed`)."""
    filters = effective_filters(filters, settings)
    wanted = k or settings.retrieval.top_k
    if query.places:  # room for the asked place's own text behind its districts' copies
        found = asked_place_first(query, HybridRetriever(store).search(query, 2 * wanted, filters))
        found = found[:wanted]
    else:
        found = HybridRetriever(store).search(query, wanted, filters)
    found = prefer_current(rerank(query, found, settings))
    if query.changes:
        found = versions_first(found, store)
    if query.meta:
        found = metadata_first(query, found, store, filters)
    return found


def asked_place_first(query: Query, found: list[ScoredClause]) -> list[ScoredClause]:
    """Clauses of documents about a place below the one asked (a district's copy of a
    city's notice, `query.narrower_place`) after the others, when a document of the asked
    place itself is among them: the city's clause is then not cut off by its copies."""
    docs = {s.doc.doc_id: s.doc for s in found}
    below = {d: narrower_place(query, doc.title, doc.region) for d, doc in docs.items()}
    forms = [f for p in query.places for f in place_forms(p)]
    asked_own = any(below[d] is None and any(f in f"{doc.title}{doc.issuer or ''}" for f in forms)
                    for d, doc in docs.items())
    if not asked_own or not any(below.values()):
        return found
    return sorted(found, key=lambda s: below[s.doc.doc_id] is not None)  # stable


def retrieve_parts(query: Query, store, settings: Settings, *, k: int | None = None,
                   filters: SearchFilters | None = None) -> list[tuple[Query, list[ScoredClause]]]:
    """Each part of a question that asks two things (`Query.parts`), retrieved on its own:
    the second part's answer is often in another document that the whole question's
    candidates rank low or miss (纸质病历… 电子病历呢?)."""
    return [(part, retrieve(part, store, settings, k=k, filters=filters)) for part in query.parts]


def effective_filters(filters: SearchFilters | None, settings: Settings) -> SearchFilters | None:
    """The caller's filters, restricted to texts in force when the settings say so."""
    if settings.retrieval.in_force_only and not (filters and filters.in_force_only):
        return (filters or SearchFilters()).model_copy(update={"in_force_only": True})
    return filters

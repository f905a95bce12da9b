"""Validity from the library: which documents are versions of one work, which are replaced.

A pure pass over every document of the index, run by the index writer after each ingest,
delete or rebuild (assistant/stores/backends.py), so the order of ingestion does not
matter. It recomputes from scratch each time:

- versions: documents with the same title (and issuer, when both state one) are versions of
  one work; the newest non-draft text is current, older ones are 被修订 with `superseded_by`;
- repeals: a clause that repeals or replaces another document by name or 文号 (同时废止,
  不再执行, 以本办法为准…, see `assistant.lexicon.repeal_statements`) marks that document
  失效 with `repealed_by` (the clause, verbatim); a name the library does not hold is listed
  in the repealing document's `repeals_missing`;
- status: an explicit status the document states itself (有效, 失效, 征求意见稿) wins; else a
  repeal gives 失效 and a newer version 被修订 (`status_source` = "library").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import TypeVar

from assistant.lexicon import core_issuer, names_document, normalise_title, repeal_statements
from assistant.models import (
    EXPLICIT_STATUSES,
    DocLink,
    DocStatus,
    Document,
    DocumentInfo,
    Repeal,
    RepealStatement,
    stable_id,
)

D = TypeVar("D", bound=DocumentInfo)


def apply_validity(documents: Sequence[Document]) -> list[Document]:
    """Copies of `documents` with versions, repeals and the status in effect derived."""
    docs = [_reset(d) for d in documents]
    _link_versions(docs)
    _link_repeals(docs)
    for doc in docs:
        _settle_status(doc)
    return docs


def own_status(doc: DocumentInfo) -> DocStatus | None:
    """The status the document states itself, before or after a library pass."""
    return doc.stated_status if doc.status_source is not None else doc.status


def _reset(doc: D) -> D:
    return doc.model_copy(update={
        "status": own_status(doc), "stated_status": own_status(doc), "status_source": None,
        "work_id": None, "versions": [], "superseded_by": None, "repealed_by": None,
        "repeals_missing": []})


def works(docs: Sequence[D]) -> list[list[D]]:
    """Documents grouped into works, each oldest version first.

    One title, and issuers that agree: the same body, one naming it more fully than the
    other (国务院 / 国务院第164次常务会议), or one unstated. Two cities' notices of one
    title are two works.
    """
    by_title: dict[str, list[D]] = defaultdict(list)
    for doc in sorted(docs, key=_age):
        by_title[normalise_title(doc.title)].append(doc)
    grouped: list[list[D]] = []
    for title_docs in by_title.values():
        clusters: list[list[D]] = []
        for doc in title_docs:
            home = next((c for c in clusters if all(_same_body(doc, o) for o in c)), None)
            if home is None:
                clusters.append([doc])
            else:
                home.append(doc)
        grouped.extend(clusters)
    return grouped


def _age(doc: DocumentInfo) -> tuple[date, str]:
    return doc.version_date or date.min, doc.doc_id


def _same_body(one: DocumentInfo, other: DocumentInfo) -> bool:
    a, b = core_issuer(one.issuer), core_issuer(other.issuer)
    return not a or not b or a in b or b in a


def _link_versions(docs: list[Document]) -> None:
    # A draft never replaces the text in force, so it is no version here.
    for versions in works([d for d in docs if d.status != DocStatus.DRAFT]):
        first = versions[0]
        work_id = stable_id(normalise_title(first.title), first.doc_id, length=12)
        for doc in versions:
            doc.work_id = work_id
        if len(versions) < 2:
            continue
        current = versions[-1]
        for doc in versions:
            doc.versions = [v.doc_id for v in versions]
            if doc is not current:
                doc.superseded_by = DocLink(doc_id=current.doc_id, ref=current.version_ref)


def _link_repeals(docs: list[Document]) -> None:
    for repealer in docs:
        for clause in repealer.clauses:
            for sentence, targets in repeal_statements(clause.text):
                for target in targets:
                    held = [d for d in docs if _repeals(repealer, target, d)]
                    for doc in held:
                        doc.repealed_by = doc.repealed_by or Repeal(
                            doc_id=repealer.doc_id, ref=repealer.short_ref,
                            clause_id=clause.clause_id, label=clause.label, evidence=sentence)
                    if not held and not _names_own_work(repealer, target):
                        repealer.repeals_missing.append(RepealStatement(
                            target=target, clause_id=clause.clause_id, label=clause.label,
                            evidence=sentence))


def _repeals(repealer: DocumentInfo, target: str, doc: DocumentInfo) -> bool:
    """`target` names `doc`, which is another work, not newer than the repealing text."""
    if doc.doc_id == repealer.doc_id or doc.work_id and doc.work_id == repealer.work_id:
        return False  # 1988年发布的《军人抚恤优待条例》同时废止: an older text of this very work
    if not names_document(target, doc.title, doc.number):
        return False
    older, newer = doc.version_date, repealer.version_date
    return older is None or newer is None or older <= newer


def _names_own_work(repealer: DocumentInfo, target: str) -> bool:
    return names_document(target, repealer.title, None)


def _settle_status(doc: DocumentInfo) -> None:
    own = doc.stated_status
    if own in EXPLICIT_STATUSES:
        doc.status, doc.status_source = own, "document"
    elif doc.repealed_by is not None:
        doc.status, doc.status_source = DocStatus.REPEALED, "library"
    elif doc.superseded_by is not None:
        doc.status, doc.status_source = DocStatus.SUPERSEDED, "library"
    else:
        doc.status, doc.status_source = own, "document" if own else None

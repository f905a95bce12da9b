"""Questions that name a document (文号, 《title》) or a clause ((十四), 第十四条, 三、).

`route(query, documents)` says which documents the question names and which clause
labels; the retriever restricts the search to the named documents and puts the named
clauses first (ScoredClause.routed = True).

>>> r = route(analyse("川卫发[2017]65号(十四)讲了什么?"), docs)   # doctest: +SKIP
>>> r.doc_ids, r.labels
(['bc342a7cbc823a6c'], [{'（十四）'}])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.lexicon import LABEL_IN_QUESTION as _LABELS
from assistant.lexicon import cn_to_int, find_doc_numbers, int_to_cn, normalise_numbers_in
from assistant.models import PREAMBLE_LABEL, Clause, DocumentInfo
from assistant.query import Query

_TITLE = re.compile(r"《([^》]{4,})》")
TITLE_NAMED_MAX = 20


@dataclass
class Route:
    """What a question names: documents (by id) and clause labels (alternatives per level)."""

    doc_ids: list[str] = field(default_factory=list)
    labels: list[set[str]] = field(default_factory=list)
    attachment: bool = False
    about_document: bool = False
    unknown_numbers: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.doc_ids and not self.labels


def _label_alternatives(match: re.Match[str]) -> set[str] | None:
    if match.group("par"):
        return {f"（{int_to_cn(cn_to_int(match.group('par')))}）"}
    if match.group("parnum"):
        return {f"（{int(match.group('parnum'))}）"}
    if match.group("ord"):
        raw = match.group("ord")
        number = int(raw) if raw.isdigit() else cn_to_int(raw)
        cn = int_to_cn(number)
        return {f"{cn}、", f"（{cn}）", f"{number}.", f"第{cn}条"}
    if match.group("num"):
        return {f"{int(match.group('num'))}."}
    if match.group("top"):
        return {f"{int_to_cn(cn_to_int(match.group('top')))}、"}
    return None


def find_labels(question: str) -> tuple[list[set[str]], bool]:
    """Clause labels named in the question, outermost first, and whether 附件 is named."""
    labels: list[set[str]] = []
    attachment = False
    for match in _LABELS.finditer(normalise_numbers_in(question)):
        if match.group(0).startswith("附件"):
            attachment = True
            if match.group("att"):
                raw = match.group("att")
                labels.append({f"{int_to_cn(int(raw)) if raw.isdigit() else raw}、"})
            continue
        alternatives = _label_alternatives(match)
        if alternatives:
            labels.append(alternatives)
    return labels, attachment


def find_documents(question: str, documents: Sequence[DocumentInfo]) -> tuple[list[str], list[str]]:
    """(doc_ids named by 文号 or 《title》, 文号-like strings that match no document)."""
    text = normalise_numbers_in(question)
    written = find_doc_numbers(question) + find_doc_numbers(text)
    named = [d.doc_id for d in documents
             if d.number and (d.number in text or any(w.endswith(d.number) for w in written))]
    for title in _TITLE.findall(text):
        named += [d.doc_id for d in documents
                  if d.doc_id not in named and any(title == t or title in t for t in _titles(d))]
    if not named:
        named = [d.doc_id for d in documents if any(_names_title(text, t) for t in _titles(d))]
    known = {d.number for d in documents if d.number}
    # A greedy match may carry words before the issuer (请问川办函…): a suffix is a hit.
    unknown = [n for n in dict.fromkeys(written) if not any(n.endswith(k) for k in known)]
    return named, unknown


def _titles(doc: DocumentInfo) -> list[str]:
    """A document is named by its title, or (an 印发 notice) by the title of the rule it issues."""
    return [doc.title] + ([doc.rule_title] if doc.rule_title else [])


def _names_title(text: str, title: str) -> bool:
    """The question writes a short title without 《》: 医疗机构管理条例, 献血法 (中华人民共和国
    dropped). Long notice titles are never typed in full, so only short ones count."""
    short = title.removeprefix("中华人民共和国")
    return 3 <= len(short) <= TITLE_NAMED_MAX and short in text


def route(query: Query, documents: Sequence[DocumentInfo]) -> Route:
    """What the question names. A question about the document itself (its status, dates,
    issuer…) is the Query's `meta`: one analysis, shared with the answer stage."""
    doc_ids, unknown = find_documents(query.text, documents)
    labels, attachment = find_labels(query.text)
    about = bool(query.meta)
    return Route(doc_ids=doc_ids, labels=labels, attachment=attachment, about_document=about,
                 unknown_numbers=unknown)


def clause_matches(clause: Clause, wanted: Route) -> bool:
    """The clause's own label is the last one named, and its path holds the earlier ones.

    A question about a named document itself (no clause named) matches its preamble,
    which carries the document's metadata.
    """
    if not wanted.labels:
        return wanted.about_document and bool(wanted.doc_ids) and clause.path == [PREAMBLE_LABEL]
    if clause.kind != "clause" or not clause.path:
        return False
    if clause.path[-1] not in wanted.labels[-1]:
        return False
    if wanted.attachment and clause.path[0] != "附件":
        return False
    outer = [alts for alts in wanted.labels[:-1]]
    remaining = iter(clause.path[:-1])
    return all(any(p in alts for p in remaining) for alts in outer)

"""Questions that name a document (文号, 《title》) or a clause ((十四), 第十四条, 三、).

`route(question, documents)` says which documents the question names and which clause
labels; the retriever restricts the search to the named documents and puts the named
clauses first (ScoredClause.routed = True).

>>> r = route("川卫发[2017]65号(十四)讲了什么?", docs)   # doctest: +SKIP
>>> r.doc_ids, r.labels
(['bc342a7cbc823a6c'], [{'（十四）'}])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.lexicon import cn_to_int, find_doc_numbers, int_to_cn, normalise_numbers_in
from assistant.models import PREAMBLE_LABEL, Clause, DocumentInfo

_TITLE = re.compile(r"《([^》]{4,})》")
# A question about the document itself (its status, dates, issuer), not its content.
_ABOUT_DOCUMENT = re.compile(
    r"有效|失效|废止|施行|生效|效力|成文|签发|征求意见稿|发文机关|发文单位"
    r"|(什么时候|何时|哪天|哪一天|哪年|日期|时间).{0,3}(发布|印发|发出|出台|下发)"
    r"|(发布|印发|出台|下发)的?(日期|时间)|(谁|哪个(部门|单位|机关))(发布|印发|发)")

_CN = "[一二三四五六七八九十百零〇两]{1,4}"
_LABELS = re.compile(
    rf"附件\s*(?P<att>{_CN}|\d{{1,2}})?"
    rf"|[（(]\s*(?P<par>{_CN})\s*[）)]"
    rf"|[（(]\s*(?P<parnum>\d{{1,3}})\s*[）)]"
    rf"|第\s*(?P<ord>{_CN}|\d{{1,3}})\s*(?:条|项|款|点|部分)"
    rf"|(?<![一二三四五六七八九十百零〇两\d])(?P<top>{_CN})\s*、"
    rf"|(?<=[）)])(?P<num>\d{{1,3}})\s*[.．、]"  # 1. only right after a bracketed label
)


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
                  if d.doc_id not in named and (title == d.title or title in d.title)]
    known = {d.number for d in documents if d.number}
    # A greedy match may carry words before the issuer (请问川办函…): a suffix is a hit.
    unknown = [n for n in dict.fromkeys(written) if not any(n.endswith(k) for k in known)]
    return named, unknown


def route(question: str, documents: Sequence[DocumentInfo]) -> Route:
    doc_ids, unknown = find_documents(question, documents)
    labels, attachment = find_labels(question)
    about = bool(_ABOUT_DOCUMENT.search(question))
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

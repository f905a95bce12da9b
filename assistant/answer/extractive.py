"""The offline default backend: answers with sentences taken verbatim from the context.

No model and no instructions followed: it scores the sentences of the top blocks by
overlap with the question's content words and returns the best 1-4, each followed by
its block marker. A question spanning documents (哪些文件…, 各地…) gets the best
sentence of each document. A question about a document itself (是否有效, 何时印发,
发文机关, 文号) is answered from the document's metadata, citing the block that states
it (the pipeline puts that document's preamble first).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.answer.backends import BACKENDS, GenerationRequest
from assistant.answer.context import Context, ContextBlock, _date
from assistant.answer.terms import content_terms, meta_kinds, spans_documents
from assistant.settings import Settings

MAX_SENTENCES = 4
SINGLE_DOC_BLOCKS = 3
MULTI_DOC_LIMIT = 4
_LEADING_LABEL_RE = re.compile(r"^\s*(?:[（(][一二三四五六七八九十百\d]+[）)]|[一二三四五六七八九十百]+、|\d+[.．、]|[①-⑳])\s*")
_DUTY_RE = re.compile(r"[（(][^（）()]*(?:负责|参与|牵头|配合|责任单位)[^（）()]*[）)]\s*$|责任单位[:：].*$")
_SPLIT_RE = re.compile(r"[^。；！？!?\n]+[。；！？!?]?")


@dataclass(frozen=True)
class Candidate:
    block: ContextBlock
    position: int
    text: str
    score: float

    def cited(self) -> str:
        return f"{self.text.rstrip('。；;，,')}[{self.block.marker}]。"


def clause_sentences(text: str) -> list[str]:
    """The clause's sentences without its leading label or trailing duty note."""
    body = _LEADING_LABEL_RE.sub("", text.strip())
    sentences = []
    for piece in _SPLIT_RE.findall(body):
        piece = _DUTY_RE.sub("", piece.strip()).strip()
        if len(piece.strip("。；！？!? ")) >= 4:
            sentences.append(piece)
    return sentences


def _score(sentence: str, terms: tuple[str, ...]) -> float:
    return float(sum(len(t) for t in terms if t in sentence))


def candidates(question: str, blocks: list[ContextBlock]) -> list[Candidate]:
    terms = content_terms(question)
    found = []
    for rank, block in enumerate(blocks):
        weight = 1.0 - 0.05 * rank  # retrieval order breaks ties
        for position, sentence in enumerate(clause_sentences(block.scored.clause.text)):
            score = _score(sentence, terms) * weight
            if score > 0:
                found.append(Candidate(block, position, sentence, score))
    return found


def pick_single(found: list[Candidate]) -> list[Candidate]:
    if not found:
        return []
    best = max(c.score for c in found)
    chosen = sorted((c for c in found if c.score >= 0.6 * best), key=lambda c: -c.score)
    return sorted(chosen[:MAX_SENTENCES], key=lambda c: (c.block.marker, c.position))


def pick_per_document(found: list[Candidate]) -> list[Candidate]:
    if not found:
        return []
    best = max(c.score for c in found)
    per_doc: dict[str, Candidate] = {}
    for cand in sorted(found, key=lambda c: -c.score):
        per_doc.setdefault(cand.block.doc.doc_id, cand)
    chosen = [c for c in per_doc.values() if c.score >= 0.4 * best][:MULTI_DOC_LIMIT]
    return sorted(chosen, key=lambda c: c.block.marker)


def metadata_sentences(kinds: list[str], block: ContextBlock) -> list[str]:
    doc, n = block.doc, block.marker
    ref = f"《{doc.title}》" + (f"（{doc.number}）" if doc.number else "")
    facts = {
        "status": f"{ref}的有效性为“{doc.status.value}”" if doc.status else f"{ref}未标注有效性",
        "date": _date_fact(ref, block),
        "issuer": f"{ref}的发文机关为{doc.issuer}" if doc.issuer else f"{ref}未标注发文机关",
        "number": f"{ref}的文号为{doc.number}" if doc.number else f"《{doc.title}》未标注文号",
    }
    return [f"{facts[kind]}[{n}]。" for kind in kinds]


def _date_fact(ref: str, block: ContextBlock) -> str:
    doc = block.doc
    parts = [f"成文日期为{_date(doc.signed)}" if doc.signed else "",
             f"发布日期为{_date(doc.published)}" if doc.published else ""]
    stated = "，".join(p for p in parts if p)
    return f"{ref}的{stated}" if stated else f"{ref}未标注成文日期和发布日期"


def compose(question: str, context: Context) -> list[str]:
    """The answer's sentences, each ending with its marker."""
    if not context.blocks:
        return []
    kinds = meta_kinds(question)
    if kinds:
        return metadata_sentences(kinds, context.blocks[0])
    if spans_documents(question):
        chosen = pick_per_document(candidates(question, context.blocks))
    else:
        chosen = pick_single(candidates(question, context.blocks[:SINGLE_DOC_BLOCKS]))
    return [c.cited() for c in chosen]


class ExtractiveBackend:
    """Verbatim sentences from the context; never calls a model."""

    name = "extractive"

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        yield from compose(request.question, request.context)


@BACKENDS.register("extractive")
def _make(settings: Settings) -> ExtractiveBackend:
    return ExtractiveBackend()

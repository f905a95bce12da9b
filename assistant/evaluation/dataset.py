"""The gold set: one JSON question per line, loaded into typed `GoldItem`s and checked.

A line looks like
`{"id": "q001", "question": "…", "answerable": true,
  "gold": [{"doc": "川办函〔2021〕56号", "clause": "一、（一）"}], "facts": ["自贡市"]}`.
`doc` is the 文号, or the exact title of a document without one; `clause` is the display
label ("一、（一）", "附件二、（八）", "二、（二）6.", "前言", "结尾"). Unanswerable questions
have `answerable: false`, `gold: []` and `facts: []`. Optional `kind` says what the question
tests ("fact", "quantity", "two_docs", "near_miss") and `near` names, for a near-miss, the clause
it almost matches ("医保发〔2022〕22号 二、（三）"). See eval/README.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.errors import AssistantError, UnknownDocumentError
from assistant.lexicon import ISO_DATE_IN_TEXT as _ISO_DATE
from assistant.models import Document
from assistant.service.assistant import resolve_document

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "eval" / "gold.jsonl"

# Half-width punctuation is folded to full-width so a fact copied from either form matches.
_WIDTH = str.maketrans({"(": "（", ")": "）", ",": "，", ":": "：", ";": "；", "%": "％",
                        "!": "！", "?": "？"})
_SPACE = re.compile(r"\s+")


class DatasetError(AssistantError):
    """A gold-set file that cannot be used; the message names the file and line."""


class GoldRef(BaseModel):
    doc: str = Field(min_length=1, description="文号, or the exact title of a document without one")
    clause: str = Field(min_length=1, description="display label, e.g. 一、（一）")


# What a question tests: a single fact, a number/deadline/headcount asked in everyday words,
# an answer needing two documents, or an unanswerable question that looks answerable.
QuestionKind = Literal["fact", "quantity", "two_docs", "near_miss"]


class GoldItem(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answerable: bool
    gold: list[GoldRef] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    kind: QuestionKind | None = None
    near: str | None = Field(None, min_length=1,
                             description="near-miss only: '<doc> <clause>' it almost matches")

    @model_validator(mode="after")
    def _consistent(self) -> GoldItem:
        if self.answerable and not self.gold:
            raise ValueError("answerable question without gold clauses")
        if not self.answerable and (self.gold or self.facts):
            raise ValueError("unanswerable question must have empty gold and facts")
        _check_kind(self)
        return self


def _check_kind(item: GoldItem) -> None:
    """`kind` and `near` must agree with the rest of the line."""
    if item.near is not None and item.kind != "near_miss":
        raise ValueError("near is only for kind near_miss")
    if item.kind == "near_miss" and item.answerable:
        raise ValueError("a near_miss question must be unanswerable")
    if item.kind in ("fact", "quantity", "two_docs") and not item.answerable:
        raise ValueError(f"a {item.kind} question must be answerable")
    if item.kind == "two_docs" and len({ref.doc for ref in item.gold}) < 2:
        raise ValueError("a two_docs question needs gold clauses in two documents")


def normalise_text(text: str) -> str:
    """For matching facts: no whitespace, full-width punctuation, ISO dates as 年月日."""
    text = _ISO_DATE.sub(lambda m: f"{m[1]}年{int(m[2])}月{int(m[3])}日", text)
    return _SPACE.sub("", text).translate(_WIDTH)


def contains_fact(text: str, fact: str) -> bool:
    return normalise_text(fact) in normalise_text(text)


def load_gold(path: Path | str) -> list[GoldItem]:
    """Read a JSONL gold set; any bad line is a `DatasetError` naming it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DatasetError(f"cannot read gold set {path}: {err}") from None
    items = [_parse_line(path, number, line) for number, line in enumerate(lines, 1)
             if line.strip()]
    if not items:
        raise DatasetError(f"{path}: no questions found")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise DatasetError(f"{path}: duplicate id {item.id!r}")
        seen.add(item.id)
    return items


def _parse_line(path: Path, number: int, line: str) -> GoldItem:
    try:
        return GoldItem.model_validate(json.loads(line))
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path}:{number}: not valid JSON ({err.msg})") from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "line"
        raise DatasetError(f"{path}:{number}: {where}: {first['msg']}") from None


def find_document(documents: Sequence[Document], ref: str) -> Document:
    """The document a gold `doc` names: exact 文号, else exact title (no fuzzy matching)."""
    exact = [d for d in documents if d.number == ref or (d.number is None and d.title == ref)]
    if len(exact) == 1:
        return exact[0]
    return resolve_document(documents, ref)


def gold_keys(item: GoldItem, documents: Sequence[Document]) -> list[tuple[str, tuple[str, ...]]]:
    """Each gold reference as (doc_id, clause path); raises DatasetError if one does not resolve."""
    keys = []
    for ref in item.gold:
        try:
            doc = find_document(documents, ref.doc)
        except UnknownDocumentError:
            raise DatasetError(f"{item.id}: no document {ref.doc!r} in the index") from None
        clause = next((c for c in doc.clauses if c.label == ref.clause), None)
        if clause is None:
            raise DatasetError(f"{item.id}: {doc.short_ref} has no clause {ref.clause!r}")
        keys.append((doc.doc_id, tuple(clause.path)))
    return keys


def check_gold(items: Sequence[GoldItem], documents: Sequence[Document],
               raw_texts: dict[str, str] | None = None) -> list[str]:
    """Every problem with a gold set against parsed documents; [] when it is sound.

    Each gold reference must resolve to exactly one clause. Each fact must occur (whitespace
    and punctuation width aside) in the text of a gold clause or its sub-clauses, or in the
    gold document's metadata (status, dates, issuer) for questions about the document itself;
    with `raw_texts` (file name → raw text) it must also occur verbatim in the raw file.
    """
    problems = []
    by_id = {d.doc_id: d for d in documents}
    for item in items:
        try:
            keys = gold_keys(item, documents)
        except DatasetError as err:
            problems.append(str(err))
            continue
        evidence = [_evidence(by_id[doc_id], path) for doc_id, path in keys]
        raws = [(raw_texts or {}).get(by_id[doc_id].source) for doc_id, _ in keys]
        for fact in item.facts:
            if not any(contains_fact(text, fact) for text in evidence):
                problems.append(f"{item.id}: fact {fact!r} not in its gold clauses")
            if raw_texts is not None and not any(r and contains_fact(r, fact) for r in raws):
                problems.append(f"{item.id}: fact {fact!r} not in the raw file")
    return problems


def _evidence(doc: Document, path: tuple[str, ...]) -> str:
    """Text of the clause at `path` and its sub-clauses, plus the document's metadata."""
    texts = [c.text for c in doc.clauses if tuple(c.path[: len(path)]) == path]
    meta = [doc.number, doc.title, doc.issuer, doc.signed, doc.published,
            doc.status.value if doc.status else None]
    return "\n".join(texts + [str(m) for m in meta if m])

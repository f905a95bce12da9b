"""The typed core model that flows through every stage.

load → clean → parse gives `Document`s made of `Clause`s; retrieval returns
`ScoredClause`s; answering returns an `Answer` whose `Citation`s point back to
clauses by id. Stages exchange these objects, never loose dicts.
"""

from __future__ import annotations

import hashlib
from datetime import date
from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field, field_serializer

from assistant.lexicon import legal_label


class DocStatus(str, Enum):
    """Legal status of a document, only as stated by the document itself."""

    IN_FORCE = "有效"
    REPEALED = "失效"
    DRAFT = "征求意见稿"
    TRIAL = "试行"  # 试行/暂行: in force, flagged as provisional
    SUPERSEDED = "被修订"  # only derived from the library: a newer version of the work is held


StatusSource = Literal["document", "library"]
Genre = Literal["news"]

# Statuses that are claims about validity; 试行 is a flavour of 有效 and does not block the
# library's finding that a later text repealed or replaced the document.
EXPLICIT_STATUSES = (DocStatus.IN_FORCE, DocStatus.REPEALED, DocStatus.DRAFT)


ClauseKind = Literal["preamble", "clause", "closing"]

PREAMBLE_LABEL = "前言"
CLOSING_LABEL = "结尾"
ATTACHMENT_LABEL = "附件"


def stable_id(*parts: str, length: int = 16) -> str:
    """Deterministic short id from its parts (same input → same id on every run)."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


class OcrInfo(BaseModel):
    """How much of a document was read by OCR, and how sure the engine was."""

    engine: str
    pages: list[int] = Field(default_factory=list, description="1-based pages read by OCR")
    unread: list[int] = Field(default_factory=list, description="OCR'd pages with no text found")
    confidence: float | None = Field(None, description="mean score of the OCR'd lines, 0–1")


class DocLink(BaseModel):
    """A pointer from one document to another in the library, with how to name it."""

    doc_id: str
    ref: str = Field(description="the other document as cited: 《…》（2024年修订） or its 文号")


class Repeal(DocLink):
    """The clause of another library document that repeals or replaces this one."""

    clause_id: str
    label: str = Field(description="the repealing clause's label, e.g. 第五十条")
    evidence: str = Field(description="the repealing sentence, verbatim")


class RepealStatement(BaseModel):
    """A repeal this document states of a document the library does not hold."""

    target: str = Field(description="the repealed document as written: 《…》 or a 文号")
    clause_id: str
    label: str
    evidence: str


class DocumentInfo(BaseModel):
    """A document's metadata, without its text and clauses.

    Anything the document does not state is None: never guessed.
    """

    doc_id: str
    number: str | None = Field(None, description="文号, normalised, e.g. 川办函〔2021〕56号")
    title: str
    issuer: str | None = None
    signed: date | None = Field(None, description="成文日期")
    published: date | None = Field(None, description="发布日期 (laws: 公布/通过 date of this text)")
    effective: date | None = Field(None, description="施行日期, where the document states it")
    history: list[str] = Field(
        default_factory=list, description="issuance events as stated: 2019-08-26 修订, oldest first"
    )
    status: DocStatus | None = Field(
        None, description="有效 / 失效 / 征求意见稿 / 试行; None if unstated")
    region: str | None = None
    rule_title: str | None = Field(
        None,
        description="the rule an 印发 notice issues, when its text follows: 医师定期考核管理办法",
    )
    genre: Genre | None = Field(
        None, description="news: a media report (a dateline, a reporter's credit), kept for "
                          "search but never cited as a rule; None: a policy or legal text")
    source: str = Field("", description="file name the document was ingested from")
    ocr: OcrInfo | None = Field(None, description="set when pages were read by OCR (scans)")
    # Derived by the library pass (assistant/ingest/validity.py) over every indexed document;
    # `status` then holds the status in effect and `stated_status` what the text itself says.
    status_source: StatusSource | None = Field(
        None, description="document: `status` is as stated; library: derived from other documents")
    stated_status: DocStatus | None = Field(None, description="the status the text itself states")
    work_id: str | None = Field(None, description="same for every version of one work")
    versions: list[str] = Field(
        default_factory=list, description="doc ids of the work's versions held, oldest first")
    superseded_by: DocLink | None = Field(None, description="the current version of the work")
    repealed_by: Repeal | None = None
    repeals_missing: list[RepealStatement] = Field(
        default_factory=list, description="repeals this document states of documents not held")

    @property
    def in_force(self) -> bool:
        """Not known to be repealed, replaced by a newer version, or a draft."""
        return self.status not in (DocStatus.REPEALED, DocStatus.DRAFT, DocStatus.SUPERSEDED)

    @property
    def replacement(self) -> DocLink | None:
        """What replaced this text in the library (its current version, or the document that
        repealed it); None when in force or when the document's own status prevails."""
        if self.status_source != "library":
            return None
        if self.status == DocStatus.SUPERSEDED:
            return self.superseded_by
        if self.status == DocStatus.REPEALED and self.repealed_by:
            return DocLink(doc_id=self.repealed_by.doc_id, ref=self.repealed_by.ref)
        return None

    @property
    def version_date(self) -> date | None:
        """The date of this text: 公布/发布 date, else 成文, else its latest stated event."""
        latest = max((_event_date(e) for e in self.history), default=None, key=_date_key)
        return self.published or self.signed or latest

    @property
    def version_label(self) -> str | None:
        """(2024年修订) for a revised law, (2007年) for another dated text; None undated."""
        when = self.version_date
        if when is None:
            return None
        acts = [e.split(" ", 1)[1] for e in self.history if e.startswith(when.isoformat())]
        act = next((a for a in acts if a in ("修订", "修正")), "")
        return f"（{when.year}年{act}）"

    @property
    def version_ref(self) -> str:
        """How a version is named when versions are compared: 《军人抚恤优待条例》（2024年修订）."""
        if self.number:
            return self.number
        return f"《{self.title}》{self.version_label or ''}"

    @property
    def short_ref(self) -> str:
        """How a citation names the document: its 文号, else its title in 《》 (and which
        version, when the library holds several)."""
        if self.number:
            return self.number
        version = self.version_label if len(self.versions) > 1 else None
        return f"《{self.title}》{version or ''}"

    def status_warning(self) -> str | None:
        if self.status == DocStatus.REPEALED and self.repealed_by:
            link = self.repealed_by
            return (f"{self.short_ref} 已由{link.ref}{link.label}废止（“{link.evidence}”），"
                    "仅供参考。")
        if self.status == DocStatus.SUPERSEDED and self.superseded_by:
            return f"{self.short_ref} 已被{self.superseded_by.ref}取代，请以现行版本为准。"
        if self.status == DocStatus.REPEALED:
            return f"{self.short_ref} 已失效，仅供参考。"
        if self.status == DocStatus.DRAFT:
            return f"{self.short_ref} 为征求意见稿，尚未正式施行。"
        if self.status == DocStatus.TRIAL:
            return f"{self.short_ref} 为试行文件。"
        return None


def _event_date(event: str) -> date | None:
    try:
        return date.fromisoformat(event.split(" ", 1)[0])
    except ValueError:
        return None


def _date_key(when: date | None) -> date:
    return when or date.min


class Clause(BaseModel):
    """One addressable unit of a document: a numbered clause, the preamble or the closing.

    `path` holds the official full-width labels from the root, e.g. ["一、", "（一）"] or, in a
    legal text, ["第一章", "第二节", "第二十九条", "（四）"] (headings are clauses too);
    an attachment whose numbering restarts is kept apart by a leading "附件" element
    (["附件", "一、", "（一）"]). The preamble is ["前言"], the closing ["结尾"].
    `text` is the clause's own text (its marker line plus continuation paragraphs),
    not its children's; `start`/`end` are offsets of that text in `Document.text`.
    """

    clause_id: str
    doc_id: str
    kind: ClauseKind = "clause"
    path: list[str]
    heading: str | None = None
    text: str
    start: int
    end: int
    units: list[str] = Field(default_factory=list, description="responsible units, lead first")
    parent_id: str | None = None
    in_rule: bool = Field(
        False, description="part of the rule an 印发 notice issues (cited by its title)"
    )
    context: list[str] = Field(
        default_factory=list,
        description="document title and the ancestors' labelled headings, root first",
    )

    @property
    def label(self) -> str:
        return display_label(self.path)

    def embed_text(self) -> str:
        """What gets embedded and indexed: the clause with its context."""
        trail = " › ".join(self.context)
        return f"{trail}\n{self.text}" if trail else self.text


def display_label(path: list[str]) -> str:
    """["附件", "一、", "（一）"] → "附件一、（一）"; ["第三章", "第十九条", "（四）"] →
    "第十九条第（四）项".

    Notices join their path; inside a legal article the lawyer's form is used (chapters stay
    in the path only), see `assistant.lexicon.legal_label`.
    """
    return legal_label(path)


class Document(DocumentInfo):
    """A parsed document: metadata, cleaned text and its clauses in reading order."""

    text: str = Field("", description="cleaned text the clause offsets point into")
    clauses: list[Clause] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    encoding: str | None = None
    format: str | None = None

    def info(self) -> DocumentInfo:
        return DocumentInfo(**self.model_dump(include=set(DocumentInfo.model_fields)))

    def fingerprint(self) -> str:
        meta = self.info().model_dump_json()
        return hashlib.sha256((meta + "\x1f" + self.text).encode("utf-8")).hexdigest()

    def clause(self, clause_id: str) -> Clause | None:
        return next((c for c in self.clauses if c.clause_id == clause_id), None)


class ScoredClause(BaseModel):
    """A retrieved clause with the document it belongs to and where its score came from."""

    clause: Clause
    doc: DocumentInfo
    score: float
    dense_score: float | None = None
    sparse_score: float | None = None
    dense_rank: int | None = None
    sparse_rank: int | None = None
    routed: bool = Field(False, description="matched a 文号/clause named in the question")

    def to_result(self) -> dict:
        """The flat shape `assistant search --json` and the API print."""
        return {
            "clause_id": self.clause.clause_id,
            "doc_id": self.doc.doc_id,
            "number": self.doc.number,
            "title": self.doc.title,
            "status": self.doc.status.value if self.doc.status else None,
            "path": self.clause.path,
            "label": self.clause.label,
            "heading": self.clause.heading,
            "text": self.clause.text,
            "units": self.clause.units,
            "score": round(self.score, 6),
        }


class SearchFilters(BaseModel):
    """Query-time restrictions; None means no restriction."""

    doc_ids: list[str] | None = None
    issuer: str | None = Field(None, description="substring of the issuing body")
    region: str | None = Field(None, description="substring of the region")
    date_from: date | None = None
    date_to: date | None = None
    in_force_only: bool = False

    def admits(self, doc: DocumentInfo) -> bool:
        if self.doc_ids is not None and doc.doc_id not in self.doc_ids:
            return False
        if self.issuer and self.issuer not in (doc.issuer or ""):
            return False
        if self.region and self.region not in (doc.region or ""):
            return False
        if self.in_force_only and not doc.in_force:
            return False
        return self._admits_date(doc.signed or doc.published)

    def _admits_date(self, when: date | None) -> bool:
        if self.date_from is None and self.date_to is None:
            return True
        if when is None:
            return False
        if self.date_from and when < self.date_from:
            return False
        return not (self.date_to and when > self.date_to)


class Citation(BaseModel):
    """A marker in an answer, resolved by the system to the clause it points at."""

    marker: int
    clause_id: str
    doc_id: str
    number: str | None
    title: str
    status: DocStatus | None
    path: list[str]
    label: str
    text: str
    lead_in: str | None = Field(
        None, description="for a 项 or 款: its article's lead-in (第十条 有下列行为之一的，"
                          "…罚款：), where the consequence of the item usually is")
    supported: bool = True
    rendered: str = Field("", description="〔川办函〔2021〕56号 一、（一）〕")
    warning: str | None = None
    replaced_by: DocLink | None = Field(
        None, description="what replaced the cited text: its current version or the repealing "
                          "document, when the library holds it")


class AnswerSentence(BaseModel):
    """One sentence of an answer with the markers it cites and whether they support it."""

    text: str
    markers: list[int] = Field(default_factory=list)
    supported: bool = True
    missing: list[str] = Field(
        default_factory=list, description="facts not found in the cited clauses"
    )


class Answer(BaseModel):
    """What `assistant ask --json` prints and the API returns."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    sentences: list[AnswerSentence] = Field(default_factory=list)
    retrieved: list[ScoredClause] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    backend: str
    timings_ms: dict[str, float] = Field(default_factory=dict)
    settings_hash: str | None = None

    @field_serializer("retrieved")
    def _flat_retrieved(self, retrieved: list[ScoredClause]) -> list[dict]:
        # Same shape as `assistant search --json` results, so clients parse one format.
        return [s.to_result() for s in retrieved]

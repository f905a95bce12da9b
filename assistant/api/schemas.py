"""Request and response bodies of the HTTP API, kept apart from the domain model.

Requests forbid unknown fields so a typo ("topk") is a 422, not silently ignored
(except the OpenAI-compatible request, which must accept that protocol's extra options).
Limits that depend on settings (question length, top_k maximum) are checked in
`assistant.api.asking`, so the schema stays static.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from assistant.models import AnswerSentence, Citation, DocumentInfo

MAX_HISTORY_TURNS = 40
MAX_TURN_CHARS = 20_000
MAX_FILTER_DOCS = 200


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _iso_date_text(value):
    # Only what the schema says (a YYYY-MM-DD string): pydantic alone would also take 0 or
    # "1700000000" as a Unix time, a request the published schema calls invalid.
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]


def _json_integer(value):
    # A JSON Schema integer: 3 or 3.0, never true or "3" (pydantic alone takes both).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("an integer")  # noqa: TRY004 - pydantic turns only ValueError into a 422
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("an integer")
    return int(value)


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


# --- requests
class Filters(Strict):
    doc_ids: list[str] | None = Field(
        None, max_length=MAX_FILTER_DOCS,
        description="only these documents (doc_id or 文号); unknown ones are a 422")
    in_force_only: StrictBool = Field(False,
                                      description="leave out documents marked 失效 or 征求意见稿")
    date_from: IsoDate | None = Field(None, description="成文 (else 发布) date on or after")
    date_to: IsoDate | None = Field(None, description="成文 (else 发布) date on or before")
    issuer: str | None = Field(None, max_length=200, description="substring of the issuing body")
    region: str | None = Field(None, max_length=200, description="substring of the region")

    @model_validator(mode="after")
    def _dates_in_order(self) -> Filters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from ({self.date_from}) is after date_to ({self.date_to})")
        return self


class Turn(Strict):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_TURN_CHARS)


class QuestionFields(Strict):
    # Checked by the service's request rules (not empty, at most max_question_chars), once
    # for every caller: a refused question is a 422 problem like a schema error.
    question: str = Field(description="the question; not empty, at most max_question_chars")
    filters: Filters | None = None
    top_k: JsonInt | None = Field(None, ge=1, description="clauses to retrieve (1..max_top_k)")


class SearchRequest(QuestionFields):
    pass


class AskRequest(QuestionFields):
    backend: str | None = Field(None, max_length=64,
                                description="extractive | openai | langchain (default: settings)")
    stream: StrictBool = Field(False, description="answer as Server-Sent Events")
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS,
                                description="earlier turns, oldest first, for follow-ups")


class TextPart(BaseModel):
    type: Literal["text"] = "text"
    text: str = Field(max_length=MAX_TURN_CHARS)


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: StrictBool = Field(False, description="send token counts in a last chunk")


class ChatRequest(BaseModel):
    """OpenAI Chat Completions request; options this service does not use are ignored.
    The question is the last user message that holds a letter or digit."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{
        "model": "extractive",
        "messages": [{"role": "user", "content": "川办函〔2021〕56号 一、（一）的内容是什么？"}]}]})

    model: str | None = Field(None, max_length=64, description="the backend name")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_HISTORY_TURNS + 2)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    # Bounds documented, not validated: n=3 gets the route's specific 'unsupported' error.
    n: JsonInt | None = Field(None, description="choices to return; only 1 is supported",
                          json_schema_extra={"minimum": 1, "maximum": 1})
    top_k: JsonInt | None = Field(None, ge=1, description="extension: clauses to retrieve")
    filters: Filters | None = Field(None, description="extension: search filters")


# --- responses
class SearchResult(BaseModel):
    """One scored clause: the shape of `assistant search --json`."""

    clause_id: str
    doc_id: str
    number: str | None
    title: str
    status: str | None
    path: list[str]
    label: str
    heading: str | None
    text: str
    units: list[str]
    score: float


class SearchResponse(BaseModel):
    results: list[SearchResult]


class AnswerResponse(BaseModel):
    """The answer: the shape of `assistant ask --json`."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    sentences: list[AnswerSentence]
    retrieved: list[SearchResult]
    warnings: list[str]
    backend: str
    timings_ms: dict[str, float]
    settings_hash: str | None


class DocumentRow(DocumentInfo):
    clauses: int = Field(description="number of clauses")
    warnings: list[str] = Field(default_factory=list)


class DocumentList(BaseModel):
    documents: list[DocumentRow]


class ClauseOut(BaseModel):
    clause_id: str
    kind: str
    path: list[str]
    label: str
    heading: str | None
    text: str
    units: list[str]
    parent_id: str | None


class DocumentDetail(DocumentInfo):
    warnings: list[str] = Field(default_factory=list)
    clauses: list[ClauseOut]


class ClauseDetail(ClauseOut):
    document: DocumentInfo
    context: list[str]


class Deleted(BaseModel):
    deleted: DocumentRow
    documents: int = Field(description="documents left in the index")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    """`status` for anyone; the rest only for a valid key (or an API without keys)."""

    status: Literal["ready"] = "ready"
    documents: int | None = None
    clauses: int | None = None
    generation: str | None = None
    backend: str | None = None


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatChoiceMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Token counts (tiktoken cl100k_base) of the request's messages and of the answer."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """OpenAI `chat.completion`, plus `citations`, `warnings` and `abstained`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    citations: list[Citation] = Field(
        description="extra field: the clauses the answer cites, by marker ([1] → marker 1), "
                    "each with 文号, title, clause label, text, `rendered` and `supported`")
    warnings: list[str]
    abstained: bool


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "policy-assistant"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]

"""POST /v1/ask and POST /v1/search."""

from __future__ import annotations

from fastapi import APIRouter, Response

from assistant.api.asking import ask_job, search_filters
from assistant.api.deps import Reader, StateDep
from assistant.api.schemas import AnswerResponse, AskRequest, SearchRequest, SearchResponse
from assistant.api.sse import ask_frames, event_stream

router = APIRouter(prefix="/v1", tags=["questions"])

_STREAM_DOC = {200: {"description": "the answer; with `stream: true`, Server-Sent Events "
                                    "(delta…, final, done)",
                     "content": {"text/event-stream": {"schema": {"type": "string"}}}}}


@router.post("/ask", response_model=AnswerResponse, responses=_STREAM_DOC)
def ask(body: AskRequest, principal: Reader, state: StateDep):
    """Answer a question from the documents, citing 文号 and clause for every sentence."""
    job = ask_job(state, principal, "/v1/ask", question=body.question, filters=body.filters,
                  top_k=body.top_k, backend=body.backend,
                  history=[t.model_dump() for t in body.history])
    if body.stream:
        return event_stream(ask_frames(job.stream(state)))
    # Serialised here, in the worker thread, by the model itself: a dict returned would be
    # validated against `AnswerResponse` and encoded again on a second threadpool hop
    # (~1 ms of CPU per ask, docs/performance.md). The shape is the same (a test compares).
    return Response(job.run(state).model_dump_json(), media_type="application/json")


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, principal: Reader, state: StateDep):
    """The best-matching clauses, scored (the shape of `assistant search --json`)."""
    filters = search_filters(body.filters, state)
    found = state.assistant.search(body.question, body.top_k, filters,
                                   caller=state.caller(principal, "/v1/search"))
    return {"results": [s.to_result() for s in found]}

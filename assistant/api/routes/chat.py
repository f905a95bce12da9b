"""OpenAI-compatible facade: POST /v1/chat/completions and GET /v1/models.

The model name is the backend. The last user message is the question and the earlier
user/assistant messages are the history (system messages are ignored: the assistant
keeps its own prompt). Replies carry the extra fields `citations`, `warnings` and
`abstained`; a stream ends with a chunk holding them, then `data: [DONE]`.
"""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter

from assistant.api.asking import ask_job, bad_request
from assistant.api.deps import Reader, StateDep
from assistant.api.schemas import ChatCompletion, ChatMessage, ChatRequest, ModelList
from assistant.api.sse import chat_frames, event_stream
from assistant.models import Answer

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

_STREAM_DOC = {200: {"description": "chat.completion; with `stream: true`, "
                                    "chat.completion.chunk events ending with [DONE]",
                     "content": {"text/event-stream": {"schema": {"type": "string"}}}}}


@router.post("/chat/completions", response_model=ChatCompletion, responses=_STREAM_DOC)
def chat_completions(body: ChatRequest, principal: Reader, state: StateDep):
    question, history = split_messages(body.messages)
    job = ask_job(state, principal, "/v1/chat/completions", question=question,
                  filters=body.filters, top_k=body.top_k, backend=body.model or None,
                  history=history)
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    model = body.model or state.settings.backend
    if body.stream:
        def chunk(delta: dict, finish: str | None = None, answer: Answer | None = None) -> dict:
            return _chunk(reply_id, created, model, delta, finish, answer)

        return event_stream(chat_frames(job.stream(state), chunk))
    answer = job.run(state)
    return {"id": reply_id, "created": created, "model": answer.backend,
            "choices": [{"message": {"content": answer.answer}}], **_extras(answer)}


@router.get("/models", response_model=ModelList)
def list_models(principal: Reader):
    """The backends, by the names /v1/chat/completions accepts as `model`."""
    from assistant.answer.backends import BACKENDS, load_builtin_backends

    load_builtin_backends()
    return {"data": [{"id": name} for name in BACKENDS.names()]}


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict]]:
    """(question, history): the last message must be the user's."""
    if messages[-1].role != "user":
        raise bad_request(f"the last message must have role 'user' (the question), "
                          f"got {messages[-1].role!r}")
    history = [{"role": m.role, "content": m.text()} for m in messages[:-1]
               if m.role in ("user", "assistant") and m.text()]
    return messages[-1].text(), history


def _extras(answer: Answer) -> dict:
    """The fields this facade adds to OpenAI's reply shape."""
    return answer.model_dump(mode="json", include={"citations", "warnings", "abstained"})


def _chunk(reply_id: str, created: int, model: str, delta: dict, finish: str | None,
           answer: Answer | None) -> dict:
    body = {"id": reply_id, "object": "chat.completion.chunk", "created": created,
            "model": answer.backend if answer else model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return {**body, **_extras(answer)} if answer else body

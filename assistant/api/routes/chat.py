"""OpenAI-compatible facade: POST /v1/chat/completions, GET /v1/models and /v1/models/{id}.

The model name is the backend. The last user message is the question and the earlier
user/assistant messages are the history (system messages are ignored: the assistant
keeps its own prompt). Replies carry the extra fields `citations`, `warnings` and
`abstained`; a stream ends with a chunk holding them, then `data: [DONE]`. `usage`
counts tokens with tiktoken (cl100k_base). Errors on these paths are in OpenAI's shape
(assistant/api/openai_errors.py) so OpenAI clients show their message.
"""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter

from assistant.answer.backend_choice import is_configured
from assistant.answer.backends import BACKENDS
from assistant.api.asking import ask_job, bad_request
from assistant.api.deps import Reader, StateDep
from assistant.api.problems import ApiError
from assistant.api.schemas import ChatCompletion, ChatMessage, ChatRequest, ModelCard, ModelList
from assistant.api.sse import chat_frames, event_stream
from assistant.models import Answer
from assistant.service.request_rules import has_content, role_limits
from assistant.settings import Settings

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

_STREAM_DOC = {200: {"description": "chat.completion; with `stream: true`, "
                                    "chat.completion.chunk events ending with [DONE]",
                     "content": {"text/event-stream": {"schema": {"type": "string"}}}}}
# OpenAI's accounting: each message costs its tokens plus 3, and the reply is primed with 3.
_TOKENS_PER_MESSAGE = 3
_REPLY_PRIMING = 3


@router.post("/chat/completions", response_model=ChatCompletion, responses=_STREAM_DOC)
def chat_completions(body: ChatRequest, principal: Reader, state: StateDep):
    if body.n is not None and body.n != 1:
        raise ApiError(400, "Unsupported option", f"n={body.n} is not supported: this "
                       "service returns exactly one choice per request (send n=1 or omit n)",
                       param="n")
    model = check_model(body.model, state.settings) if body.model else state.settings.answer.backend
    check_message_lengths(body.messages, state.settings)
    question, history = split_messages(body.messages)
    job = ask_job(state, principal, "/v1/chat/completions", question=question,
                  filters=body.filters, top_k=body.top_k, backend=body.model or None,
                  history=history)
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    prompt_tokens = count_message_tokens(body.messages)
    if body.stream:
        with_usage = bool(body.stream_options and body.stream_options.include_usage)

        def chunk(delta: dict, finish: str | None = None, answer: Answer | None = None) -> dict:
            return _chunk(reply_id, created, model, delta, finish, answer)

        def usage_chunk(answer: Answer) -> dict:
            return {"id": reply_id, "object": "chat.completion.chunk", "created": created,
                    "model": answer.backend, "choices": [],
                    "usage": usage(prompt_tokens, answer)}

        return event_stream(chat_frames(job.stream(state), chunk,
                                        usage_chunk if with_usage else None))
    answer = job.run(state)
    return {"id": reply_id, "created": created, "model": answer.backend,
            "choices": [{"message": {"content": answer.answer}}],
            "usage": usage(prompt_tokens, answer), **_extras(answer)}


@router.get("/models", response_model=ModelList)
def list_models(principal: Reader, state: StateDep):
    """The backends usable over HTTP, by the names /v1/chat/completions accepts as `model`."""
    return {"data": [{"id": name} for name in usable_models(state.settings)]}


@router.get("/models/{model}", response_model=ModelCard)
def retrieve_model(model: str, principal: Reader, state: StateDep):
    """One model (backend) by name; 404 when it is not usable over HTTP."""
    return {"id": check_model(model, state.settings)}


def usable_models(settings: Settings) -> list[str]:
    """Registered backends set up on this server (an LLM backend without its server
    configured would only ever fail over to extractive: it is not listed)."""
    return [name for name in BACKENDS.names() if is_configured(name, settings)]


def check_model(model: str, settings: Settings) -> str:
    usable = usable_models(settings)
    if model not in usable:
        raise ApiError(404, "Unknown model", f"unknown backend {model!r}; known: "
                       f"{', '.join(usable)} (the model name is the answer backend)",
                       param="model")
    return model


def check_message_lengths(messages: list[ChatMessage], settings: Settings) -> None:
    """Every message within its role's limit, as the schema says, wherever it stands (a
    message the answer ignores is still part of the request)."""
    limits = role_limits(settings)
    for number, message in enumerate(messages, 1):
        length, limit = len(message.text()), limits[message.role]
        if length > limit:
            raise bad_request(f"message {number} ({message.role}) is {length} characters long; "
                              f"the limit is {limit}")


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict]]:
    """(question, history): the question is the last user message that asks something
    (holds a letter or digit); the user and assistant messages before it are the history.
    Messages after it (an assistant prefill, a tool result) are ignored, as system ones are."""
    asking = [i for i, m in enumerate(messages) if m.role == "user" and has_content(m.text())]
    if not asking:
        raise bad_request("no user message with a question: send at least one message with "
                          "role 'user' whose content holds a letter or digit")
    last = asking[-1]
    history = [{"role": m.role, "content": m.text()} for m in messages[:last]
               if m.role in ("user", "assistant") and m.text()]
    return messages[last].text(), history


def count_message_tokens(messages: list[ChatMessage]) -> int:
    """Prompt tokens as OpenAI counts a chat request: role and content of every message."""
    from assistant.answer.tokens import count_tokens

    per_message = (_TOKENS_PER_MESSAGE + count_tokens(m.role) + count_tokens(m.text())
                   for m in messages)
    return sum(per_message) + _REPLY_PRIMING


def usage(prompt_tokens: int, answer: Answer) -> dict:
    from assistant.answer.tokens import count_tokens

    completion = count_tokens(answer.answer)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion}


def _extras(answer: Answer) -> dict:
    """The fields this facade adds to OpenAI's reply shape."""
    return answer.model_dump(mode="json", include={"citations", "warnings", "abstained"})


def _chunk(reply_id: str, created: int, model: str, delta: dict, finish: str | None,
           answer: Answer | None) -> dict:
    body = {"id": reply_id, "object": "chat.completion.chunk", "created": created,
            "model": answer.backend if answer else model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return {**body, **_extras(answer)} if answer else body

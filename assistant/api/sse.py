"""Server-Sent Events framing for the two streaming endpoints.

/v1/ask:  `event: delta` {"text"} … then `event: final` (the full answer JSON), then
`event: done`. A failure after the stream opened becomes `event: error` (problem JSON).
/v1/chat/completions: OpenAI `chat.completion.chunk` objects as bare `data:` lines,
ending with `data: [DONE]`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

from fastapi.responses import StreamingResponse

from assistant.api.openai_errors import from_problem
from assistant.api.problems import domain_problem, problem_body
from assistant.errors import AssistantError
from assistant.models import Answer

log = logging.getLogger("assistant.api")

# Proxies (nginx) buffer responses unless told not to; a stream must arrive as it is made.
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def frame(data: dict | str, event: str | None = None) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return head + "".join(f"data: {line}\n" for line in payload.split("\n")) + "\n"


def event_stream(frames: Iterator[str]) -> StreamingResponse:
    return StreamingResponse(frames, media_type="text/event-stream", headers=_HEADERS)


def _failure(err: Exception) -> dict:
    if isinstance(err, AssistantError):
        return problem_body(*domain_problem(err))
    log.exception("stream failed")
    return problem_body(500, "Internal error", "the answer stream failed; it has been logged")


def ask_frames(items: Iterator[str | Answer]) -> Iterator[str]:
    try:
        for item in items:
            if isinstance(item, Answer):
                yield frame(item.model_dump(mode="json"), "final")
            else:
                yield frame({"text": item}, "delta")
    except Exception as err:  # noqa: BLE001 (the status line is sent: report in-band, then end cleanly)
        yield frame(_failure(err), "error")
    yield frame({}, "done")


def chat_frames(items: Iterator[str | Answer], chunk: Callable[..., dict],
                usage_chunk: Callable[[Answer], dict] | None = None) -> Iterator[str]:
    """`chunk(delta, finish_reason, answer)` builds one chat.completion.chunk object;
    `usage_chunk(answer)`, when given, the extra last chunk of stream_options.include_usage."""
    yield frame(chunk({"role": "assistant", "content": ""}))
    try:
        for item in items:
            if isinstance(item, Answer):
                yield frame(chunk({}, "stop", item))
                if usage_chunk is not None:
                    yield frame(usage_chunk(item))
            else:
                yield frame(chunk({"content": item}))
    except Exception as err:  # noqa: BLE001 (as above)
        yield frame(_openai_failure(err))
    yield frame("[DONE]")


def _openai_failure(err: Exception) -> dict:
    """A mid-stream failure in OpenAI's error shape (what OpenAI clients parse)."""
    return from_problem(_failure(err))[1]

"""A LangChain chat model over a running `assistant serve`, keeping the citations.

`ChatOpenAI` reads only OpenAI's fields and drops the citations this service adds. This
model calls the same /v1/chat/completions and puts them on the `AIMessage`:
`response_metadata["citations"]` (each with marker, 文号 `number`, title, clause `label`,
text, `rendered`, `supported`), plus `warnings` and `abstained`; `usage_metadata` holds the
token counts.

>>> chat = PolicyAssistantChat(base_url="http://127.0.0.1:7860/v1", api_key="r1")  # doctest: +SKIP
>>> reply = chat.invoke("四川省在哪些城市开展三医联动改革试点？")  # doctest: +SKIP
>>> reply.response_metadata["citations"][0]["rendered"]  # doctest: +SKIP
'〔川办函〔2021〕56号 一、（一）〕'
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class PolicyAssistantError(RuntimeError):
    """The service refused or failed the request; the message is the service's own."""

    def __init__(self, status: int, error: dict) -> None:
        super().__init__(f"{status} {error.get('type')}: {error.get('message')}")
        self.status, self.error = status, error


class PolicyAssistantChat(BaseChatModel):
    """Chat model for the policy assistant's OpenAI-compatible endpoint.

    Parameters: `base_url` (…/v1), `api_key` (a read key, or "" when keys are off),
    `model` (the answer backend; None = the server's default), `top_k` and `filters`
    (passed as the service's extensions), `timeout` in seconds.
    """

    base_url: str = "http://127.0.0.1:7860/v1"
    api_key: str = ""
    model: str | None = None
    top_k: int | None = None
    filters: dict | None = None
    timeout: float = 120.0

    @property
    def _llm_type(self) -> str:
        return "policy-assistant"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        with httpx.Client(timeout=self.timeout) as http:
            response = http.post(self._url(), json=self._body(messages, stream=False),
                                 headers=self._headers())
        reply = _checked(response)
        metadata = _metadata(reply)
        message = AIMessage(content=reply["choices"][0]["message"]["content"],
                            response_metadata=metadata, usage_metadata=_usage(reply),
                            id=reply.get("id"))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        body = self._body(messages, stream=True)
        with httpx.Client(timeout=self.timeout) as http, http.stream(
                "POST", self._url(), json=body, headers=self._headers()) as response:
            if response.status_code >= 400:
                response.read()
                _checked(response)
            for chunk in _chunks(response.iter_lines()):
                generation = _generation_chunk(chunk)
                if generation is None:
                    continue
                if run_manager and generation.text:
                    run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation

    def _url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _body(self, messages: list[BaseMessage], *, stream: bool) -> dict:
        body: dict[str, Any] = {"messages": [_message(m) for m in messages], "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        extras = {"model": self.model, "top_k": self.top_k, "filters": self.filters}
        body.update({key: value for key, value in extras.items() if value is not None})
        return body


def _message(message: BaseMessage) -> dict:
    return {"role": _ROLES.get(message.type, "user"), "content": message.text}


def _checked(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        raise PolicyAssistantError(response.status_code,
                                   error or {"message": response.text[:500]})
    return body


def _metadata(reply: dict) -> dict:
    return {"model_name": reply.get("model"), "citations": reply.get("citations", []),
            "warnings": reply.get("warnings", []), "abstained": reply.get("abstained", False),
            "finish_reason": "stop"}


def _usage(reply: dict) -> UsageMetadata | None:
    usage = reply.get("usage")
    if not usage:
        return None
    return UsageMetadata(input_tokens=usage["prompt_tokens"],
                         output_tokens=usage["completion_tokens"],
                         total_tokens=usage["total_tokens"])


def _chunks(lines: Iterator[str]) -> Iterator[dict]:
    """The JSON objects of an OpenAI-style SSE stream, up to `data: [DONE]`."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        chunk = json.loads(data)
        if "error" in chunk:
            raise PolicyAssistantError(200, chunk["error"])
        yield chunk


def _generation_chunk(chunk: dict) -> ChatGenerationChunk | None:
    if not chunk.get("choices"):  # the include_usage chunk
        usage = _usage(chunk)
        if usage is None:
            return None
        return ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=usage))
    choice = chunk["choices"][0]
    metadata = _metadata(chunk) if choice.get("finish_reason") else {}
    message = AIMessageChunk(content=choice["delta"].get("content") or "",
                             response_metadata=metadata, id=chunk.get("id"))
    return ChatGenerationChunk(message=message)

"""Any OpenAI-compatible Chat Completions server (vLLM, Ollama, llama.cpp, DeepSeek, Qwen…).

Streams with SSE (`stream: true`). Every call has a timeout (connect, each read, and an
overall deadline); connection errors, timeouts and 5xx replies are retried with
exponential backoff as long as no text has been produced; everything else becomes a
`BackendError` that says what happened and what to change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from assistant.answer.backends import BACKENDS, GenerationRequest
from assistant.errors import BackendError
from assistant.settings import Settings

_OVERFLOW_HINTS = ("context length", "context_length", "maximum context", "too long",
                   "token limit", "max_tokens", "上下文")


class _Retryable(Exception):
    """A failure worth another attempt (connection, timeout, 5xx)."""


class OpenAIBackend:
    """Chat Completions over HTTP.

    >>> backend = OpenAIBackend(base_url="http://127.0.0.1:8000/v1", model="qwen2.5-7b-instruct")
    """

    name = "openai"
    needs_token_budget = True

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0,
                 retries: int = 2, backoff: float = 0.5, temperature: float = 0.0) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.temperature = temperature

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIBackend:
        answer = settings.answer
        return cls(answer.openai_base_url, answer.openai_model,
                   answer.openai_api_key.get_secret_value(), answer.openai_timeout,
                   answer.openai_retries)

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        for attempt in range(self.retries + 1):
            produced = False
            try:
                for chunk in self._stream(request):
                    produced = True
                    yield chunk
                return
            except _Retryable as err:
                if produced or attempt == self.retries:
                    tries = f"after {attempt + 1} attempt(s)"
                    raise BackendError(f"{self._where()}: {err} ({tries})") from None
                time.sleep(self.backoff * 2**attempt)

    def _where(self) -> str:
        return f"OpenAI-compatible server {self.url} (model {self.model})"

    def _payload(self, request: GenerationRequest) -> dict:
        return {"model": self.model, "messages": request.messages(), "stream": True,
                "temperature": self.temperature}

    def _headers(self) -> dict:
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _stream(self, request: GenerationRequest) -> Iterator[str]:
        import httpx  # start-up cost (~0.15 s): only when an LLM server is asked

        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        deadline = time.monotonic() + 4 * self.timeout
        try:
            with httpx.Client(timeout=timeout) as client, client.stream(
                    "POST", self.url, json=self._payload(request),
                    headers=self._headers()) as reply:
                self._check_status(reply)
                yield from self._read(reply, deadline)
        except httpx.TimeoutException:
            raise _Retryable(f"no reply within {self.timeout:g} s") from None
        except httpx.TransportError as err:
            raise _Retryable(f"connection failed: {err.__class__.__name__}: {err}") from None

    def _check_status(self, reply) -> None:
        if reply.status_code < 400:
            return
        body = reply.read().decode("utf-8", "replace")[:500]
        if reply.status_code >= 500:
            raise _Retryable(f"server error {reply.status_code}: {body}")
        if reply.status_code == 400 and any(h in body.lower() for h in _OVERFLOW_HINTS):
            raise BackendError(f"{self._where()}: the prompt exceeds the model's context window "
                               f"({body}); lower ASSISTANT_ANSWER__CONTEXT_TOKENS")
        raise BackendError(f"{self._where()}: HTTP {reply.status_code}: {body}")

    def _read(self, reply, deadline: float) -> Iterator[str]:
        if "text/event-stream" not in reply.headers.get("content-type", ""):
            # A server that ignores `stream` answers with one JSON body.
            yield _message_text(_parse_json(reply.read().decode("utf-8", "replace"), self._where()))
            return
        for line in reply.iter_lines():
            if time.monotonic() > deadline:
                raise _Retryable(f"reply still incomplete after {4 * self.timeout:g} s")
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            text = _delta_text(_parse_json(data, self._where()))
            if text:
                yield text


def _parse_json(raw: str, where: str) -> dict:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise BackendError(f"{where}: malformed JSON in reply ({err.msg}): {raw[:200]!r}") from None
    if not isinstance(value, dict):
        raise BackendError(f"{where}: unexpected reply: {raw[:200]!r}")
    if "error" in value:
        raise BackendError(f"{where}: server reported an error: {value['error']}")
    return value


def _choice(value: dict) -> dict:
    choices = value.get("choices")
    if not isinstance(choices, list):
        raise BackendError(f"reply has no choices: {json.dumps(value, ensure_ascii=False)[:200]}")
    return choices[0] if choices else {}


def _delta_text(value: dict) -> str:
    content = (_choice(value).get("delta") or {}).get("content")
    return content if isinstance(content, str) else ""


def _message_text(value: dict) -> str:
    content = (_choice(value).get("message") or {}).get("content")
    if not isinstance(content, str):
        shown = json.dumps(value, ensure_ascii=False)[:200]
        raise BackendError(f"reply has no message content: {shown}")
    return content


@BACKENDS.register("openai")
def _make(settings: Settings) -> OpenAIBackend:
    return OpenAIBackend.from_settings(settings)

"""Wraps any langchain-core chat model (`BaseChatModel`), so LangChain users plug in theirs.

>>> backend = LangChainBackend(ChatOpenAI(...))   # or any BaseChatModel
>>> assistant.ask("问题", backend=backend)
"""

from __future__ import annotations

from collections.abc import Iterator

from assistant.answer.backends import BACKENDS, GenerationRequest
from assistant.errors import BackendError
from assistant.settings import Settings

_ROLES = {"system": "system", "user": "human", "assistant": "ai"}


class LangChainBackend:
    name = "langchain"
    needs_token_budget = True

    def __init__(self, chat_model) -> None:
        self.chat_model = chat_model

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        messages = [(_ROLES[m["role"]], m["content"]) for m in request.messages()]
        try:
            for chunk in self.chat_model.stream(messages):
                text = chunk.content if isinstance(chunk.content, str) else _join(chunk.content)
                if text:
                    yield text
        except Exception as err:  # any provider's failure becomes one clear error type
            name = type(self.chat_model).__name__
            raise BackendError(f"LangChain model {name} failed: {err}") from err


def _join(parts: list) -> str:
    return "".join(p if isinstance(p, str) else p.get("text", "") for p in parts)


@BACKENDS.register("langchain")
def _make(settings: Settings) -> LangChainBackend:
    raise BackendError("the langchain backend needs a chat model: pass "
                       "backend=LangChainBackend(your_chat_model) from Python")

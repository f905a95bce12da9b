"""LLM backends: one Protocol with one method, and a registry of factories.

A backend turns a `GenerationRequest` (the question, the numbered context blocks and
the rendered prompts) into answer text, streamed as chunks, citing blocks by marker.
Adding a backend is one class plus `@BACKENDS.register("name")` on a factory that
takes the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from assistant.answer.context import Context
from assistant.errors import BackendError
from assistant.query import Query
from assistant.registry import Registry
from assistant.settings import Settings


@dataclass(frozen=True)
class GenerationRequest:
    """What a backend answers from. `query` is the question's one analysis (None: analyse
    `question`); `evidence` maps clause ids to the evidence model's probability that the
    clause answers it; a further clause is cited only at `cite_threshold` or above."""

    question: str
    context: Context
    system: str
    user: str
    history: list[dict] = field(default_factory=list)
    query: Query | None = None
    evidence: dict[str, float] = field(default_factory=dict)
    cite_threshold: float = 0.5
    doc_cite_threshold: float | None = None  # another document's clause (None: cite_threshold)

    def messages(self) -> list[dict]:
        """Chat messages: system prompt, earlier turns, then this turn with its context."""
        earlier = [{"role": t["role"], "content": t["content"]} for t in self.history
                   if t.get("role") in ("user", "assistant") and t.get("content")]
        return [{"role": "system", "content": self.system}, *earlier,
                {"role": "user", "content": self.user}]


@runtime_checkable
class LLMBackend(Protocol):
    name: str
    # Optional attribute `needs_token_budget = False` on a backend that reads clauses
    # directly (extractive): no token budget then applies to its context.

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        """Answer text in chunks; raises BackendError when generation fails."""
        ...


BACKENDS: Registry[Callable[[Settings], LLMBackend]] = Registry("backend")


def get_backend(backend: str | LLMBackend | None, settings: Settings) -> LLMBackend:
    """A backend instance from a registered name, an instance, or the settings' default."""
    if backend is None or isinstance(backend, str):
        load_builtin_backends()
        return BACKENDS.get(backend or settings.backend)(settings)
    if isinstance(backend, LLMBackend):
        return backend
    raise BackendError(f"not a backend: {backend!r}")


# Settings that say an OpenAI-compatible server was set up for this site. Without one the
# backend can be built (its URL has a default) but every answer would fail over to
# extractive: it is not offered.
_OPENAI_CONFIGURED = ("openai_base_url", "openai_api_key", "openai_model")


def is_configured(name: str, settings: Settings) -> bool:
    """Whether backend `name` was set up here: the default backend always is; `openai` once
    its server is configured (URL, key or model set); any other once it can be built."""
    if name == settings.backend or name == "extractive":
        return True
    if name == "openai":
        return bool(settings.model_fields_set & set(_OPENAI_CONFIGURED))
    try:
        get_backend(name, settings)
    except BackendError:
        return False
    return True


def load_builtin_backends() -> None:
    """Import the built-in backend modules; each registers itself on import."""
    # Here, not at the top: each backend module imports this one to register itself.
    from assistant.answer import extractive, langchain_backend, openai_backend  # noqa: F401

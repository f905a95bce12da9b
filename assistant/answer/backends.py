"""LLM backends: one Protocol with one method, and a registry of factories.

A backend turns a `GenerationRequest` (the question, the numbered context blocks and
the rendered prompts) into answer text, streamed as chunks, citing blocks by marker.
Adding a backend is one class plus `@BACKENDS.register("name")` on a factory that
takes the settings (and its module imported by `backend_choice`, which picks one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from assistant.answer.context import Context
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
    # Another document's clause restating the best one (lexicon.restates); None: no own bar.
    restated_cite_threshold: float | None = None
    # The best clause of each part of a two-part question that the gate would answer alone:
    # cited whatever the bars say (each part is a question of its own).
    part_answers: tuple[str, ...] = ()

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

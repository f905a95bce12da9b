"""The OpenAI-compatible endpoint as real OpenAI clients see it.

A real uvicorn server on loopback over the sample-corpus index (hashing test embedder, see
api_fixtures), driven by httpx, by the official `openai` SDK, by langchain-openai's
`ChatOpenAI`, and by this project's own `PolicyAssistantChat`.
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import httpx
import openai
import pytest
from api_fixtures import (  # noqa: F401  (pytest fixtures are used by name)
    QUESTION,
    READ,
    READ_KEY,
    api_settings,
    client,
    corpus_index,
    live,
    server,
    sse_json,
)
from langchain_openai import ChatOpenAI

from assistant.answer.tokens import count_tokens
from assistant.clients.langchain import PolicyAssistantChat, PolicyAssistantError

N56 = "川办函〔2021〕56号"
CHAT = "/v1/chat/completions"
ASK = {"messages": [{"role": "user", "content": QUESTION}]}


def assert_openai_error(response: httpx.Response, status: int, kind: str, *needles: str,
                        param: str | None = None, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == kind and error["param"] == param and error["code"] == code, error
    for needle in needles:
        assert needle in error["message"], error
    return error


# --- error shape, on every path of the facade
def test_unknown_model_is_openais_404_with_the_message(client):
    body = {**ASK, "model": "gpt-4o-mini"}
    error = assert_openai_error(client.post(CHAT, json=body), 404, "not_found_error",
                                "unknown backend 'gpt-4o-mini'; known: ", param="model",
                                code="model_not_found")
    assert "extractive" in error["message"] and "langchain" not in error["message"]


def test_invalid_requests_are_400_naming_the_parameter(client):
    no_question = {"messages": [{"role": "user", "content": "？"},
                                {"role": "assistant", "content": "答"}]}
    assert_openai_error(client.post(CHAT, json=no_question), 400, "invalid_request_error",
                        "role 'user'")
    assert_openai_error(client.post(CHAT, json={"messages": []}), 400,
                        "invalid_request_error", "messages", param="messages")
    assert_openai_error(client.post(CHAT, json={}), 400, "invalid_request_error",
                        param="messages")
    bad_role = {"messages": [{"role": "robot", "content": "问"}]}
    assert_openai_error(client.post(CHAT, json=bad_role), 400, "invalid_request_error",
                        param="messages.0.role")


def test_n_above_one_is_refused_not_answered_once(client):
    assert_openai_error(client.post(CHAT, json={**ASK, "n": 2}), 400, "invalid_request_error",
                        "n=2", param="n", code="unsupported_value")
    assert client.post(CHAT, json={**ASK, "n": 1}).status_code == 200


def test_auth_errors_are_in_openais_shape(server):
    assert_openai_error(httpx.post(server + CHAT, json=ASK), 401, "authentication_error",
                        code="invalid_api_key")
    assert_openai_error(httpx.get(server + "/v1/models"), 401, "authentication_error",
                        code="invalid_api_key")
    wrong = {"Authorization": "Bearer nope"}
    assert_openai_error(httpx.get(server + "/v1/models/extractive", headers=wrong), 401,
                        "authentication_error", code="invalid_api_key")


def test_rate_limit_is_openais_429(corpus_index):
    with live(api_settings(corpus_index, rate_limit_per_minute=1, audit_enabled=False)) as url:
        assert httpx.get(url + "/v1/models", headers=READ).status_code == 200
        response = httpx.get(url + "/v1/models", headers=READ)
        assert_openai_error(response, 429, "rate_limit_error", "rate limit",
                            code="rate_limit_exceeded")
        assert response.headers["retry-after"]


def test_other_paths_keep_problem_json(client):
    response = client.post("/v1/ask", json={"question": ""})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


# --- models
def test_models_lists_only_backends_usable_over_http_and_retrieve_works(client):
    names = [m["id"] for m in client.get("/v1/models").json()["data"]]
    # no LLM server is configured in these settings: openai would only ever fail
    assert names == ["extractive"]
    assert client.get("/v1/models/extractive").json()["id"] == "extractive"
    assert_openai_error(client.get("/v1/models/langchain"), 404, "not_found_error",
                        "unknown backend 'langchain'", param="model", code="model_not_found")


# --- usage and citations
def test_usage_counts_tokens_with_tiktoken(client):
    body = client.post(CHAT, json=ASK).json()
    completion = count_tokens(body["choices"][0]["message"]["content"])
    prompt = 3 + count_tokens("user") + count_tokens(QUESTION) + 3
    assert body["usage"] == {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion}
    assert completion > 10 and body["citations"][0]["marker"] == 1


def test_stream_include_usage_sends_a_last_usage_chunk(client):
    response = client.post(CHAT, json={**ASK, "stream": True,
                                       "stream_options": {"include_usage": True}})
    chunks = [data for _, data in sse_json(response.text)[:-1]]
    usage_chunk, final = chunks[-1], chunks[-2]
    assert usage_chunk["choices"] == [] and final["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert usage_chunk["usage"]["completion_tokens"] == count_tokens(text)
    plain = client.post(CHAT, json={**ASK, "stream": True})
    assert all("usage" not in data for _, data in sse_json(plain.text)[:-1])


# --- real clients
@pytest.fixture
def sdk(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server + "/v1", api_key=READ_KEY, max_retries=0)


def test_openai_sdk_gets_answer_citations_and_usage(sdk):
    reply = sdk.chat.completions.create(model="extractive",
                                        messages=[{"role": "user", "content": QUESTION}])
    assert "三明" in reply.choices[0].message.content
    assert reply.model_extra["citations"][0]["rendered"] == f"〔{N56} 一、（一）〕"
    assert reply.usage.completion_tokens == count_tokens(reply.choices[0].message.content)


def test_openai_sdk_streams_with_usage(sdk):
    stream = sdk.chat.completions.create(model="extractive", stream=True,
                                         stream_options={"include_usage": True},
                                         messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "三明" in text and chunks[-1].usage.completion_tokens == count_tokens(text)
    assert chunks[-2].model_extra["citations"]


def test_openai_sdk_shows_the_services_error_message(sdk):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk.chat.completions.create(model="gpt-4o-mini",
                                    messages=[{"role": "user", "content": QUESTION}])
    assert "unknown backend 'gpt-4o-mini'; known: " in str(raised.value)
    assert raised.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError, match="n=3"):
        sdk.chat.completions.create(model="extractive", n=3,
                                    messages=[{"role": "user", "content": QUESTION}])


def test_openai_sdk_models(sdk):
    assert "langchain" not in [m.id for m in sdk.models.list()]
    assert sdk.models.retrieve("extractive").id == "extractive"
    with pytest.raises(openai.NotFoundError, match="unknown backend 'nope'"):
        sdk.models.retrieve("nope")


def test_langchain_chatopenai_answers_and_shows_errors(server):
    chat = ChatOpenAI(base_url=server + "/v1", api_key=READ_KEY, model="extractive",
                      max_retries=0)
    assert "三明" in chat.invoke(QUESTION).content
    streamed = ChatOpenAI(base_url=server + "/v1", api_key=READ_KEY, model="extractive",
                          max_retries=0, stream_usage=True)
    merged = None
    for chunk in streamed.stream(QUESTION):
        merged = chunk if merged is None else merged + chunk
    assert "三明" in merged.content
    assert merged.usage_metadata["output_tokens"] == count_tokens(merged.content)
    wrong = ChatOpenAI(base_url=server + "/v1", api_key=READ_KEY, model="gpt-4o-mini",
                       max_retries=0)
    with pytest.raises(openai.NotFoundError, match="unknown backend 'gpt-4o-mini'"):
        wrong.invoke(QUESTION)


def test_project_chat_model_puts_citations_on_the_ai_message(server):
    chat = PolicyAssistantChat(base_url=server + "/v1", api_key=READ_KEY)
    message = chat.invoke(QUESTION)
    assert "三明" in message.content
    citations = message.response_metadata["citations"]
    assert citations[0]["rendered"] == f"〔{N56} 一、（一）〕" and citations[0]["marker"] == 1
    assert message.response_metadata["abstained"] is False
    assert message.usage_metadata["output_tokens"] == count_tokens(message.content)


def test_project_chat_model_streams_and_keeps_citations(server):
    chat = PolicyAssistantChat(base_url=server + "/v1", api_key=READ_KEY)
    merged = None
    for chunk in chat.stream(QUESTION):
        merged = chunk if merged is None else merged + chunk
    assert "三明" in merged.content
    assert merged.response_metadata["citations"][0]["rendered"] == f"〔{N56} 一、（一）〕"
    assert merged.usage_metadata["output_tokens"] == count_tokens(merged.content)


def test_project_chat_model_raises_the_services_message(server):
    chat = PolicyAssistantChat(base_url=server + "/v1", api_key=READ_KEY, model="gpt-4o-mini")
    with pytest.raises(PolicyAssistantError, match="unknown backend 'gpt-4o-mini'") as raised:
        chat.invoke(QUESTION)
    assert raised.value.status == 404


def test_a_configured_llm_server_is_listed_and_its_failure_names_no_address(corpus_index):
    settings = api_settings(corpus_index, audit_enabled=False,
                            openai_base_url="http://127.0.0.1:9/v1", openai_retries=0,
                            openai_timeout=2)
    with live(settings) as url:
        names = [m["id"] for m in httpx.get(url + "/v1/models", headers=READ).json()["data"]]
        answer = httpx.post(url + "/v1/ask", headers=READ, timeout=30,
                            json={"question": QUESTION, "backend": "openai"}).json()
    assert "openai" in names
    assert answer["backend"] == "extractive" and answer["warnings"]
    assert not any("127.0.0.1" in w or ":9" in w for w in answer["warnings"]), answer["warnings"]


def test_backend_failure_is_openais_server_error_with_the_reason(corpus_index):
    settings = api_settings(corpus_index, audit_enabled=False, fallback_to_extractive=False,
                            openai_base_url="http://127.0.0.1:9/v1", openai_retries=0,
                            openai_timeout=2)  # port 9: nobody listens there
    with live(settings) as url:
        body = {**ASK, "model": "openai"}
        for stream in (False, True):
            response = httpx.post(url + CHAT, json={**body, "stream": stream}, headers=READ,
                                  timeout=30)
            error = assert_openai_error(response, 502, "server_error")
            # the reason, but not the internal LLM server's address (issue 24, item 9)
            assert "backend" in error["message"] and "127.0.0.1:9" not in error["message"]
        sdk = openai.OpenAI(base_url=url + "/v1", api_key=READ_KEY, max_retries=0)
        with pytest.raises(openai.InternalServerError, match="answer backend"):
            sdk.chat.completions.create(model="openai",
                                        messages=[{"role": "user", "content": QUESTION}])


def test_failure_mid_stream_is_an_openai_error_line(corpus_index):
    """The `openai` backend over a scripted OpenAI-compatible test double that breaks its
    stream after the first chunk: the facade's stream ends with OpenAI's error object."""
    from openai_test_server import OpenAITestServer, Script

    with OpenAITestServer() as llm:
        llm.script = Script(text="大力推广三明医改经验[1]。", mode="malformed_sse")
        settings = api_settings(corpus_index, openai_base_url=llm.base_url,
                                fallback_to_extractive=False, audit_enabled=False)
        with live(settings) as url:
            response = httpx.post(url + CHAT, headers=READ, timeout=60,
                                  json={**ASK, "model": "openai", "stream": True})
            events = sse_json(response.text)
            assert events[-1][1] == "[DONE]"
            error = events[-2][1]["error"]
            assert set(error) == {"message", "type", "param", "code"}
            assert error["type"] == "server_error" and error["message"]

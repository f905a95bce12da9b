"""The HTTP API on a real uvicorn server (loopback, free port), driven by httpx.

Index: the five sample documents with the `hashing` test embedder (see api_fixtures).
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import json

import httpx
import pytest
from api_fixtures import (  # noqa: F401  (pytest fixtures are used by name)
    ADMIN,
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

from assistant.answer.evidence import answer_fingerprint
from assistant.api.schemas import AnswerResponse
from assistant.cli import main

PROBLEM = "application/problem+json"
N56 = "川办函〔2021〕56号"


def assert_problem(response: httpx.Response, status: int, *needles: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    for needle in needles:
        assert needle in body["detail"], body
    return body


# --- health
def test_healthz_and_readyz(server):
    assert httpx.get(server + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server + "/readyz").json() == {"status": "ready"}  # no key: no details
    ready = httpx.get(server + "/readyz", headers=READ).json()
    assert ready["status"] == "ready" and ready["documents"] == 5 and ready["clauses"] > 100
    assert ready["backend"] == "extractive"


def test_readyz_is_503_with_the_reason_when_no_index_exists(tmp_path):
    with live(api_settings(tmp_path / "empty")) as url:
        response = httpx.get(url + "/readyz")
        assert_problem(response, 503, "no index", "assistant ingest")
        assert httpx.get(url + "/healthz").status_code == 200
        assert_problem(httpx.post(url + "/v1/ask", json={"question": QUESTION}, headers=READ),
                       503, "no index")


def test_readyz_is_503_when_the_llm_server_is_unreachable(corpus_index, tmp_path):
    settings = api_settings(corpus_index, backend="openai", audit_enabled=False,
                            openai_base_url="http://127.0.0.1:9/v1")  # port 9: nobody there
    with live(settings) as url:
        assert_problem(httpx.get(url + "/readyz", headers=READ), 503, "unreachable",
                       "127.0.0.1:9")
        anonymous = httpx.get(url + "/readyz")  # not ready, and no internal address
        assert_problem(anonymous, 503, "not usable")
        assert "127.0.0.1" not in anonymous.text


def test_openapi_docs_are_served(server):
    assert httpx.get(server + "/docs").status_code == 200
    paths = httpx.get(server + "/openapi.json").json()["paths"]
    for path in ("/v1/ask", "/v1/search", "/v1/documents", "/v1/documents/{doc_id}",
                 "/v1/documents/{doc_id}/clauses/{clause_id}", "/v1/chat/completions",
                 "/healthz", "/readyz"):
        assert path in paths


# --- auth
def test_missing_key_is_401_with_a_bearer_challenge(server):
    response = httpx.post(server + "/v1/ask", json={"question": QUESTION})
    assert_problem(response, 401, "missing API key")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_wrong_key_is_401(server):
    response = httpx.get(server + "/v1/documents", headers={"Authorization": "Bearer nope"})
    assert_problem(response, 401, "invalid API key")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_read_key_cannot_upload_or_delete(server):
    upload = httpx.post(server + "/v1/documents", headers=READ,
                        files={"file": ("a.txt", "文本".encode(), "text/plain")})
    assert_problem(upload, 403, "admin key")
    assert_problem(httpx.delete(server + "/v1/documents/whatever", headers=READ), 403)


def test_admin_key_can_read(server):
    assert httpx.get(server + "/v1/documents", headers=ADMIN).status_code == 200


def test_without_keys_the_api_is_open_on_loopback(corpus_index):
    with live(api_settings(corpus_index, api_keys="", admin_keys="",
                           audit_enabled=False)) as url:
        assert httpx.get(url + "/v1/documents").status_code == 200


# --- ask
def test_ask_returns_the_same_json_as_the_cli(client, corpus_index, capsys, monkeypatch):
    body = client.post("/v1/ask", json={"question": QUESTION}).json()
    monkeypatch.setenv("ASSISTANT_AUDIT__AUDIT_ENABLED", "false")
    assert main(["--index-dir", str(corpus_index), "--embedder", "hashing",
                 "ask", QUESTION, "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    for key in ("question", "answer", "abstained", "citations", "sentences", "retrieved",
                "warnings", "backend", "settings_hash"):
        assert body[key] == expected[key], key
    assert body["citations"][0]["rendered"] == f"〔{N56} 一、（一）〕"
    assert "三明" in body["answer"] and not body["abstained"]
    assert any("已失效" in w for w in body["warnings"])
    # The route serialises the Answer itself: exactly the declared schema, nothing more.
    assert AnswerResponse.model_validate(body).model_dump(mode="json") == body


def test_ask_abstains_off_corpus(client):
    body = client.post("/v1/ask", json={"question": "今天北京的天气怎么样？"}).json()
    assert body["abstained"] and body["citations"] == []


def test_ask_follow_up_uses_history(client):
    history = [{"role": "user", "content": "四川省在哪些城市开展三医联动改革试点?"},
               {"role": "assistant", "content": "在自贡市、宜宾市开展试点。"}]
    response = client.post("/v1/ask", json={"question": "这项工作由哪些单位负责？",
                                            "history": history})
    assert response.status_code == 200, response.text
    assert response.json()["question"] == "这项工作由哪些单位负责？"


def test_ask_stream_is_sse_deltas_then_final_then_done(client):
    response = client.post("/v1/ask", json={"question": QUESTION, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_json(response.text)
    names = [name for name, _ in events]
    assert names[-2:] == ["final", "done"] and set(names[:-2]) == {"delta"}
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    final = events[-2][1]
    assert final["answer"] == streamed.strip()
    assert final["citations"][0]["rendered"] == f"〔{N56} 一、（一）〕"
    assert final["abstained"] is False and final["warnings"]


def test_ask_stream_refuses_bad_input_before_streaming(client):
    response = client.post("/v1/ask", json={"question": "", "stream": True})
    assert_problem(response, 422, "question is empty")


@pytest.mark.parametrize("body, needle", [
    ({"question": ""}, "question is empty"),
    ({"question": "   "}, "question is empty"),
    ({"question": "问" * 501}, "limit is 500"),
    ({"question": QUESTION, "top_k": 0}, "top_k"),
    ({"question": QUESTION, "top_k": 51}, "between 1 and 50"),
    ({"question": QUESTION, "backend": "gpt-9"}, "unknown backend 'gpt-9'"),
    ({"question": QUESTION, "backend": "langchain"}, "cannot be used over HTTP"),
    ({"question": QUESTION, "filters": {"date_from": "2021-01-01", "date_to": "2020-01-01"}},
     "date_from (2021-01-01) is after date_to (2020-01-01)"),
    ({"question": QUESTION, "filters": {"date_from": "2021-13-01"}}, "date_from"),
    ({"question": QUESTION, "topk": 3}, "topk"),
    ({"question": QUESTION, "history": [{"role": "robot", "content": "x"}]}, "history.0.role"),
    ({}, "body.question"),
])
def test_bad_ask_is_422_problem_json(client, body, needle):
    assert_problem(client.post("/v1/ask", json=body), 422, needle)


def test_an_unknown_document_in_a_filter_is_404(client):
    body = {"question": QUESTION, "filters": {"doc_ids": ["no-such-doc"]}}
    assert_problem(client.post("/v1/ask", json=body), 404, "no-such-doc")


def test_malformed_json_is_422(client):
    response = client.post("/v1/ask", content=b"{not json",
                           headers={"Content-Type": "application/json"})
    assert_problem(response, 422)


def test_unknown_path_is_404_problem(client):
    assert_problem(client.get("/v1/nothing-here"), 404)


# --- search and filters
def test_search_returns_the_cli_result_shape(client):
    results = client.post("/v1/search", json={"question": "三医联动 自贡市", "top_k": 3}).json()
    assert len(results["results"]) == 3
    first = results["results"][0]
    assert set(first) == {"clause_id", "doc_id", "number", "title", "status", "path", "label",
                          "heading", "text", "units", "score"}
    assert first["number"] == N56 and first["label"] == "一、（一）"


def test_search_filters_restrict_documents(client):
    docs = client.get("/v1/documents").json()["documents"]
    repealed = next(d for d in docs if d["number"] == N56)
    only = client.post("/v1/search", json={"question": "医保", "top_k": 10,
                                           "filters": {"doc_ids": [N56]}}).json()["results"]
    assert only and {r["doc_id"] for r in only} == {repealed["doc_id"]}
    in_force = client.post("/v1/search", json={"question": "三医联动 自贡市", "top_k": 10,
                                               "filters": {"in_force_only": True}}).json()
    assert repealed["doc_id"] not in {r["doc_id"] for r in in_force["results"]}
    dated = client.post("/v1/search", json={"question": "医保", "top_k": 10, "filters": {
        "date_from": "2021-01-01", "date_to": "2021-12-31"}}).json()["results"]
    assert dated and {r["doc_id"] for r in dated} == {repealed["doc_id"]}


# --- documents
def test_document_list_detail_and_clause(client):
    docs = client.get("/v1/documents").json()["documents"]
    assert len(docs) == 5 and {d["number"] for d in docs} >= {N56, "川卫发〔2017〕65号"}
    doc = next(d for d in docs if d["number"] == N56)
    assert doc["status"] == "失效" and doc["clauses"] > 20
    detail = client.get(f"/v1/documents/{doc['doc_id']}").json()
    assert detail["number"] == N56 and len(detail["clauses"]) == doc["clauses"]
    labels = [c["label"] for c in detail["clauses"]]
    assert labels[0] == "前言" and "一、（一）" in labels
    assert set(detail["clauses"][1]) >= {"clause_id", "path", "label", "heading", "text", "units"}
    target = detail["clauses"][labels.index("一、（一）")]
    by_id = client.get(f"/v1/documents/{doc['doc_id']}/clauses/{target['clause_id']}").json()
    by_label = client.get(f"/v1/documents/{N56}/clauses/一、（一）").json()
    assert by_id == by_label and "自贡市" in by_id["text"]
    assert by_id["document"]["number"] == N56


def test_unknown_document_and_clause_are_404(client):
    assert_problem(client.get("/v1/documents/no-such-doc"), 404, "no-such-doc")
    assert_problem(client.get(f"/v1/documents/{N56}/clauses/九十九、"), 404, "九十九、")


# --- OpenAI-compatible facade
def test_chat_completion(client):
    response = client.post("/v1/chat/completions", json={
        "model": "extractive", "temperature": 0.2,
        "messages": [{"role": "system", "content": "你是助手"},
                     {"role": "user", "content": QUESTION}]})
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "extractive"
    content = body["choices"][0]["message"]["content"]
    assert "三明" in content and body["choices"][0]["finish_reason"] == "stop"
    assert body["citations"][0]["rendered"] == f"〔{N56} 一、（一）〕"


def test_chat_completion_stream_ends_with_done(client):
    response = client.post("/v1/chat/completions", json={
        "stream": True, "messages": [{"role": "user", "content": [
            {"type": "text", "text": QUESTION}]}]})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_json(response.text)
    assert all(name is None for name, _ in events)
    assert events[-1][1] == "[DONE]"
    chunks = [data for _, data in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop" and last["citations"]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "三明" in text


def test_chat_completion_bad_input(client):
    # OpenAI's error shape on this path: tests/test_api_openai.py covers it in full.
    no_question = {"messages": [{"role": "system", "content": "问"},
                                {"role": "assistant", "content": "答"}]}
    response = client.post("/v1/chat/completions", json=no_question)
    assert response.status_code == 400 and "role 'user'" in response.json()["error"]["message"]
    unknown = {"model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}]}
    response = client.post("/v1/chat/completions", json=unknown)
    assert response.status_code == 404 and "gpt-4o" in response.json()["error"]["message"]


def test_models_lists_the_backends(client):
    names = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert names == ["extractive"]  # no LLM server configured here


# --- limits
def test_rate_limit_is_per_key_with_retry_after(corpus_index):
    settings = api_settings(corpus_index, rate_limit_per_minute=3, audit_enabled=False,
                            admin_keys="other-key")
    with live(settings) as url:
        codes = [httpx.get(url + "/v1/documents", headers=READ).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = httpx.get(url + "/v1/documents", headers=READ)
        assert_problem(limited, 429, "3 requests per minute")
        assert int(limited.headers["retry-after"]) >= 1
        other = httpx.get(url + "/v1/documents", headers={"Authorization": "Bearer other-key"})
        assert other.status_code == 200


def test_cors_allowlist(corpus_index):
    settings = api_settings(corpus_index, cors_origins="https://portal.example",
                            audit_enabled=False)
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    with live(settings) as url:
        allowed = httpx.options(url + "/v1/ask",
                                headers={"Origin": "https://portal.example", **preflight})
        assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
        other = httpx.options(url + "/v1/ask", headers={"Origin": "https://evil.example",
                                                        **preflight})
        assert "access-control-allow-origin" not in other.headers


# --- audit
def test_answers_are_audited_without_the_key(client, corpus_index):
    from assistant.service.audit import AuditLog, key_id

    question = "家庭医生签约服务有哪些要求？（审计）"
    client.post("/v1/ask", json={"question": question, "top_k": 5})
    settings = api_settings(corpus_index)
    row = next(r for r in AuditLog(settings.audit_path).recent(50) if r["question"] == question)
    assert row["key_id"] == key_id(READ_KEY) and READ_KEY not in row["key_id"]
    assert row["backend"] == "extractive" and row["latency_ms"] > 0
    assert row["settings_hash"] == answer_fingerprint(settings) and row["endpoint"] == "/v1/ask"
    assert isinstance(row["cited"], list) and row["abstained"] in (True, False)
    assert READ_KEY.encode() not in settings.audit_path.read_bytes()


def test_audit_can_be_turned_off(corpus_index, tmp_path):
    settings = api_settings(corpus_index, audit_enabled=False,
                            audit_db=tmp_path / "off.sqlite3")
    with live(settings) as url:
        assert httpx.post(url + "/v1/ask", json={"question": QUESTION},
                          headers=READ).status_code == 200
    assert not (tmp_path / "off.sqlite3").exists()


def test_llm_backend_failure_is_502_or_falls_back(corpus_index):
    down = {"openai_base_url": "http://127.0.0.1:9/v1", "openai_retries": 0,
            "openai_timeout": 5, "audit_enabled": False}
    with live(api_settings(corpus_index, fallback_to_extractive=False, **down)) as url:
        for stream in (False, True):
            response = httpx.post(url + "/v1/ask", headers=READ, timeout=60, json={
                "question": QUESTION, "backend": "openai", "stream": stream})
            body = assert_problem(response, 502, "answer backend")
            assert "127.0.0.1:9" not in str(body)  # the internal address stays in the log
    with live(api_settings(corpus_index, **down)) as url:
        body = httpx.post(url + "/v1/ask", headers=READ, timeout=60,
                          json={"question": QUESTION, "backend": "openai"}).json()
        assert body["backend"] == "extractive" and body["citations"]
        assert any("openai" in w for w in body["warnings"])


def test_openai_backend_streams_through_the_api(corpus_index):
    """Real `openai` backend over HTTP to a scripted OpenAI-compatible test double."""
    from openai_test_server import OpenAITestServer, Script

    with OpenAITestServer() as llm:
        llm.script = Script(text="大力推广三明医改经验[1]。", chunk_size=3)
        settings = api_settings(corpus_index, openai_base_url=llm.base_url,
                                fallback_to_extractive=False, audit_enabled=False)
        with live(settings) as url:
            response = httpx.post(url + "/v1/ask", headers=READ, timeout=60, json={
                "question": QUESTION, "backend": "openai", "stream": True})
            events = sse_json(response.text)
            deltas = [data["text"] for name, data in events if name == "delta"]
            assert len(deltas) > 1 and "".join(deltas) == "大力推广三明医改经验[1]。"
            final = events[-2][1]
            assert events[-2][0] == "final" and final["backend"] == "openai"
            assert final["citations"][0]["marker"] == 1 and final["citations"][0]["rendered"]

            llm.script = Script(text="大力推广三明医改经验[1]。", mode="malformed_sse")
            broken = httpx.post(url + "/v1/ask", headers=READ, timeout=60, json={
                "question": QUESTION, "backend": "openai", "stream": True})
            names = [name for name, _ in sse_json(broken.text)]
            assert names[0] == "delta" and names[-2:] == ["error", "done"]
            error = sse_json(broken.text)[-2][1]
            assert error["status"] == 502 and "Traceback" not in broken.text


@pytest.mark.parametrize("method, path, allow", [
    ("PUT", "/v1/documents", "GET, HEAD, POST"), ("PATCH", "/v1/documents/x", "DELETE, GET, HEAD"),
    ("GET", "/v1/ask", "POST")])
def test_405_names_every_allowed_method(client, method, path, allow):
    response = client.request(method, path)
    assert response.status_code == 405 and response.headers["allow"] == allow

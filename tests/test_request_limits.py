"""Bounded work per request: every input that reaches the pipeline is limited, invalid text
is a 4xx at the edge, bodies are capped before parsing, and the API, the chat page and the
CLI pass the same request rules (limits, rate limit, audit) in the service.

Real index (hashing test embedder), real uvicorn on loopback, real chat page object.
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import json
import time

import httpx
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
)

from assistant.cli import main
from assistant.service import Assistant
from assistant.service.audit import AuditLog
from assistant.service.request_rules import RateLimited, RequestRefused

FOLLOWUP = "那宜宾市呢？"


def problem_of(response: httpx.Response, status: int, needle: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert needle in body["detail"], body
    return body


# --- history and messages: the follow-up rewrite can no longer smuggle a long question in
def test_a_long_earlier_question_in_history_is_refused_fast(client):
    history = [{"role": "user", "content": "医保" * 5000},  # 10,000 characters
               {"role": "assistant", "content": "答。"}]
    started = time.perf_counter()
    response = client.post("/v1/ask", json={"question": FOLLOWUP, "history": history})
    problem_of(response, 422, "history turn 1 (user) is 10000 characters long; the limit is 500")
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("history, needle", [
    ([{"role": "assistant", "content": "答" * 4001}], "ASSISTANT_LIMITS__MAX_TURN_CHARS"),
    ([{"role": "user", "content": "问"}, {"role": "assistant", "content": "答"}] * 11,
     "history has 22 turns; the limit is 20"),
    ([{"role": "assistant", "content": "答" * 4000}] * 5, "history holds 20000 characters"),
])
def test_history_count_item_and_total_are_limited(client, history, needle):
    problem_of(client.post("/v1/ask", json={"question": QUESTION, "history": history}), 422,
               needle)


def test_the_schema_states_each_roles_limit_and_the_service_keeps_it(client):
    # An earlier answer may be long (up to max_turn_chars): the schema once said 500 for
    # every turn, so a client validating against it refused real conversations, and a
    # 600-character answer in history was "schema-invalid but accepted".
    turn = client.get("/openapi.json").json()["components"]["schemas"]["Turn"]
    limits = {o["properties"]["role"]["const"]: o["properties"]["content"]["maxLength"]
              for o in turn["oneOf"]}
    assert limits == {"user": 500, "assistant": 4000}
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "答" * 600}]
    answered = client.post("/v1/ask", json={"question": FOLLOWUP, "history": history})
    assert answered.status_code == 200, answered.text
    history[0]["content"] = "问" * 501
    problem_of(client.post("/v1/ask", json={"question": FOLLOWUP, "history": history}), 422,
               "the limit is 500")


def test_every_chat_message_keeps_its_roles_limit_wherever_it_stands(client):
    after = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "答" * 4001}]
    response = client.post("/v1/chat/completions", json={"messages": after})
    assert response.status_code == 400, response.text
    assert "message 2 (assistant) is 4001 characters long" in response.json()["error"]["message"]
    system = [{"role": "system", "content": "请依据文件回答。" * 100},  # 800 characters: fine
              {"role": "user", "content": QUESTION}]
    assert client.post("/v1/chat/completions", json={"messages": system}).status_code == 200


def test_chat_completion_messages_are_limited(client):
    big = [{"role": "user", "content": "x" * 30_000}, {"role": "assistant", "content": "y"}] * 3
    messages = [*big, {"role": "user", "content": QUESTION}]
    started = time.perf_counter()
    response = client.post("/v1/chat/completions", json={"messages": messages})
    assert response.status_code == 400, response.text  # OpenAI's error shape on this route
    assert "the limit is 500" in response.json()["error"]["message"]
    assert time.perf_counter() - started < 5


def test_an_earlier_turn_within_the_limits_still_makes_a_follow_up(client):
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "答。"}]
    response = client.post("/v1/ask", json={"question": FOLLOWUP, "history": history})
    assert response.status_code == 200, response.text


# --- body size, before parsing
def test_a_body_over_the_cap_is_refused_by_its_content_length(client):
    body = json.dumps({"question": QUESTION, "history": [], "pad": "x" * (2 << 20)})
    response = client.post("/v1/ask", content=body, headers={"Content-Type": "application/json"})
    problem_of(response, 413, "ASSISTANT_LIMITS__MAX_REQUEST_BYTES")


def test_a_chunked_body_over_the_cap_is_refused(client):
    chunk = b" " * 65536
    body = iter([b'{"question": "' + QUESTION.encode() + b'"'] + [chunk] * 32 + [b"}"])
    response = client.post("/v1/search", content=body,
                           headers={"Content-Type": "application/json"})
    problem_of(response, 413, "exceeds the limit of 1048576 bytes")


# --- invalid text is a 4xx at the edge
@pytest.mark.parametrize("path", ["/v1/ask", "/v1/search"])
def test_a_lone_surrogate_is_a_422_not_a_500(client, path):
    raw = json.dumps({"question": "\udc00 医保"})  # ensure_ascii sends it as \udc00
    response = client.post(path, content=raw, headers={"Content-Type": "application/json"})
    problem_of(response, 422, "lone surrogate (U+DC00)")


def test_a_lone_surrogate_in_history_is_a_422(client):
    raw = json.dumps({"question": FOLLOWUP,
                      "history": [{"role": "user", "content": "\udc00 医保"}]})
    response = client.post("/v1/ask", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text  # the schema or the rules refuse it
    assert "history" in response.json()["detail"]


@pytest.mark.parametrize("question", ["\x00\x01\x02\x1f", "？！…。 ", "\x00\x07 ——"])
@pytest.mark.parametrize("path", ["/v1/ask", "/v1/search"])
def test_a_question_with_no_letter_or_digit_is_refused_as_empty(client, path, question):
    response = client.post(path, json={"question": question})
    problem_of(response, 422, "问题为空")


def test_control_characters_are_removed_before_answering(corpus_index):
    bot = Assistant(api_settings(corpus_index, audit_enabled=False))
    clean = bot.ask(QUESTION)
    answer = bot.ask("\x00" + QUESTION.replace("的", "的\x00\x1b"))
    assert "\x00" not in answer.question and "\x1b" not in answer.question
    assert answer.answer == clean.answer
    history = [{"role": "user", "content": "医保\x00"}, {"role": "assistant", "content": "答\x07"}]
    assert all("\x00" not in t["content"] and "\x07" not in t["content"]
               for t in bot.rules.check_history(history))


def test_limits_count_the_text_as_sent_controls_and_spaces_too(corpus_index):
    # The published schema's maxLength counts every character sent; the service agrees,
    # so padding that is stripped later cannot carry an over-long request past the limit.
    bot = Assistant(api_settings(corpus_index, audit_enabled=False))
    with pytest.raises(RequestRefused, match="question is 501 characters"):
        bot.rules.check_question("医保" + "\x13" * 499)
    with pytest.raises(RequestRefused, match="question is 501 characters"):
        bot.rules.check_question(" " * 499 + "医保")
    with pytest.raises(RequestRefused, match=r"history turn 1 \(user\) is 501 characters"):
        bot.rules.check_history([{"role": "user", "content": ":" + "\x13" * 500}])
    assert bot.rules.check_question("医保" + "\x13" * 498) == "医保"


# --- one set of rules for every caller
def test_the_service_refuses_what_the_api_refuses(corpus_index):
    bot = Assistant(api_settings(corpus_index, audit_enabled=False))
    with pytest.raises(RequestRefused, match="limit is 500"):
        bot.ask("问" * 501)
    with pytest.raises(RequestRefused, match="lone surrogate"):
        bot.search("\udc00")
    with pytest.raises(RequestRefused, match="history turn 1"):
        bot.ask(FOLLOWUP, history=[{"role": "user", "content": "问" * 501}])


def test_the_cli_passes_the_rules_and_is_audited(corpus_index, tmp_path, monkeypatch, capsys):
    audit = tmp_path / "cli-audit.sqlite3"
    for name, value in {"INDEX_DIR": corpus_index, "EMBEDDER": "hashing",
                        "AUDIT_DB": audit}.items():
        monkeypatch.setenv(f"ASSISTANT_{name}", str(value))
    assert main(["ask", "问" * 501]) != 0
    assert "limit is 500" in capsys.readouterr().err
    assert main(["ask", QUESTION]) == 0
    [row] = AuditLog(audit).recent(5)
    assert row["endpoint"] == "cli" and row["question"] == QUESTION


@pytest.fixture
def chat_page(corpus_index, tmp_path):
    pytest.importorskip("gradio")
    from assistant.ui.chat import ChatPage

    settings = api_settings(corpus_index, rate_limit_per_minute=2,
                            audit_db=tmp_path / "chat-audit.sqlite3",
                            feedback_db=tmp_path / "feedback.sqlite3")
    page = ChatPage(Assistant(settings))
    assert page.logins.login("staff", READ_KEY)
    return page


def staff():
    import gradio as gr

    return gr.Request(username="staff")


def last_html(steps) -> str:
    return steps[-1][1][-1].html


def test_the_chat_page_passes_the_question_limit(chat_page):
    steps = list(chat_page.respond("问" * 501, [], None, False, None, staff()))
    assert steps[-1][1] == []  # not sent: said under the box, in the staff's words
    assert "问题共 501 字，超过了 500 字的上限" in steps[-1][3]
    assert "ASSISTANT_LIMITS__MAX_QUESTION_CHARS" not in steps[-1][3]


def test_the_chat_page_is_rate_limited_and_audited(chat_page):
    answers = [list(chat_page.respond(QUESTION, [], None, False, None, staff()))[-1][1][-1]
               for _ in range(3)]
    assert answers[0].answer is not None and answers[1].answer is not None
    assert answers[2].answer is None and "提问过于频繁" in answers[2].html
    rows = chat_page.assistant.rules.audit.recent(10)
    assert [r["endpoint"] for r in rows] == ["chat", "chat"]


def test_the_chat_page_sends_only_the_history_that_fits(chat_page):
    rules = chat_page.assistant.rules
    long_turns = [{"role": "user", "content": "问"}, {"role": "assistant", "content": "答" * 9000}]
    fitted = rules.fit_history(long_turns * 30)
    assert rules.check_history(fitted) == fitted and 0 < len(fitted) <= 20
    assert fitted[-1]["content"] == "答" * 4000


def test_rate_limited_is_raised_by_the_service_for_a_rate_limited_caller(corpus_index):
    from assistant.service.request_rules import Caller

    bot = Assistant(api_settings(corpus_index, rate_limit_per_minute=1, audit_enabled=False))
    caller = Caller("test", bucket="ip:192.0.2.1")
    bot.search(QUESTION, caller=caller)
    with pytest.raises(RateLimited) as limited:
        bot.search(QUESTION, caller=caller)
    assert limited.value.retry_after > 0


# --- the audit call never fails the answer
def test_an_unopenable_audit_database_does_not_fail_the_answer(corpus_index, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings = api_settings(corpus_index, audit_db=blocker / "audit.sqlite3")
    with live(settings) as url:
        response = httpx.post(url + "/v1/ask", json={"question": QUESTION}, headers=READ,
                              timeout=60)
    assert response.status_code == 200 and response.json()["citations"]

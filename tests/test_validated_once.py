"""The question is checked once, by the service's request rules, whichever way it arrives:
the HTTP API (ask, stream, search), the chat page and the command line. The index, the
service, the FastAPI app and the chat page are real; only a counter wraps the check."""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import pytest
from api_fixtures import QUESTION, READ, api_settings, corpus_index, index_copy  # noqa: F401
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.service import Assistant
from assistant.settings import Settings


def _counting(bot: Assistant, monkeypatch) -> tuple[Assistant, list[str]]:
    """`bot`, its question check counting its calls."""
    calls: list[str] = []
    check = bot.rules.check_question

    def counting(question):
        calls.append(question)
        return check(question)

    monkeypatch.setattr(bot.rules, "check_question", counting)
    return bot, calls


@pytest.fixture
def counted(corpus_index, tmp_path, monkeypatch):
    """The API's Assistant over the sample index (keys required)."""
    settings = api_settings(corpus_index, audit_db=tmp_path / "audit.sqlite3")
    return _counting(Assistant(settings), monkeypatch)


@pytest.mark.parametrize("path, body", [
    ("/v1/ask", {"question": QUESTION}),
    ("/v1/ask", {"question": QUESTION, "stream": True}),
    ("/v1/search", {"question": QUESTION, "top_k": 3}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}]}),
])
def test_an_api_question_is_checked_once(counted, path, body):
    bot, calls = counted
    client = TestClient(create_app(bot.settings, bot))
    response = client.post(path, json=body, headers=READ)
    assert response.status_code == 200, response.text
    assert len(calls) == 1


def test_a_refused_api_question_is_a_422_from_the_one_check(counted):
    bot, calls = counted
    client = TestClient(create_app(bot.settings, bot))
    for stream in (False, True):
        response = client.post("/v1/ask", json={"question": "  ", "stream": stream},
                               headers=READ)
        assert response.status_code == 422 and "问题为空" in response.json()["detail"]
    assert len(calls) == 2


def test_a_chat_page_question_is_checked_once(corpus_index, tmp_path, monkeypatch):
    gr = pytest.importorskip("gradio")
    from assistant.ui.chat import ChatPage

    settings = Settings(index_dir=corpus_index, embedder="hashing",  # no keys: no login
                        feedback_db=tmp_path / "fb.sqlite3", audit_db=tmp_path / "a.sqlite3")
    bot, calls = _counting(Assistant(settings), monkeypatch)
    page = ChatPage(bot)
    steps = list(page.respond(QUESTION, [], None, False, None))
    assert steps[-1][1][-1].answer is not None and len(calls) == 1
    refused = list(page.respond("   ", [], None, False, None))
    assert len(refused) == 1 and isinstance(refused[0][2], type(gr.skip()))
    assert len(calls) == 2


@pytest.mark.parametrize("command", ["ask", "search"])
def test_a_cli_question_is_checked_once(index_copy, monkeypatch, capsys, command):
    from assistant.cli import main
    from assistant.service.request_rules import RequestRules

    calls: list[str] = []
    check = RequestRules.check_question

    def counting(rules, question):
        calls.append(question)
        return check(rules, question)

    monkeypatch.setattr(RequestRules, "check_question", counting)
    monkeypatch.setenv("ASSISTANT_AUDIT__AUDIT_DB", str(index_copy.parent / "audit.sqlite3"))
    args = ["--index-dir", str(index_copy), "--embedder", "hashing", command, QUESTION]
    assert main(args) == 0 and QUESTION.split()[0] in capsys.readouterr().out
    assert len(calls) == 1
    assert main([*args[:-1], "  "]) == 2 and "问题为空" in capsys.readouterr().err
    assert len(calls) == 2

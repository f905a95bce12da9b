"""The chat page gives the API's roles (issue 24, item 4): exporting feedback — every staff
member's reasons — needs an admin key, a page action without a login does nothing, audit
rows from the page carry the key id, and an export leaves no file behind on the next one.

Real `ChatPage` over a real index (hashing test embedder); requests carry the user name
Gradio's login set, bound to a key by `PageLogins` as `assistant serve` wires it.
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import pytest
from api_fixtures import (  # noqa: F401  (pytest fixtures are used by name)
    ADMIN_KEY,
    QUESTION,
    READ_KEY,
    api_settings,
    corpus_index,
)

from assistant.service import Assistant
from assistant.service.audit import key_id

gr = pytest.importorskip("gradio")


@pytest.fixture
def page(corpus_index, tmp_path):
    from assistant.ui.chat import ChatPage

    settings = api_settings(corpus_index, audit_db=tmp_path / "audit.sqlite3",
                            feedback_db=tmp_path / "feedback.sqlite3")
    page = ChatPage(Assistant(settings))
    assert page.logins.login("reader", READ_KEY) and page.logins.login("boss", ADMIN_KEY)
    return page


def as_user(name: str | None):
    return gr.Request(username=name)


def test_a_read_key_cannot_export_feedback(page):
    summary, files = page.export(as_user("reader"))
    assert files is None and "仅限管理员" in summary
    summary, files = page.export(as_user(None))
    assert files is None


def test_an_admin_key_exports_and_the_previous_export_is_removed(page):
    from pathlib import Path

    _, first = page.export(as_user("boss"))
    assert first and all(Path(f).is_file() for f in first)
    assert Path(first[0]).parent.stat().st_mode & 0o077 == 0  # a private folder
    _, second = page.export(as_user("boss"))
    assert not Path(first[0]).parent.exists() and all(Path(f).is_file() for f in second)
    page.remove_export()
    assert not Path(second[0]).parent.exists()


def test_a_name_bound_to_one_key_cannot_be_taken_by_another(page):
    assert not page.logins.login("boss", READ_KEY)  # a reader cannot become "boss"
    assert page.logins.login("boss", ADMIN_KEY)
    assert not page.logins.login("someone", "wrong-key")


def test_page_questions_are_audited_with_the_key_id(page):
    steps = list(page.respond(QUESTION, [], None, False, None, as_user("reader")))
    assert steps[-1][1][-1].answer is not None
    [row] = page.assistant.rules.audit.recent(5)
    assert row["endpoint"] == "chat" and row["key_id"] == key_id(READ_KEY)


def test_a_page_event_without_a_login_answers_nothing(page):
    steps = list(page.respond(QUESTION, [], None, False, None, as_user("stranger")))
    assert steps[-1][1][-1].answer is None and "请先登录" in steps[-1][1][-1].html
    assert page.assistant.rules.audit.recent(5) == []

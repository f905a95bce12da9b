"""`assistant serve`: the bind rule, first-start index build, the chat page beside the API."""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import httpx
import pytest
from api_fixtures import (  # noqa: F401  (pytest fixtures are used by name)
    READ,
    READ_KEY,
    api_settings,
    corpus_index,
)

from assistant.api.security import UnsafeBindError, check_bind, is_loopback
from assistant.api.server import LiveServer
from assistant.commands import serve
from assistant.service import Assistant


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("example.org", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_without_keys_only_loopback_is_allowed(tmp_path):
    open_settings = api_settings(tmp_path / "i", api_keys="", admin_keys="")
    with pytest.raises(UnsafeBindError, match="refusing to serve on 0.0.0.0"):
        check_bind(open_settings, "0.0.0.0")
    warning = check_bind(open_settings, "127.0.0.1")
    assert "unauthenticated" in warning and "127.0.0.1" in warning
    assert check_bind(api_settings(tmp_path / "i"), "0.0.0.0") is None


def test_serve_refuses_an_open_public_bind_before_doing_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_SERVER__API_KEYS", "")
    monkeypatch.setenv("ASSISTANT_SERVER__ADMIN_KEYS", "")
    args = argparse.Namespace(index_dir=str(tmp_path / "index"), embedder="hashing",
                              embed_model=None, host="0.0.0.0", port=0, no_ui=True)
    with pytest.raises(UnsafeBindError):
        serve.run(args)
    assert not (tmp_path / "index").exists()


def test_first_start_builds_the_index_from_the_corpus(tmp_path, capsys):
    settings = api_settings(tmp_path / "index")
    serve.ensure_index(settings)
    err = capsys.readouterr().err
    assert "building it from" in err and "index built: 5 documents" in err
    current = (tmp_path / "index" / "CURRENT").read_text()
    serve.ensure_index(settings)  # already there: nothing rebuilt
    assert (tmp_path / "index" / "CURRENT").read_text() == current
    assert capsys.readouterr().err == ""


def test_chat_page_is_mounted_at_root_beside_the_api(corpus_index):
    pytest.importorskip("assistant.ui.chat")
    settings = api_settings(corpus_index, api_keys="", admin_keys="", audit_enabled=False)
    assistant = Assistant(settings)
    app = serve.build_app(settings, assistant, ui=True)
    with LiveServer(app) as url:
        page = httpx.get(url + "/", follow_redirects=True)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert httpx.get(url + "/v1/documents").json()["documents"]
        assert httpx.get(url + "/healthz").json() == {"status": "ok"}
        assert httpx.get(url + "/openapi.json").json()["info"]["title"]


def test_chat_page_asks_for_a_key_when_keys_are_configured(corpus_index):
    pytest.importorskip("assistant.ui.chat")
    settings = api_settings(corpus_index, audit_enabled=False)
    app = serve.build_app(settings, Assistant(settings), ui=True)
    with LiveServer(app) as url:
        assert httpx.get(url + "/config").status_code == 401
        refused = httpx.post(url + "/login", data={"username": "x", "password": "wrong"})
        assert refused.status_code >= 400
        with httpx.Client(base_url=url) as browser:
            assert browser.post("/login", data={"username": "x",
                                                "password": READ_KEY}).status_code == 200
            assert browser.get("/config").status_code == 200
        assert httpx.get(url + "/v1/documents", headers=READ).status_code == 200


def test_assistant_serve_command_end_to_end(corpus_index, tmp_path):
    """The real command in a subprocess: starts, serves /readyz and /v1/ask, stops."""
    from assistant.bench.loadtest import _free_port

    port = _free_port()
    env = {**os.environ, "ASSISTANT_PATHS__INDEX_DIR": str(corpus_index),
           "ASSISTANT_INDEX__EMBEDDER": "hashing", "ASSISTANT_SERVER__API_KEYS": READ_KEY,
           "ASSISTANT_AUDIT__AUDIT_DB": str(tmp_path / "a.sqlite3")}
    process = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--no-ui",
                                "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        answer = httpx.post(url + "/v1/ask", headers=READ, timeout=60,
                            json={"question": "四川省在哪些城市开展三医联动改革试点?"})
        assert answer.status_code == 200 and answer.json()["citations"]
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert "index loaded: 5 documents" in err and f"127.0.0.1:{port}" in err

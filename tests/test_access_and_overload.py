"""Access and overload: failed keys and logins are throttled by address, every response
carries security headers, no key may write through the chat page, slow clients cannot
hold connections, overload is shed explicitly (503 + Retry-After, logged), and logs
neither flood nor record query strings.

Real uvicorn servers on loopback over a real index (hashing test embedder).
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import logging
import socket
import threading
import time

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
)

from assistant.api import server as api_server
from assistant.api.server import FloodFilter, LiveServer, QueryStringRedactor
from assistant.commands import serve
from assistant.service import Assistant

WRONG = {"Authorization": "Bearer wrong-key"}


# --- failed keys and logins
def test_repeated_wrong_keys_are_throttled_by_address(corpus_index):
    with live(api_settings(corpus_index, audit_enabled=False, auth_failures_allowed=5)) as url:
        statuses = [httpx.get(url + "/v1/documents", headers=WRONG).status_code
                    for _ in range(30)]
        assert statuses[:5] == [401] * 5 and set(statuses[6:]) == {429}
        blocked = httpx.get(url + "/v1/documents", headers=READ)  # guessing gains nothing
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
        assert httpx.get(url + "/healthz").status_code == 200


def test_repeated_failed_logins_to_the_chat_page_are_throttled(corpus_index):
    pytest.importorskip("gradio")
    settings = api_settings(corpus_index, audit_enabled=False, auth_failures_allowed=3)
    app = serve.build_app(settings, Assistant(settings), ui=True)
    with LiveServer(app) as url:
        statuses = [httpx.post(url + "/login", data={"username": "x", "password": "no"})
                    .status_code for _ in range(8)]
        assert all(400 <= s < 500 and s != 429 for s in statuses[:3])
        assert statuses[-1] == 429
        right = httpx.post(url + "/login", data={"username": "x", "password": READ_KEY})
        assert right.status_code == 429


def test_no_key_can_write_files_through_the_chat_page(corpus_index):
    pytest.importorskip("gradio")
    settings = api_settings(corpus_index, audit_enabled=False)
    app = serve.build_app(settings, Assistant(settings), ui=True)
    with LiveServer(app) as url, httpx.Client(base_url=url) as browser:
        assert browser.post("/login", data={"username": "x",
                                            "password": READ_KEY}).status_code == 200
        files = {"files": ("big.bin", b"\0" * (256 * 1024), "application/octet-stream")}
        refused = browser.post("/gradio_api/upload", files=files)
        assert refused.status_code == 403 and "no file uploads" in refused.json()["detail"]
        assert browser.get("/config").status_code == 200  # the page itself still works


# --- security headers, /readyz
@pytest.mark.parametrize("path, headers", [("/healthz", {}), ("/v1/documents", READ),
                                            ("/v1/documents", {}), ("/v1/nowhere", READ),
                                            ("/readyz", {}), ("/docs", {})])
def test_every_response_carries_security_headers(server, path, headers):
    response = httpx.get(server + path, headers=headers)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    if path.startswith(("/v1/", "/readyz", "/healthz")):
        assert response.headers["cache-control"] == "no-store"


def test_readyz_without_a_key_says_ready_and_nothing_more(server):
    assert httpx.get(server + "/readyz").json() == {"status": "ready"}
    assert httpx.get(server + "/readyz", headers=WRONG).json() == {"status": "ready"}
    assert httpx.get(server + "/readyz", headers=READ).json()["documents"] == 5


def test_readyz_without_a_key_leaks_no_path(tmp_path):
    missing = tmp_path / "secret-place" / "index"
    with live(api_settings(missing, audit_enabled=False)) as url:
        anonymous = httpx.get(url + "/readyz")
        assert anonymous.status_code == 503 and "secret-place" not in anonymous.text
        assert "secret-place" in httpx.get(url + "/readyz", headers=READ).text


# --- slow clients and connection limits
def slow_socket(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    return sock


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_a_client_that_never_finishes_its_headers_is_disconnected(corpus_index):
    settings = api_settings(corpus_index, audit_enabled=False, header_timeout_s=1.0)
    with live(settings) as url:
        sock = slow_socket(url)
        try:
            assert closed_by_server(sock, within=5)
        finally:
            sock.close()


def test_slow_clients_cannot_exhaust_connections(corpus_index):
    settings = api_settings(corpus_index, audit_enabled=False, header_timeout_s=1.5,
                            max_connections=16)
    with live(settings) as url:
        socks = [slow_socket(url) for _ in range(40)]
        try:
            busy = httpx.get(url + "/healthz", timeout=10)
            assert busy.status_code == 503  # refused explicitly, not a hang
            time.sleep(2.5)  # the slow ones are cut off at the header deadline
            assert httpx.get(url + "/healthz", timeout=10).status_code == 200
            assert sum(closed_by_server(s, within=0.5) for s in socks) == len(socks)
        finally:
            for sock in socks:
                sock.close()


# --- explicit load shedding
def test_overload_is_shed_with_503_and_retry_after_and_logged(corpus_index, caplog):
    settings = api_settings(corpus_index, audit_enabled=False, max_concurrent_asks=1,
                            max_queued_asks=1, queue_wait_s=30)
    results: list[httpx.Response] = []
    api_server._FLOOD._seen.clear()  # earlier tests' shed lines must not count against this one
    with live(settings) as url:
        start = threading.Barrier(12)

        def ask():
            start.wait()
            results.append(httpx.post(url + "/v1/ask", json={"question": QUESTION},
                                      headers=ADMIN, timeout=60))

        with caplog.at_level(logging.WARNING, logger="assistant.api"):
            threads = [threading.Thread(target=ask) for _ in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
    shed = [r for r in results if r.status_code == 503]
    assert len(results) == 12 and {r.status_code for r in results} <= {200, 503}
    assert 1 <= len(shed) <= 10 and all(int(r.headers["retry-after"]) >= 1 for r in shed)
    assert "queue is full" in shed[0].json()["detail"]
    assert sum("shed POST /v1/ask" in r.getMessage() for r in caplog.records) == len(shed)


def test_asks_worked_on_at_once_scale_with_the_cores_unless_set(monkeypatch):
    from assistant.api import app as api_app
    from assistant.settings import Settings

    monkeypatch.setattr(api_app, "cpu_cores", lambda: 2)
    assert api_app.concurrent_asks(Settings()) == 6  # three per core keep both handles fed
    monkeypatch.setattr(api_app, "cpu_cores", lambda: 8)
    assert api_app.concurrent_asks(Settings()) == 24
    assert api_app.concurrent_asks(Settings(max_concurrent_asks=4)) == 4


# --- logs
def test_the_access_log_never_records_a_query_string():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/v1/documents?api_key=SECRET", "1.1",
                                200), None)
    assert QueryStringRedactor().filter(record)
    line = record.getMessage()
    assert "SECRET" not in line and "/v1/documents?[redacted]" in line


def test_a_repeated_log_message_cannot_flood_the_log():
    now = [0.0]
    flood = FloodFilter(per_minute=10, clock=lambda: now[0])

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)

    kept = [flood.filter(record("socket.accept() out of system resource")) for _ in range(5000)]
    assert sum(kept) == 10
    assert flood.filter(record("another message"))
    now[0] = 61.0
    summary = record("socket.accept() out of system resource")
    assert flood.filter(summary) and "4990 more like it" in summary.getMessage()

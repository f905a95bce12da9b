"""Slow request bodies, per-client connection caps, fair ask slots, forwarded headers.

Soak-style: a real uvicorn server on loopback, real sockets replaying the attacks of
issue 24 (items 1-3, 8) at a bounded size and for a bounded time, while a well-behaved
client checks that /healthz and a keyed ask stay fast. The attacker's sockets come from
127.0.0.2 (still loopback) so the per-address cap tells it apart from the good client.
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
from api_fixtures import (  # noqa: F401  (pytest fixtures are used by name)
    ADMIN_KEY,
    QUESTION,
    READ,
    READ_KEY,
    api_settings,
    corpus_index,
    live,
)

from assistant.api.guards import FairSlots

ATTACKER = "127.0.0.2"


def _attacker_supported() -> bool:
    try:
        with socket.socket() as probe:
            probe.bind((ATTACKER, 0))
        return True
    except OSError:
        return False


needs_second_loopback = pytest.mark.skipif(not _attacker_supported(),
                                           reason="127.0.0.2 cannot be bound here")


def slow_body(url: str, path: str, headers: str = "", source: str = ATTACKER) -> socket.socket:
    """Complete headers announcing 100,000 bytes, then a few: the body never completes."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.settimeout(10)
    sock.bind((source, 0))
    sock.connect((host, int(port)))
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"{headers}Content-Length: 100000\r\n\r\n{{\"q".encode())
    return sock


def reply_of(sock: socket.socket, within: float) -> bytes:
    """What the server sent before closing (b"" if it closed without a reply)."""
    sock.settimeout(within)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def _close(socks) -> None:
    for sock in socks:
        sock.close()


@needs_second_loopback
def test_slow_bodies_from_one_host_cannot_take_the_service_down(corpus_index):
    """Attack 1: more slow-body sockets than the server has connections. /healthz and
    a keyed ask from another address stay fast throughout; a trickle the route answers
    early (401) is closed, one whose body is read gets 408 at the body deadline, and
    those over the per-address cap get 503."""
    settings = api_settings(corpus_index, audit_enabled=False, max_connections=40,
                            max_connections_per_client=10, body_timeout_s=3.0)
    with live(settings) as url:
        socks = []
        try:
            times = []
            for round_ in range(4):  # keep attacking while the good client checks
                socks += [slow_body(url, path) for path in ("/v1/documents", "/v1/search") * 8]
                started = time.monotonic()
                assert httpx.get(url + "/healthz", timeout=5).status_code == 200
                ask = httpx.post(url + "/v1/ask", json={"question": QUESTION}, headers=READ,
                                 timeout=10)
                assert ask.status_code == 200, ask.text
                times.append(time.monotonic() - started)
                time.sleep(0.5)
            assert max(times) < 3.0, times
            replies = [reply_of(s, within=6) for s in socks]
        finally:
            _close(socks)
    status = [r[9:12] for r in replies]  # every socket got a reply, and was closed
    assert set(status) == {b"401", b"408", b"503"}, set(status)
    assert all(b"retry-after" in r.lower() for r in replies if r[9:12] == b"503")


@needs_second_loopback
def test_slow_ask_bodies_hold_no_ask_slot(corpus_index):
    """Attack 2: keyed sockets that trickle their /v1/ask body take no slot: every
    other ask is answered at once, long before the body deadline cuts them."""
    settings = api_settings(corpus_index, audit_enabled=False, max_concurrent_asks=2,
                            max_queued_asks=2, queue_wait_s=30, body_timeout_s=20)
    with live(settings) as url:
        socks = [slow_body(url, "/v1/ask", f"Authorization: Bearer {READ_KEY}\r\n")
                 for _ in range(6)]
        try:
            time.sleep(0.3)
            started = time.monotonic()
            answers = [httpx.post(url + "/v1/ask", json={"question": QUESTION}, headers=READ,
                                  timeout=30) for _ in range(3)]
            elapsed = time.monotonic() - started
        finally:
            _close(socks)
    assert [a.status_code for a in answers] == [200] * 3
    assert elapsed < 8, elapsed


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(corpus_index):
    """Attack 3: a new X-Forwarded-For per wrong key does not reset the throttle, and a
    forged value cannot lock out another address."""
    settings = api_settings(corpus_index, audit_enabled=False, auth_failures_allowed=5)
    with live(settings) as url:
        statuses = [httpx.get(url + "/v1/documents", timeout=5, headers={
            "Authorization": "Bearer wrong", "X-Forwarded-For": f"10.0.0.{n}"}).status_code
            for n in range(12)]
    assert 429 in statuses and statuses[:5] == [401] * 5


def test_a_trusted_proxy_names_the_client(corpus_index):
    settings = api_settings(corpus_index, audit_enabled=False, auth_failures_allowed=3,
                            trusted_proxies="127.0.0.1")
    with live(settings) as url:
        forged = {"Authorization": "Bearer wrong", "X-Forwarded-For": "10.9.9.9"}
        statuses = [httpx.get(url + "/v1/documents", headers=forged, timeout=5).status_code
                    for _ in range(6)]
        other = httpx.get(url + "/v1/documents", timeout=5,
                          headers={**READ, "X-Forwarded-For": "10.1.1.1"})
    assert statuses[-1] == 429 and other.status_code == 200  # only 10.9.9.9 is locked out


# --- fairness between callers
def test_a_freed_slot_goes_to_the_caller_with_fewest_running():
    async def scenario():
        slots = FairSlots(concurrent=2, queued=8)
        assert await slots.acquire("A", 1) is None and await slots.acquire("A", 1) is None
        queued_a = [asyncio.create_task(slots.acquire("A", 5)) for _ in range(4)]
        await asyncio.sleep(0.02)
        b = asyncio.create_task(slots.acquire("B", 5))  # came last, served first
        await asyncio.sleep(0.02)
        slots.release("A")
        await asyncio.sleep(0.02)
        assert b.done() and b.result() is None and slots.running == {"A": 1, "B": 1}
        slots.release("A")
        await asyncio.sleep(0.02)
        assert sum(t.done() for t in queued_a) == 1
        for _ in range(4):
            slots.release(next(iter(slots.running)))
            await asyncio.sleep(0.02)
        assert all(t.done() for t in queued_a)

    asyncio.run(scenario())


def test_a_full_queue_makes_room_for_another_caller():
    async def scenario():
        slots = FairSlots(concurrent=2, queued=3)
        assert await slots.acquire("A", 1) is None and await slots.acquire("A", 1) is None
        flood = [asyncio.create_task(slots.acquire("A", 5)) for _ in range(3)]
        await asyncio.sleep(0.02)
        b = asyncio.create_task(slots.acquire("B", 5))
        await asyncio.sleep(0.02)
        assert flood[-1].done() and "fair share" in flood[-1].result()  # pushed out
        assert not b.done() and slots.waiting == 3
        slots.release("A")  # A still runs one, B none: B goes before A's older waiters
        await asyncio.sleep(0.02)
        assert b.done() and b.result() is None and not flood[0].done()
        for task in flood[:2]:
            task.cancel()

    asyncio.run(scenario())


def test_a_flood_of_asks_from_one_key_does_not_starve_another_keys_stream(corpus_index):
    """Item 8: 40 asks from the admin key beside 4 streaming asks from the read key: the
    streams are answered, and every shed request got 503 with Retry-After."""
    settings = api_settings(corpus_index, audit_enabled=False, max_concurrent_asks=2,
                            max_queued_asks=8, queue_wait_s=20)
    results: dict[str, list] = {"flood": [], "stream": []}
    with live(settings) as url:
        def ask(kind: str, key: str, stream: bool) -> None:
            try:
                response = httpx.post(url + "/v1/ask", timeout=60,
                                      json={"question": QUESTION, "stream": stream},
                                      headers={"Authorization": f"Bearer {key}"})
                results[kind].append((response.status_code, response.headers.get("retry-after")))
            except httpx.HTTPError as err:  # a connection closed without a reply
                results[kind].append((repr(err), None))

        threads = [threading.Thread(target=ask, args=("flood", ADMIN_KEY, False))
                   for _ in range(40)]
        threads += [threading.Thread(target=ask, args=("stream", READ_KEY, True))
                    for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
    assert [status for status, _ in results["stream"]] == [200] * 4
    assert {s for s, _ in results["flood"]} <= {200, 503}
    assert all(retry for status, retry in results["flood"] if status == 503)

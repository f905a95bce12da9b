"""Soak and fault trials against a real `assistant serve` on loopback (`assistant bench --soak`).

Four trials, each printing its figures:

- load: N concurrent clients asking at once. Every request must end in an answer (200) or
  an explicit refusal (503/429 with Retry-After); anything else (a dropped connection, a
  5xx without Retry-After) is an error.
- streams beside a crowd: 20 streaming chats from another key started while 100 ask
  clients fill the queue: slots are shared per key, so the chats must complete (or be
  refused with Retry-After), never all be pushed out by the crowd.
- slow clients: many connections that never finish their headers, while a normal client
  keeps asking: its answers must keep coming, the slow connections must be cut at the
  header deadline, and the server's log must stay small.
- kill -9: an ingest killed at a random moment, repeatedly; after each, the index must
  open and hold the old or the new corpus, never a partial one.

The server runs on a private copy of the sample corpus with the `hashing` test embedder
(the trials measure the server's behaviour, not retrieval quality).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

import httpx

from assistant.bench.loadtest import QUESTIONS, SpawnedServer
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.stores.faiss.store import IndexStore

SOAK_KEY = "soak-admin-key"
STREAM_KEY = "soak-stream-key"  # another caller: fair slots are shared per key


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _env(index_dir: Path, corpus_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_PATHS__INDEX_DIR": str(index_dir),
            "ASSISTANT_PATHS__CORPUS_DIR": str(corpus_dir), "ASSISTANT_INDEX__EMBEDDER": "hashing",
            "ASSISTANT_SERVER__ADMIN_KEYS": SOAK_KEY, "ASSISTANT_SERVER__API_KEYS": STREAM_KEY,
            "ASSISTANT_SERVER__RATE_LIMIT_PER_MINUTE": "0",
            "ASSISTANT_AUDIT__AUDIT_ENABLED": "false",
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **extra}


class Served(SpawnedServer):
    """`assistant serve --no-ui` with the soak's environment, its log in a file (the slow-client
    trial measures how much it grows); stopped on exit."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        super().__init__(ready_timeout=300, env=env, log_path=log_path)

    def __enter__(self) -> Self:
        self.start()
        return self


# --- load
async def _one(http: httpx.AsyncClient, n: int, tally: dict, latencies: list[float]) -> None:
    started = time.perf_counter()
    try:
        response = await http.post("/v1/ask", json={"question": f"{QUESTIONS[n % 8]}（{n}）"})
    except httpx.HTTPError as err:
        tally["errors"].append(f"{type(err).__name__}")
        return
    if response.status_code == 200:
        latencies.append((time.perf_counter() - started) * 1000)
    elif response.status_code in (429, 503) and response.headers.get("retry-after"):
        tally["shed"] += 1
    else:
        tally["errors"].append(f"HTTP {response.status_code}")


async def _load(url: str, clients: int, rounds: int) -> dict:
    tally: dict = {"shed": 0, "errors": []}
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits,
                                 headers={"Authorization": f"Bearer {SOAK_KEY}"}) as http:
        started = time.perf_counter()
        for r in range(rounds):
            await asyncio.gather(*(_one(http, r * clients + i, tally, latencies)
                                   for i in range(clients)))
        seconds = time.perf_counter() - started
    requests = len(latencies) + tally["shed"] + len(tally["errors"])
    return {
        "clients": clients,
        "requests": requests,
        "answered": len(latencies),
        "shed": tally["shed"],
        "errors": len(tally["errors"]),
        "error_kinds": sorted(set(tally["errors"])),
        "seconds": round(seconds, 1),
        "p50_ms": round(percentile(latencies, 0.5)),
        "p95_ms": round(percentile(latencies, 0.95)),
    }


def trial_load(url: str, clients: int, rounds: int = 3) -> dict:
    return asyncio.run(_load(url, clients, rounds))


# --- streaming chats beside a crowd of asks (another key)
async def _stream(http: httpx.AsyncClient, n: int, tally: dict) -> None:
    body = {"model": "extractive", "stream": True,
            "messages": [{"role": "user", "content": f"{QUESTIONS[n % 7]}（流{n}）"}]}
    try:
        async with http.stream("POST", "/v1/chat/completions", json=body) as response:
            text = "".join([chunk async for chunk in response.aiter_text()])
    except httpx.HTTPError as err:
        tally["dropped"].append(type(err).__name__)
        return
    if response.status_code == 200 and "[DONE]" in text:
        tally["completed"] += 1
    elif response.status_code in (429, 503) and response.headers.get("retry-after"):
        tally["shed"] += 1
    else:
        tally["errors"].append(f"HTTP {response.status_code}")


async def _streams_beside_crowd(url: str, clients: int, streams: int) -> dict:
    tally: dict = {"completed": 0, "shed": 0, "errors": [], "dropped": []}
    async with httpx.AsyncClient(base_url=url, timeout=120,
                                 headers={"Authorization": f"Bearer {STREAM_KEY}"}) as http:
        crowd = asyncio.create_task(_load(url, clients, 3))
        await asyncio.sleep(0.2)  # the crowd has filled the queue when the chats start
        await asyncio.gather(*(_stream(http, n, tally) for n in range(streams)))
        load = await crowd
    return {"streams": streams, "completed": tally["completed"], "shed": tally["shed"],
            "errors": len(tally["errors"]), "dropped": len(tally["dropped"]),
            "crowd": load}


def trial_streams_beside_crowd(url: str, clients: int, streams: int = 20) -> dict:
    return asyncio.run(_streams_beside_crowd(url, clients, streams))


# --- slow clients
def _slow_socket(port: int) -> socket.socket | None:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /v1/ask HTTP/1.1\r\nHost: soak\r\n")  # never finished
        return sock
    except OSError:
        return None


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(0.2)
    try:
        return sock.recv(64) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def _ask_once(http: httpx.Client, question: str) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        status = http.post("/v1/ask", json={"question": question}).status_code
    except httpx.HTTPError:
        return "error", 0.0
    kind = "answered" if status == 200 else "refused" if status in (429, 503) else "error"
    return kind, (time.perf_counter() - started) * 1000


def trial_slow_clients(served: Served, slow: int, header_timeout: float) -> dict:
    log_before = served.log_path.stat().st_size
    socks = [s for s in (_slow_socket(served.port) for _ in range(slow)) if s is not None]
    counts, latencies = {"answered": 0, "refused": 0, "error": 0}, []
    deadline = time.monotonic() + header_timeout + 3
    with httpx.Client(base_url=served.url, timeout=60,
                      headers={"Authorization": f"Bearer {SOAK_KEY}"}) as http:
        n = 0
        while time.monotonic() < deadline:
            kind, ms = _ask_once(http, QUESTIONS[n % 8])
            counts[kind] += 1
            if kind == "answered":
                latencies.append(ms)
            n += 1
    cut = sum(_closed(s) for s in socks)
    for sock in socks:
        sock.close()
    return {"slow_connections": len(socks), "cut_at_deadline": cut, "asks": n,
            "ask_answered": counts["answered"], "ask_refused": counts["refused"],
            "ask_errors": counts["error"], "ask_p95_ms": round(percentile(latencies, 0.95)),
            "log_growth_bytes": served.log_path.stat().st_size - log_before}


# --- kill -9 during ingest
def trial_kill9(env: dict[str, str], index_dir: Path, new_doc: Path, trials: int,
                rng: random.Random) -> dict:
    original = _doc_ids(index_dir)
    command = [sys.executable, "-m", "assistant", "ingest", str(new_doc)]
    started = time.perf_counter()  # one whole ingest first: kills land across its span
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    span = time.perf_counter() - started
    _delete(index_dir, (_doc_ids(index_dir) or set()) - (original or set()))
    outcomes = {"old": 0, "new": 0, "broken": 0}
    for _ in range(trials):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.1) * span)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        after = _doc_ids(index_dir)
        state = ("broken" if after is None or not original <= after or len(after - original) > 1
                 else "old" if after == original else "new")
        outcomes[state] += 1
        if state == "new":
            _delete(index_dir, after - original)  # back to the old corpus for the next trial
    return {"trials": trials, "survived": trials - outcomes["broken"],
            "ingest_s": round(span, 1), **outcomes}


def _doc_ids(index_dir: Path) -> set[str] | None:
    """The indexed documents, or None when the index does not open (a broken trial)."""
    try:
        store = IndexStore.open(Settings(index_dir=index_dir, embedder="hashing"))
        return {doc.doc_id for doc in store.documents}
    except Exception:  # noqa: BLE001  (any failure to open is what this trial looks for)
        return None


def _delete(index_dir: Path, doc_ids: set[str]) -> None:
    bot = Assistant(Settings(index_dir=index_dir, embedder="hashing"))
    for doc_id in doc_ids:
        bot.delete(doc_id)


def _planted_document(folder: Path) -> Path:
    path = folder / "soak-planted.txt"
    body = "\n".join(f"{n}. 第{n}项措施：加强测试市基层医疗卫生服务能力建设，提升服务质量。"
                     for n in range(1, 400))
    path.write_text("测试市人民政府办公室关于浸泡测试的通知\n测办发〔2026〕1号\n" + body,
                    encoding="utf-8")
    return path


def run_soak(settings: Settings, clients: int = 100, slow: int = 300, kills: int = 10,
             header_timeout: float = 5.0, say=print) -> dict:
    """All three trials; returns their figures (also printed with `say`)."""
    rng = random.Random(14)
    with tempfile.TemporaryDirectory(prefix="assistant-soak-") as folder:
        work = Path(folder)
        corpus, index_dir = work / "corpus", work / "index"
        shutil.copytree(settings.paths.corpus_dir, corpus)
        env = _env(index_dir, corpus, ASSISTANT_SERVER__HEADER_TIMEOUT_S=str(header_timeout))
        say(f"soak: `assistant serve --no-ui` on loopback, corpus {settings.paths.corpus_dir} "
            "(hashing embedder)")
        with Served(env, work / "server.log") as served:
            load = trial_load(served.url, clients)
            say(f"  load: {load['clients']} clients × 3 rounds = {load['requests']} requests: "
                f"{load['answered']} answered, {load['shed']} shed (503/429 + Retry-After), "
                f"{load['errors']} errors {load['error_kinds'] or ''}; p50 {load['p50_ms']} ms, "
                f"p95 {load['p95_ms']} ms")
            mixed = trial_streams_beside_crowd(served.url, clients)
            crowd = mixed["crowd"]
            say(f"  {mixed['streams']} streaming chats (another key) started beside "
                f"{crowd['clients']} ask clients: {mixed['completed']} completed, "
                f"{mixed['shed']} shed, {mixed['errors']} errors, {mixed['dropped']} dropped; "
                f"the crowd: {crowd['answered']} answered, {crowd['shed']} shed, "
                f"{crowd['errors']} errors")
            slowed = trial_slow_clients(served, slow, header_timeout)
            say(f"  slow clients: {slowed['slow_connections']} open, "
                f"{slowed['cut_at_deadline']} cut at the {header_timeout:g} s header deadline; "
                f"meanwhile {slowed['asks']} asks: {slowed['ask_answered']} answered, "
                f"{slowed['ask_refused']} refused, {slowed['ask_errors']} errors, "
                f"p95 {slowed['ask_p95_ms']} ms; log grew {slowed['log_growth_bytes']} bytes")
        killed = trial_kill9(env, index_dir, _planted_document(work), kills, rng)
        say(f"  kill -9 during ingest (killed at 20-110% of a {killed['ingest_s']} s ingest): "
            f"{killed['survived']}/{killed['trials']} trials survived (old index "
            f"{killed['old']}, new index {killed['new']}, broken {killed['broken']})")
    return {"load": load, "streams_beside_crowd": mixed, "slow_clients": slowed,
            "kill9": killed}

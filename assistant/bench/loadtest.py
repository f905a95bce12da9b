"""Bounded load run: N concurrent clients × M asks against a real server; prints the numbers.

    python -m assistant.bench.loadtest                      # 50 clients × 20 asks
    python -m assistant.bench.loadtest --url http://127.0.0.1:7860 --key KEY

Without --url it starts `assistant serve --no-ui` on a free loopback port (rate limit
off, extractive backend, the index the settings point at; built first if missing),
runs the load, prints throughput, p50/p95 latency and the error count, and stops it.
Exit code 1 if any request failed.

`assistant bench --parts serving` uses the pieces here for its serving targets: the
first ask after /readyz, the load at 1, 16 and 50 clients, and asks during an upload
(`run_load_while`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

QUESTIONS = [
    "四川省在哪些城市开展三医联动改革试点?",
    "川办函〔2021〕56号 一、（一）的内容是什么？",
    "家庭医生签约服务有哪些要求？",
    "如何推进医保支付方式改革？",
    "海南州如何改革完善医疗卫生服务体系？",
    "公立医院综合改革的重点任务有哪些？",
    "药品耗材集中采购怎么做？",
    "今天天气怎么样？",  # off-corpus: exercises the abstain path
]


@dataclass
class LoadResult:
    clients: int
    asks: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Refusals the service explains (429/503 with Retry-After): load shedding, not failure.
    shed: int = 0
    # Connections that ended without any response: never acceptable.
    dropped: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + len(self.errors) + self.shed + len(self.dropped)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.dropped)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def summary(self) -> str:
        lines = [
            f"clients × asks: {self.clients} × {self.asks} = {self.requests} requests",
            f"wall time:      {self.seconds:.2f} s",
            f"throughput:     {self.requests / self.seconds:.1f} requests/s",
            f"latency p50:    {self.percentile(0.5):.0f} ms",
            f"latency p95:    {self.percentile(0.95):.0f} ms",
            f"latency max:    {max(self.latencies_ms, default=float('nan')):.0f} ms",
            f"errors:         {len(self.errors)}",
            f"shed (429/503 + Retry-After): {self.shed}",
            f"dropped (no response): {len(self.dropped)}",
        ]
        lines += [f"  e.g. {e}" for e in dict.fromkeys((self.errors + self.dropped)[:5])]
        return "\n".join(lines)


def question(client: int, n: int, repeat: bool, run: str = "") -> str:
    """The n-th question of a client; made unique unless `repeat`, so that the server's
    query-embedding cache does not turn the run into cache hits. `run` labels one run of
    several against the same server: without it a later run repeats an earlier one's
    questions (client 0's 1st question is the same in every run) and is served from the
    cache."""
    text = QUESTIONS[(client + n) % len(QUESTIONS)]
    return text if repeat else f"{text}（{run}{client}-{n}）"


async def _client(http: httpx.AsyncClient, index: int, asks: int, backend: str,
                  result: LoadResult, repeat: bool, first: int = 0, run: str = "") -> None:
    for n in range(first, first + asks):
        body = {"question": question(index, n, repeat, run), "backend": backend}
        started = time.perf_counter()
        try:
            response = await http.post("/v1/ask", json=body)
        except httpx.TransportError as err:
            result.dropped.append(f"{type(err).__name__}: {err}")
            continue
        _record(result, response, started)


def _record(result: LoadResult, response: httpx.Response, started: float) -> None:
    if response.status_code in (429, 503) and "retry-after" in response.headers:
        result.shed += 1
        return
    try:
        ok = response.status_code == 200 and "answer" in response.json()
    except ValueError:
        ok = False
    if ok:
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
    else:
        result.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")


async def _load(url: str, clients: int, asks: int, key: str | None, backend: str,
                timeout: float, repeat: bool, run: str) -> LoadResult:
    # Drop idle connections before uvicorn does (its keep-alive is 5 s): reusing one the
    # server is closing at that instant fails with ReadError, a client-side artefact.
    async with _client_for(url, clients, key, timeout) as http:
        result = LoadResult(clients, asks, 0.0)
        started = time.perf_counter()
        await asyncio.gather(*(_client(http, i, asks, backend, result, repeat, run=run)
                               for i in range(clients)))
        result.seconds = time.perf_counter() - started
    return result


def _client_for(url: str, clients: int, key: str | None, timeout: float) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients,
                          keepalive_expiry=2.0)
    return httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=timeout)


async def _load_while(url: str, clients: int, busy: threading.Thread, key: str | None,
                      backend: str, timeout: float, run: str) -> LoadResult:
    async def client(http, index):
        n = 0
        while busy.is_alive() or n == 0:
            await _client(http, index, 1, backend, result, repeat=False, first=n, run=run)
            n += 1

    result = LoadResult(clients, 0, 0.0)
    async with _client_for(url, clients, key, timeout) as http:
        started = time.perf_counter()
        busy.start()
        await asyncio.gather(*(client(http, i) for i in range(clients)))
        result.seconds = time.perf_counter() - started
    return result


def run_load_while(url: str, work: Callable[[], object], clients: int = 4,
                   key: str | None = None, backend: str = "extractive",
                   timeout: float = 120.0, run: str = "") -> LoadResult:
    """`clients` clients asking one question after another for as long as `work` runs
    (in a thread): e.g. an upload, to see what it does to asks."""
    busy = threading.Thread(target=work, name="load-while", daemon=True)
    result = asyncio.run(_load_while(url.rstrip("/"), clients, busy, key, backend, timeout,
                                     run))
    busy.join()
    return result


def first_ask_ms(url: str, key: str | None = None, backend: str = "extractive") -> float:
    """One ask's latency (a question no warm-up asked), e.g. right after /readyz."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    started = time.perf_counter()
    response = httpx.post(url.rstrip("/") + "/v1/ask", headers=headers, timeout=120,
                          json={"question": "医疗服务价格改革有哪些安排？", "backend": backend})
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


def run_load(url: str, clients: int = 50, asks: int = 20, key: str | None = None,
             backend: str = "extractive", timeout: float = 120.0,
             repeat: bool = False, run: str = "") -> LoadResult:
    """`clients` concurrent clients, each sending `asks` questions one after another
    (`run`: a label that keeps its questions apart from other runs', see `question`)."""
    return asyncio.run(_load(url.rstrip("/"), clients, asks, key, backend, timeout, repeat,
                             run))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SpawnedServer:
    """`assistant serve --no-ui` in a subprocess, rate limit off; waits until /readyz is 200.

    `env` adds or overrides environment variables (e.g. ASSISTANT_PATHS__INDEX_DIR)."""

    def __init__(self, ready_timeout: float = 600.0, env: dict[str, str] | None = None,
                 quiet: bool = False, log_path: Path | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready_timeout = ready_timeout
        self.env = env or {}
        self.quiet = quiet  # drop the server's output (its access log) instead of echoing it
        self.log_path = log_path  # or write it to this file
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        self.start()
        return self.url

    def start(self) -> None:
        env = {**os.environ, "ASSISTANT_SERVER__RATE_LIMIT_PER_MINUTE": "0",
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **self.env}
        command = [sys.executable, "-m", "assistant", "serve", "--no-ui",
                   "--host", "127.0.0.1", "--port", str(self.port)]
        output = subprocess.DEVNULL if self.quiet else None
        if self.log_path is not None:
            output = self.log_path.open("wb")
        self.process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.process.returncode}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the server was not ready within {self.ready_timeout:.0f} s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.bench.loadtest",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--asks", type=int, default=20, help="asks per client")
    parser.add_argument("--key", default=os.environ.get("ASSISTANT_LOADTEST_KEY"),
                        help="bearer key (env ASSISTANT_LOADTEST_KEY)")
    parser.add_argument("--backend", default="extractive")
    parser.add_argument("--repeat", action="store_true",
                        help="send the same 8 questions verbatim (query cache hits)")
    args = parser.parse_args(argv)
    options = {"key": args.key, "backend": args.backend, "repeat": args.repeat}
    if args.url:
        result = run_load(args.url, args.clients, args.asks, **options)
    else:
        with SpawnedServer() as url:
            print(f"started `assistant serve --no-ui` at {url}", file=sys.stderr)
            result = run_load(url, args.clients, args.asks, **options)
    print(result.summary())
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Servers follow corpus changes made elsewhere, without a restart.

Real processes on loopback: `assistant serve` subprocesses, the `assistant ingest` CLI,
and a Milvus Lite gRPC server (`milvus-lite server`, the pip package's own command)
that two API replicas share. The embedder is the hashing test embedder; the rest
(parser, backends, API, polling of the corpus version) is the real thing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_fixtures import ADMIN, ADMIN_KEY, CORPUS, READ, READ_KEY

NUMBER = "测府办发〔2025〕7号"
NOTICE = f"""测试市人民政府办公室
关于开展远程医疗试点工作的通知
{NUMBER}
各区县人民政府：
现就远程医疗试点工作通知如下。
一、在测试市第一人民医院开展远程医疗试点，试点期限两年。
二、试点经费由市财政保障。
测试市人民政府办公室
2025年1月5日
"""
FOLLOW_S = 20  # the default reload interval is 2 s; leave room for a slow shared machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


class Server:
    """`assistant serve --no-ui` on a free loopback port with the given environment."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.log = env, log

    def __enter__(self):
        self._out = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--no-ui", "--host", "127.0.0.1",
             "--port", str(self.port)], env=self.env, stdout=self._out, stderr=subprocess.STDOUT)
        wait_until(self._ready, 180, f"server ready (log: {self.log.read_text()[-2000:]})")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(self.url + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._out.close()

    def numbers(self) -> set[str]:
        rows = httpx.get(self.url + "/v1/documents", headers=READ, timeout=30).json()
        return {d.get("number") for d in rows["documents"]}

    def cites(self, number: str) -> bool:
        answer = httpx.post(self.url + "/v1/ask", headers=READ, timeout=60,
                            json={"question": f"{number} 一、的内容是什么？"}).json()
        return any(c.get("number") == number for c in answer.get("citations", []))


def base_env(tmp_path: Path, name: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_INDEX__EMBEDDER": "hashing",
            "ASSISTANT_PATHS__CORPUS_DIR": str(CORPUS),
            "ASSISTANT_PATHS__INDEX_DIR": str(tmp_path / name / "index"),
            "ASSISTANT_AUDIT__AUDIT_DB": str(tmp_path / name / "audit.sqlite3"),
            "ASSISTANT_SERVER__API_KEYS": READ_KEY, "ASSISTANT_SERVER__ADMIN_KEYS": ADMIN_KEY,
            "ASSISTANT_SERVER__RATE_LIMIT_PER_MINUTE": "0", **extra}


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "assistant", *args], env=env, check=False,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_faiss_server_answers_from_a_cli_ingest_without_restart(tmp_path):
    env = base_env(tmp_path, "faiss")
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE, encoding="utf-8")
    with Server(env, tmp_path / "serve.log") as server:  # builds the index from the corpus
        assert NUMBER not in server.numbers() and not server.cites(NUMBER)
        cli(env, "ingest", str(notice))
        wait_until(lambda: NUMBER in server.numbers(), FOLLOW_S, "server lists the new file")
        assert server.cites(NUMBER)


@pytest.fixture
def milvus_server(tmp_path):
    """A Milvus Lite gRPC server on a loopback port, for several processes to share."""
    port = free_port()
    log = (tmp_path / "milvus.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "milvus"),
         "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _accepts(port), 60, "Milvus Lite listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_two_replicas_over_one_milvus_see_each_others_upload_and_delete(tmp_path,
                                                                        milvus_server):
    shared = {"ASSISTANT_STORE__INDEX_BACKEND": "milvus",
              "ASSISTANT_STORE__MILVUS_URI": milvus_server}
    first_env = base_env(tmp_path, "first", **shared)
    second_env = base_env(tmp_path, "second", **shared)
    cli(first_env, "ingest")  # the sample corpus, into Milvus
    with Server(first_env, tmp_path / "first.log") as first, \
            Server(second_env, tmp_path / "second.log") as second:
        assert NUMBER not in second.numbers()
        upload = httpx.post(first.url + "/v1/documents", headers=ADMIN, timeout=120,
                            files={"file": ("notice.txt", NOTICE.encode("utf-8"), "text/plain")})
        assert upload.status_code == 201, upload.text
        wait_until(lambda: NUMBER in second.numbers(), FOLLOW_S, "second replica sees upload")
        assert second.cites(NUMBER)
        doc_id = upload.json()["documents"][0]["doc_id"]
        gone = httpx.delete(f"{first.url}/v1/documents/{doc_id}", headers=ADMIN, timeout=120)
        assert gone.status_code == 200, gone.text
        wait_until(lambda: NUMBER not in second.numbers(), FOLLOW_S, "second sees the delete")
        assert not second.cites(NUMBER)
    # the replicas kept no index on their own disks
    for name in ("first", "second"):
        assert not (tmp_path / name / "index" / "CURRENT").exists()

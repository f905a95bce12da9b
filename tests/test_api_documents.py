"""Upload and delete over HTTP: atomic, admin only, and a bad file changes nothing.

Each test runs its own uvicorn server on a private copy of the sample-corpus index
(`hashing` test embedder, see api_fixtures).
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from api_fixtures import (  # noqa: F401  (pytest fixtures are used by name)
    ADMIN,
    QUESTION,
    READ,
    api_settings,
    corpus_index,
    index_copy,
    live,
    policy_text,
)

NUMBER = "测试办发〔2026〕7号"
TITLE = "测试市人民政府办公室关于开展无人机配送试点的通知"


@pytest.fixture
def url(index_copy) -> Iterator[str]:
    with live(api_settings(index_copy, max_upload_bytes=50_000)) as base:
        yield base


def upload(url: str, name: str, data: bytes, headers=ADMIN) -> httpx.Response:
    return httpx.post(url + "/v1/documents", headers=headers, timeout=120,
                      files={"file": (name, data, "application/octet-stream")})


def documents(url: str) -> list[dict]:
    return httpx.get(url + "/v1/documents", headers=READ).json()["documents"]


def generation(index_dir) -> str:
    return (index_dir / "CURRENT").read_text().strip()


def test_upload_then_delete_round_trip(url):
    text = policy_text(NUMBER, TITLE, "无人机配送")
    response = upload(url, "无人机配送通知.txt", text.encode("utf-8"))
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["indexed"] and report["documents"][0]["number"] == NUMBER
    doc_id = report["documents"][0]["doc_id"]

    listed = {d["doc_id"]: d for d in documents(url)}
    assert len(listed) == 6 and listed[doc_id]["title"] == TITLE
    assert listed[doc_id]["source"] == "无人机配送通知.txt"
    found = httpx.post(url + "/v1/search", headers=READ,
                       json={"question": "无人机配送试点在几个街道开展", "top_k": 3}).json()
    assert found["results"][0]["doc_id"] == doc_id
    assert found["results"][0]["label"] == "一、（一）"
    answer = httpx.post(url + "/v1/ask", headers=READ, timeout=60,
                        json={"question": "无人机配送试点在几个街道开展？"}).json()
    assert any(c["number"] == NUMBER for c in answer["citations"])

    deleted = httpx.delete(f"{url}/v1/documents/{doc_id}", headers=ADMIN, timeout=120)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"]["number"] == NUMBER and deleted.json()["documents"] == 5
    assert doc_id not in {d["doc_id"] for d in documents(url)}
    assert httpx.get(f"{url}/v1/documents/{doc_id}", headers=READ).status_code == 404
    again = httpx.delete(f"{url}/v1/documents/{doc_id}", headers=ADMIN)
    assert again.status_code == 404


@pytest.mark.parametrize("name, data, status, needle", [
    ("virus.exe", b"MZ\x90\x00", 415, "'.exe'"),
    ("notice.doc", b"\xd0\xcf\x11\xe0", 415, "'.doc'"),
    ("noextension", b"text", 415, "no extension"),
    ("empty.txt", b"", 422, "empty"),
    ("binary.txt", bytes(range(256)) * 20, 422, "binary.txt"),
    ("broken.docx", b"PK\x03\x04 not really a zip", 422, "broken.docx"),
    ("broken.pdf", b"%PDF-1.4 garbage", 422, "broken.pdf"),
    ("huge.txt", "政策".encode() * 30_000, 413, "limit"),
])
def test_bad_upload_is_refused_and_changes_nothing(url, index_copy, name, data, status, needle):
    before, live_generation = documents(url), generation(index_copy)
    response = upload(url, name, data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert needle in response.json()["detail"]
    assert documents(url) == before and generation(index_copy) == live_generation


def test_unreadable_upload_reports_the_loader_code(url):
    body = upload(url, "empty.txt", b"   \n").json()
    assert body["status"] == 422 and body["code"] in ("empty", "no_text")


def test_upload_needs_a_file_field(url):
    response = httpx.post(url + "/v1/documents", headers=ADMIN, data={"x": "1"})
    assert response.status_code == 422 and "file" in response.json()["detail"]


def test_queries_keep_succeeding_during_ingest_and_delete(url):
    failures: list[str] = []
    answered = []
    stop = threading.Event()

    def ask_repeatedly() -> None:
        with httpx.Client(base_url=url, headers=READ, timeout=120) as http:
            while not stop.is_set():
                response = http.post("/v1/ask", json={"question": QUESTION})
                if response.status_code != 200 or not response.json()["citations"]:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                answered.append(response.status_code)

    workers = [threading.Thread(target=ask_repeatedly) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        added = []
        for n in range(2):
            text = policy_text(f"测试办发〔2026〕{10 + n}号", f"关于第{n}批试点的通知",
                               f"第{n}批试点")
            response = upload(url, f"batch{n}.txt", text.encode())
            assert response.status_code == 201, response.text
            added.append(response.json()["documents"][0]["doc_id"])
        assert httpx.delete(f"{url}/v1/documents/{added[0]}", headers=ADMIN,
                            timeout=120).status_code == 200
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert not failures and len(answered) >= 3
    assert len(documents(url)) == 6


def test_oversized_upload_without_content_length_is_refused(url, index_copy):
    before = generation(index_copy)
    data = "政策".encode() * 30_000  # over the 50 000-byte limit of this server
    body = (b"--bound\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n"
            b"Content-Type: text/plain\r\n\r\n" + data + b"\r\n--bound--\r\n")
    response = httpx.post(url + "/v1/documents", content=iter([body]),  # chunked: no length
                          headers={**ADMIN, "Content-Type": "multipart/form-data; boundary=bound"})
    assert response.status_code == 413 and "limit of 50000 bytes" in response.json()["detail"]
    assert generation(index_copy) == before


def test_upload_file_name_is_reduced_to_a_safe_base_name(url):
    text = policy_text("测试办发〔2026〕9号", "关于路径测试的通知", "路径测试")
    response = upload(url, "../../etc/路径 测试.txt", text.encode())
    assert response.status_code == 201, response.text
    assert response.json()["documents"][0]["source"] == "路径_测试.txt"

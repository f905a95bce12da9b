"""The disk refusing a write, and who may read what the service writes (issue 24, 5 and 7).

Disk full is a fault injected at the index writer's fsync (a labelled test double: a full
disk cannot be made without root; the real write path runs up to that point): the
upload gets 507 with what to do, `assistant ingest` one clear line and exit 3, and the
index in service is unchanged. Data files are created readable by their owner only.
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import errno
import os
import stat

import httpx
import pytest
from api_fixtures import (  # noqa: F401  (pytest fixtures are used by name)
    ADMIN,
    READ,
    api_settings,
    corpus_index,
    index_copy,
    live,
    policy_text,
)

from assistant.cli import main
from assistant.service.audit import open_audit_log
from assistant.service.feedback import FeedbackStore
from assistant.stores.faiss import generations

NUMBER = "测试办发〔2026〕9号"
TEXT = policy_text(NUMBER, "测试市人民政府办公室关于开展社区食堂试点的通知", "社区食堂")


def _full_disk(errno_code: int):
    def refuse(root):
        raise OSError(errno_code, os.strerror(errno_code), str(root / "dense.faiss"))
    return refuse


@pytest.mark.parametrize("code, status, needle", [(errno.ENOSPC, 507, "磁盘已满"),
                                                  (errno.EACCES, 500, "没有写入权限")])
def test_an_upload_on_a_full_or_readonly_disk_says_so(index_copy, monkeypatch, code, status,
                                                      needle):
    monkeypatch.setattr(generations, "fsync_tree", _full_disk(code))
    with live(api_settings(index_copy, audit_enabled=False)) as url:
        response = httpx.post(url + "/v1/documents", headers=ADMIN, timeout=120,
                              files={"file": ("食堂.txt", TEXT.encode(), "text/plain")})
        after = httpx.get(url + "/v1/documents", headers=READ, timeout=30).json()
    assert response.status_code == status, response.text
    body = response.json()
    assert needle in body["detail"] and str(index_copy) not in body["detail"]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert len(after["documents"]) == 5  # the index in service is unchanged


def test_assistant_ingest_on_a_full_disk_prints_one_clear_line(index_copy, tmp_path,
                                                                monkeypatch, capsys):
    monkeypatch.setattr(generations, "fsync_tree", _full_disk(errno.ENOSPC))
    source = tmp_path / "食堂.txt"
    source.write_text(TEXT, encoding="utf-8")
    code = main(["--index-dir", str(index_copy), "--embedder", "hashing", "ingest", str(source)])
    err = capsys.readouterr().err
    assert code == 3 and "磁盘已满" in err and "free space" in err
    assert "Traceback" not in err


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_audit_and_feedback_databases_are_readable_by_their_owner_only(tmp_path, corpus_index):
    previous = os.umask(0o022)  # a typical shell umask: the files must still be 0600
    try:
        settings = api_settings(corpus_index, audit_db=tmp_path / "audit.sqlite3",
                                feedback_db=tmp_path / "feedback.sqlite3")
        audit = open_audit_log(settings)
        store = FeedbackStore(settings.feedback_database)
        store.rows()
        audit.close()
    finally:
        os.umask(previous)
    written = [p for p in tmp_path.iterdir() if p.name.endswith((".sqlite3", "-wal", "-shm"))]
    assert {p.name for p in written} >= {"audit.sqlite3", "feedback.sqlite3"}
    assert all(_mode(p) & 0o077 == 0 for p in written), {p.name: oct(_mode(p)) for p in written}


def test_the_cli_applies_the_configured_umask(tmp_path, monkeypatch, capsys):
    previous = os.umask(0o022)
    try:
        monkeypatch.setenv("ASSISTANT_SERVER__UMASK", "027")
        main(["--index-dir", str(tmp_path / "none"), "--embedder", "hashing", "docs"])
        applied = os.umask(0o022)
    finally:
        os.umask(previous)
    assert applied == 0o027

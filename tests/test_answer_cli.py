"""`assistant ask` end to end through the CLI entry point, over a real (hashing) index."""

from __future__ import annotations

import json
import re

import pytest
from answer_fixtures import build_store

from assistant.cli import main


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("index")
    build_store(directory)
    return directory


def ask(index_dir, *args: str) -> list[str]:
    return ["--index-dir", str(index_dir), "--embedder", "hashing", "ask", *args]


def test_ask_prints_answer_sources_and_warnings(index_dir, capsys):
    assert main(ask(index_dir, "在哪些城市开展三医联动改革试点？")) == 0
    out = capsys.readouterr().out
    answer, sources = out.split("来源：")
    assert "自贡市" in answer and re.search(r"\[\d+\]", answer)
    assert "〔川办函〔2021〕56号 一、（一）〕" in sources
    assert "提示：" in out and "已失效" in out


def test_ask_json_is_the_answer_model(index_dir, capsys):
    assert (
        main(ask(index_dir, "开州区2020年底前二级及以上医院建成什么实验室？", "--json", "--k", "5"))
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["abstained"] is False and len(data["retrieved"]) <= 6
    assert data["citations"][0]["rendered"] == "〔开州府办发〔2020〕109号 附件一、（三）〕"


def test_ask_in_force_and_doc_filters(index_dir, capsys):
    main(ask(index_dir, "在哪些城市开展三医联动改革试点？", "--json", "--in-force"))
    data = json.loads(capsys.readouterr().out)
    assert all(r["status"] != "失效" for r in data["retrieved"])
    main(ask(index_dir, "推广三明医改经验", "--json", "--doc", "川办函〔2021〕56号"))
    data = json.loads(capsys.readouterr().out)
    assert {r["number"] for r in data["retrieved"]} == {"川办函〔2021〕56号"}


def test_ask_abstains_and_reports_errors_cleanly(index_dir, capsys):
    main(ask(index_dir, "杭州市的医改试点城市有哪些？", "--json"))
    data = json.loads(capsys.readouterr().out)
    assert data["abstained"] and data["citations"] == []
    assert main(ask(index_dir, " ")) == 2
    assert "问题为空" in capsys.readouterr().err
    assert main(ask(index_dir, "问题", "--backend", "nope")) == 2
    assert "unknown backend 'nope'" in capsys.readouterr().err

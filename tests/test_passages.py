"""Passages: every sentence of a clause is embedded once, with its context once."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.document import build_document
from assistant.models import PREAMBLE_LABEL
from assistant.stores.passages import clause_passages, index_text, sentence_groups

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


def _pairs():
    for path in sorted(CORPUS.glob("*.txt")):
        doc = build_document(path.read_text(encoding="utf-8"), path.name)
        info = doc.info()
        for clause in doc.clauses:
            yield clause, info


def test_each_sentence_group_is_embedded_exactly_once():
    for clause, info in _pairs():
        passages = clause_passages(clause, info)
        groups = sentence_groups(clause.text)
        if len(groups) < 2:
            assert passages == [index_text(clause, info)]
            continue
        assert len(passages) == len(groups)  # no whole-clause passage beside the groups
        for group, passage in zip(groups, passages):
            assert passage.endswith(group)
        trail = " › ".join(clause.context)
        if trail:
            assert passages[0].startswith(trail) or passages[0].startswith("文件信息：")
            assert not any(p.startswith(trail) for p in passages[1:])


def test_the_corpus_is_embedded_about_once():
    pairs = list(_pairs())
    embedded = sum(len(p) for clause, info in pairs for p in clause_passages(clause, info))
    text = sum(len(clause.text) for clause, _ in pairs)
    assert embedded < 1.4 * text  # contexts and headings only; before it was 2.2×


def test_a_long_preamble_keeps_its_metadata_line_on_the_first_group():
    for clause, info in _pairs():
        if clause.path == [PREAMBLE_LABEL] and len(sentence_groups(clause.text)) > 1:
            first, *rest = clause_passages(clause, info)
            assert first.startswith("文件信息：") and not any("文件信息：" in p for p in rest)
            return
    for clause, info in _pairs():  # no long preamble in the corpus: the short form holds it
        if clause.path == [PREAMBLE_LABEL]:
            assert clause_passages(clause, info)[0].startswith("文件信息：")
            return

"""The chat page's HTML: badges, highlighting, abstention text, markers → anchors, clause tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.models import (
    Answer,
    AnswerSentence,
    Citation,
    Clause,
    DocStatus,
    Document,
    DocumentInfo,
    ScoredClause,
)
from assistant.ui import render

CORPUS = Path(__file__).resolve().parents[1] / "index" / "corpus"
CLAUSE_TEXT = ("（一）大力推广三明医改经验。因地制宜借鉴推广三明医改经验。"
               "在自贡市、宜宾市开展“三医”联动和系统集成改革试点，力争取得突破。"
               "（省卫生健康委按职责分工负责）")
SUPPORT = "在自贡市、宜宾市开展“三医”联动和系统集成改革试点，力争取得突破。"


def citation(marker: int = 1, status: DocStatus | None = DocStatus.REPEALED, **extra) -> Citation:
    fields = {
        "marker": marker,
        "clause_id": f"c{marker}",
        "doc_id": "d0",
        "number": "川办函〔2021〕56号",
        "title": "关于推进医药卫生体制改革2021年重点工作的通知",
        "status": status,
        "path": ["一、", "（一）"],
        "label": "一、（一）",
        "text": CLAUSE_TEXT,
        "rendered": "〔川办函〔2021〕56号 一、（一）〕",
    }
    return Citation(**{**fields, **extra})


def answered(**extra) -> Answer:
    text = f"{SUPPORT}[1]"
    fields = {
        "question": "四川省在哪些城市开展“三医”联动和系统集成改革试点？",
        "answer": text,
        "abstained": False,
        "citations": [citation()],
        "backend": "extractive",
        "sentences": [AnswerSentence(text=text, markers=[1])],
        "warnings": ["川办函〔2021〕56号 已失效，仅供参考。"],
        "timings_ms": {"total": 1234.0},
    }
    return Answer(**{**fields, **extra})


def scored(number: str | None, label: str, text: str) -> ScoredClause:
    clause = Clause(clause_id=f"x{label}", doc_id="d9", path=[label], text=text, start=0,
                    end=len(text))
    doc = DocumentInfo(doc_id="d9", number=number, title="某市医保文件", status=None)
    return ScoredClause(clause=clause, doc=doc, score=0.1)


@pytest.mark.parametrize("status, css, word", [
    (DocStatus.REPEALED, "pa-badge-warn", "失效"),
    (DocStatus.DRAFT, "pa-badge-warn", "征求意见稿"),
    (DocStatus.IN_FORCE, "pa-badge-ok", "有效"),
    (None, "pa-badge-none", "未标注状态"),
])
def test_status_badge_uses_warning_colour_for_repealed_and_draft(status, css, word):
    badge = render.status_badge(status)
    assert css in badge and word in badge


def test_markers_become_links_to_sources_of_the_same_turn():
    html = render.link_markers("甲[1]。乙[2][9]。", turn=3, known=[1, 2])
    assert 'href="#pa-src-3-1"' in html and 'href="#pa-src-3-2"' in html
    assert "[9]" in html and "pa-src-3-9" not in html  # a marker we never handed out is not linked


def test_marker_link_targets_exist_in_the_rendered_answer():
    html = render.answer_html(answered(), turn=2)
    targets = re.findall(r'href="#([^"]+)"', html)
    assert targets == ["pa-src-2-1"]
    assert f'id="{targets[0]}"' in html
    assert re.search(r'<details class="pa-source" id="pa-src-2-1" open>', html)


def test_source_shows_number_title_label_and_badge():
    html = render.answer_html(answered(), turn=0)
    sources = html[html.index("pa-sources"):]
    for part in ("川办函〔2021〕56号", "一、（一）", "关于推进医药卫生体制改革2021年重点工作的通知",
                 "pa-badge-warn", "失效"):
        assert part in sources
    assert "已失效，仅供参考" in html


def test_supporting_sentence_is_highlighted_and_others_are_not():
    html = render.highlight(CLAUSE_TEXT, [SUPPORT + "[1]"])
    marked = re.findall(r'<mark class="pa-support">(.*?)</mark>', html)
    assert len(marked) == 1 and "自贡市、宜宾市" in marked[0]
    assert "大力推广三明医改经验" not in marked[0]


def test_unrelated_evidence_highlights_nothing():
    assert "<mark" not in render.highlight(CLAUSE_TEXT, ["杭州市医保报销比例为百分之七十。"])


def test_paraphrased_support_still_finds_its_sentence():
    sentences = render.split_sentences(CLAUSE_TEXT)
    chosen = render.supporting_indices(sentences, ["自贡市、宜宾市开展三医联动和系统集成改革试点"])
    assert [sentences[i] for i in chosen] == [SUPPORT]


def test_split_sentences_keeps_all_text():
    text = "第一句。第二句；\n第三句"
    assert "".join(render.split_sentences(text)) == text


def test_text_from_documents_and_users_is_escaped():
    evil = citation(text="<script>alert(1)</script>。", title="<b>x</b>")
    html = render.answer_html(answered(answer="<img src=x onerror=alert(1)>[1]", citations=[evil],
                                       sentences=[]), turn=0)
    assert "<script>" not in html and "<img" not in html and "<b>x" not in html
    assert "&lt;script&gt;" in html


def test_abstention_says_so_plainly_and_offers_related_clauses_apart():
    answer = Answer(
        question="杭州市2023年医保报销比例是多少？",
        answer="根据现有文件无法回答该问题。",
        abstained=True,
        backend="extractive",
        retrieved=[
            scored("开州府办发〔2020〕109号", "附件四、", "提高城乡居民医保财政补助标准。"),
            scored(None, "二、", "完善医保支付。"),
        ],
    )
    html = render.answer_html(answer, turn=1)
    assert render.ABSTAIN_MESSAGE == "现有文件中没有找到能回答该问题的内容。"
    assert render.ABSTAIN_MESSAGE in html
    related = html[html.index("pa-related"):]
    assert "可能相关" in related and "并非答案" in related
    assert "开州府办发〔2020〕109号" in related and "提高城乡居民医保财政补助标准" in related
    assert "pa-cite" not in html and "pa-sources" not in html  # nothing is presented as the answer


def test_abstention_without_candidates_has_no_related_block():
    answer = Answer(question="q", answer="", abstained=True, backend="extractive")
    html = render.answer_html(answer, turn=0)
    assert render.ABSTAIN_MESSAGE in html and "可能相关" not in html


def test_unsupported_citation_is_flagged():
    html = render.answer_html(answered(citations=[citation(supported=False)]), turn=0)
    assert "未能核实" in html


def test_processing_notes_are_collapsed_and_status_warnings_are_not():
    note = "上下文预算不足，未纳入条款 X。"
    html = render.warnings_block(answered(warnings=["川办函〔2021〕56号 已失效，仅供参考。", note]))
    loud, quiet = html.split("<details", 1)
    assert "已失效" in loud and note in quiet


def test_notes_with_developer_detail_are_said_plainly_to_staff():
    fallback = "openai 后端出错（ReadTimeout: timed out after 30 s），已改用抽取式回答。"
    budget = "上下文预算 3000 tokens 不足，2 个检索到的条款未整条纳入（不截断条款）：X。"
    html = render.warnings_block(answered(warnings=[fallback, budget]))
    loud, quiet = html.split("<details", 1)
    assert "大模型回答出错，已改用抽取式回答。" in loud and "条款较长" in quiet
    assert not re.search(r"[A-Za-z]{2,}", re.sub(r"<[^>]*>", "", html))


def test_streaming_html_escapes_partial_text():
    html = render.streaming_html("部分<回答>[1]")
    assert "&lt;回答&gt;" in html and "pa-cite" not in html


def test_footer_names_backend_and_time():
    assert "抽取式 · 用时 1.2 秒" in render.footer(answered())
    assert "用时 35 毫秒" in render.footer(answered(timings_ms={"total": 35.2}))


def test_rewritten_follow_up_is_shown_as_how_it_was_understood():
    note = "追问已改写为完整问题用于检索：汉中市DRG付费改革在哪些医院试点？"
    html = render.warnings_block(answered(warnings=[note]))
    assert "按上下文理解为：汉中市DRG付费改革在哪些医院试点？" in html
    assert "pa-notes" not in html and "⚠" not in html


def test_clause_tree_nests_children_under_parents():
    parent = Clause(
        clause_id="p",
        doc_id="d",
        path=["一、"],
        heading="总体要求",
        text="一、总体要求",
        start=0,
        end=6,
    )
    child = Clause(clause_id="c", doc_id="d", path=["一、", "（一）"], text="（一）具体<内容>。",
                   start=6, end=16, parent_id="p")
    doc = Document(doc_id="d", title="t", clauses=[parent, child])
    html = render.clause_tree(doc)
    outer = html.index('data-clause="p"')
    inner = html.index('data-clause="c"')
    assert outer < inner < html.rindex("</details>")
    assert html.count("<details") == 2 and "具体&lt;内容&gt;" in html
    # the child's <details> opens before its parent's closes
    assert html.index("</details>", inner) < html.rindex("</details>")


def test_clause_tree_of_a_parsed_sample_document():
    from assistant.ingest.document import build_document

    path = next(CORPUS.glob("000_*.txt"))
    doc = build_document(path.read_text(encoding="utf-8"), path.name)
    html = render.clause_tree(doc)
    assert html.count("<details") == len(doc.clauses)
    assert "大力推广三明医改经验" in html


def test_document_meta_lists_fields_and_badge():
    info = DocumentInfo(
        doc_id="d",
        number="川办函〔2021〕56号",
        title="标题",
        issuer="四川省人民政府办公厅",
        status=DocStatus.REPEALED,
    )
    html = render.document_meta(info, 24)
    for part in ("川办函〔2021〕56号", "四川省人民政府办公厅", "24", "pa-badge-warn"):
        assert part in html
    assert "成文日期" not in html  # unknown fields are left out, never guessed


def test_document_choice_prefers_number():
    assert render.document_choice(DocumentInfo(doc_id="a", number="N号", title="T")) == (
        "N号 T",
        "a",
    )
    assert render.document_choice(DocumentInfo(doc_id="b", title="T")) == ("T", "b")

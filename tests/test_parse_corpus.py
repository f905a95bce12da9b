"""The five shipped sample documents parse into the expected metadata and clause trees."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.ingest.document import build_document
from assistant.lexicon import int_to_cn
from assistant.models import DocStatus

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


def load(prefix: str):
    path = next(CORPUS.glob(f"{prefix}_*.txt"))
    return build_document(path.read_text(encoding="utf-8"), path.name)


def labels(doc) -> list[str]:
    return [c.label for c in doc.clauses]


def numbered(prefix: str, ranks: range, parent_of) -> list[str]:
    return [f"{parent_of(n)}（{int_to_cn(n)}）" for n in ranks]


EXPECTED_META = {
    "000": (
        "川办函〔2021〕56号",
        "关于推进医药卫生体制改革2021年重点工作的通知",
        DocStatus.REPEALED,
        "四川省人民政府办公厅",
        date(2021, 8, 11),
        date(2021, 8, 12),
        "四川省",
    ),
    "001": (
        "开州府办发〔2020〕109号",
        "关于印发贯彻落实重庆市人民政府办公厅深化医药卫生体制改革2020年下半年重点工作任务分工的通知",
        None,
        "重庆市开州区人民政府办公室",
        date(2020, 10, 27),
        None,
        "重庆市开州区",
    ),
    "002": (
        "川卫发〔2017〕65号",
        "关于印发2017年全省卫生计生工作要点的通知",
        None,
        "四川省卫生和计划生育委员会",
        date(2017, 4, 13),
        date(2017, 10, 12),
        "四川省",
    ),
    "003": (
        None,
        "汉中市人民政府办公室关于加快推进深化医药卫生体制改革重点工作任务的通知",
        None,
        "汉中市人民政府办公室",
        None,
        None,
        "汉中市",
    ),
    "004": (
        None,
        "关于进一步改革完善医疗卫生服务体系的实施方案",
        DocStatus.DRAFT,
        "海南州人民政府办公室",
        None,
        date(2025, 3, 14),
        "海南州",
    ),
}


@pytest.mark.parametrize("prefix", sorted(EXPECTED_META))
def test_metadata(prefix):
    number, title, status, issuer, signed, published, region = EXPECTED_META[prefix]
    doc = load(prefix)
    assert (doc.number, doc.title, doc.status) == (number, title, status)
    assert (doc.issuer, doc.signed, doc.published, doc.region) == (
        issuer,
        signed,
        published,
        region,
    )


def _sections_000(n: int) -> str:
    return "一、" if n <= 6 else "二、" if n <= 10 else "三、" if n <= 14 else "四、"


def test_000_clause_sequence_once():
    doc = load("000")
    expected = ["前言"]
    for n in range(1, 20):
        head = _sections_000(n)
        if head not in expected:
            expected.append(head)
        expected.append(f"{head}（{int_to_cn(n)}）")
    assert labels(doc) == expected + ["结尾"]
    assert len(set(labels(doc))) == len(labels(doc)), "the doubled body must be kept once"
    assert doc.text.count("大力推广三明医改经验") == 1


def _sections_001(n: int) -> str:
    bounds = [(5, "一、"), (9, "二、"), (13, "三、"), (17, "四、"), (21, "五、"), (26, "六、")]
    return next(label for last, label in bounds if n <= last)


def test_001_notice_and_attachment_numbering_kept_apart():
    doc = load("001")
    expected = ["前言", "一、", "二、", "三、"]
    for n in range(1, 27):
        head = "附件" + _sections_001(n)
        if head not in expected:
            expected.append(head)
        expected.append(f"{head}（{int_to_cn(n)}）")
    assert labels(doc) == expected
    attachment = doc.clauses[4]
    assert attachment.path == ["附件", "一、"] and attachment.heading == "加强公共卫生体系建设"


def test_002_thirty_two_items_under_seven_sections_and_continuation():
    doc = load("002")
    items = [c for c in doc.clauses if len(c.path) == 3]
    assert [c.path[-1] for c in items] == [f"（{int_to_cn(n)}）" for n in range(1, 33)]
    assert [c.path[1] for c in doc.clauses if len(c.path) == 2 and c.path[1] != "前言"] == [
        f"{int_to_cn(n)}、" for n in range(1, 8)]
    eighth = next(c for c in doc.clauses if c.path[-1] == "（八）")
    assert eighth.path == ["附件", "二、", "（八）"]
    assert "全面落实艾滋病防控措施" in eighth.text, "the unnumbered paragraph continues （八）"


def test_003_twenty_numbered_items_with_preamble_and_closing():
    doc = load("003")
    assert labels(doc) == ["前言"] + [f"{int_to_cn(n)}、" for n in range(1, 21)] + ["结尾"]
    assert "陕政办函〔2021〕99号" in doc.clauses[0].text  # cited, not its own number
    assert doc.clauses[-1].text.startswith("各县区、各有关部门")


def test_004_three_levels_and_broken_markers():
    doc = load("004")
    got = labels(doc)
    groups = {1: (1, 2), 2: (3, 9), 3: (10, 13), 4: (14, 18), 5: (19, 21), 6: (22, 24), 7: (25, 27)}
    expected = ["前言", "一、", "二、"]
    for group, (first, last) in groups.items():
        expected.append(f"二、（{int_to_cn(group)}）")
        expected += [f"二、（{int_to_cn(group)}）{n}." for n in range(first, last + 1)]
    expected += ["三、", "三、（一）", "三、（二）", "三、（三）"]
    assert got == expected
    inferred = doc.clauses[got.index("三、（一）")]
    assert inferred.heading == "强化组织领导"
    assert doc.clauses[got.index("三、（二）")].heading == "强化宣传引导"
    assert any("inferred" in w for w in doc.warnings)


def test_clause_fields_and_offsets():
    doc = load("000")
    clause = next(c for c in doc.clauses if c.label == "一、（一）")
    assert clause.heading == "大力推广三明医改经验"
    assert clause.units[:2] == ["省卫生健康委", "自贡市"]
    assert doc.text[clause.start : clause.end] == clause.text
    assert clause.context == [
        "关于推进医药卫生体制改革2021年重点工作的通知",
        "一、强化医疗、医保、医药联动改革",
    ]
    assert clause.embed_text().startswith("关于推进医药卫生体制改革2021年重点工作的通知 › 一、强化")
    parent = next(c for c in doc.clauses if c.label == "一、")
    assert clause.parent_id == parent.clause_id


@pytest.mark.parametrize("prefix", sorted(EXPECTED_META))
def test_every_offset_points_at_its_text(prefix):
    doc = load(prefix)
    for clause in doc.clauses:
        assert doc.text[clause.start : clause.end] == clause.text


def test_units_lead_first_from_both_note_styles():
    doc001 = load("001")
    first = next(c for c in doc001.clauses if c.label == "附件一、（一）")
    assert first.units[0] == "区卫生健康委"
    doc004 = load("004")
    item = next(c for c in doc004.clauses if c.label == "二、（二）3.")
    assert item.units == ["卫健委", "发改委", "财政局", "人社局", "医保局"]


@pytest.mark.parametrize("prefix", sorted(EXPECTED_META))
def test_ids_are_stable_across_reingest(prefix):
    first, second = load(prefix), load(prefix)
    assert first.doc_id == second.doc_id
    assert [c.clause_id for c in first.clauses] == [c.clause_id for c in second.clauses]
    assert len({c.clause_id for c in first.clauses}) == len(first.clauses)


def test_no_boilerplate_in_clauses():
    for prefix in EXPECTED_META:
        doc = load(prefix)
        for noise in (
            "ICP",
            "扫一扫",
            "当前位置",
            "技术支持：",
            "用户登录",
            "分享到",
            "索引号",
            "官方微信",
            "回到顶部",
            "字号",
        ):
            assert noise not in doc.text, (prefix, noise)

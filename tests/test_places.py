"""Places below the one asked (issue 26): a question about a city is answered by the city's
notice, not by its district's or a town's notice that repeats the city's name; a question
naming two places asks about each. Unit tests on the Query, and end to end over three
notices written here (a city, one of its districts, a town of that district; hashing
embedder, real index)."""

from __future__ import annotations

import pytest
from answer_fixtures import build_store, make_doc, scored

from assistant.query import analyse, narrower_place, places
from assistant.retrieval.pipeline import asked_place_first
from assistant.service import analyse_question, answer_question

CITY = """成都市人民政府办公厅关于成立成都市防汛抗旱指挥部的通知

各区（市）县人民政府，市级各部门：
为做好防汛抗旱工作，经市政府同意，成立成都市防汛抗旱指挥部。现将有关事项通知如下：
一、指挥部组成
总指挥：王明 市长
副总指挥：陈立 副市长
二、指挥部办公室
指挥部办公室设在市水务局，负责指挥部日常工作。

成都市人民政府办公厅
2025年5月6日
"""

DISTRICT = """成都市温江区人民政府办公室关于成立温江区防汛抗旱指挥部的通知

各镇（街道），区级各部门：
为做好防汛抗旱工作，经区政府同意，成立温江区防汛抗旱指挥部。现将有关事项通知如下：
一、指挥部组成
总指挥：李强 区长
副总指挥：周红 副区长
成员：钱明 万春镇镇长
二、指挥部办公室
指挥部办公室设在区水务局，负责指挥部日常工作。

成都市温江区人民政府办公室
2025年5月12日
"""

TOWN = """成都市温江区防汛抗旱指挥部关于成立金花镇防汛抗旱指挥部的通知

金花镇人民政府，区级各有关部门：
为做好金花镇防汛抗旱工作，经区防汛抗旱指挥部同意，成立金花镇防汛抗旱指挥部。现将有关事项通知如下：
一、指挥部组成
总指挥：赵刚 镇长
副总指挥：孙平 副镇长
二、指挥部办公室
指挥部办公室设在镇农业服务中心，负责指挥部日常工作。

成都市温江区防汛抗旱指挥部
2025年5月20日
"""

# A district the tokenizer's dictionary lacks as a place: known once its notice is indexed.
WUHOU = DISTRICT.replace("温江区", "武侯区").replace("李强", "刘洋").replace("周红", "吴敏")


@pytest.mark.parametrize("text, found", [
    ("温江区和金花镇的防汛抗旱指挥部", ("温江区", "金花镇")),
    ("北滘镇、陈村镇和均安镇", ("北滘镇", "陈村镇", "均安镇")),  # towns jieba does not know
    ("哪些街镇算一类地区", ()),  # kinds of place are no place
    ("每个镇街抽几个村居", ()),
    ("推进新型城镇化和特色小镇建设", ()),
    ("在乡镇卫生院工作满五年", ()),
])
def test_towns_are_places_and_kinds_of_place_are_not(text, found):
    assert sorted(places(text)) == sorted(found)


def test_a_document_is_narrower_when_it_is_about_a_place_below_the_one_asked():
    city = analyse("成都市防汛抗旱指挥部的总指挥是谁？")
    district = analyse("温江区防汛抗旱指挥部的总指挥是谁？")
    district_title, district_region = "成都市温江区人民政府办公室关于成立…的通知", "成都市温江区"
    town_title = "成都市温江区防汛抗旱指挥部关于成立金花镇防汛抗旱指挥部的通知"
    assert narrower_place(city, district_title, district_region) == "温江区"
    assert narrower_place(city, town_title, "成都市温江区") == "温江区"
    assert narrower_place(district, town_title, "成都市温江区") == "金花镇"
    assert narrower_place(district, district_title, district_region) is None  # its own level
    # A broader text (the city's, a province's, a national law) still answers locally.
    assert narrower_place(district, "成都市人民政府办公厅关于…的通知", "成都市") is None
    assert narrower_place(district, "中华人民共和国防洪法", None) is None
    # A measure run in a lower place is still the issuer's text; a body of it is not.
    pilot = "成都市人民政府办公厅关于在温江区开展防汛演练试点的通知"
    assert narrower_place(city, pilot, "成都市") is None
    # The question names the lower place too, or names none, or asks which places.
    assert narrower_place(analyse("温江区和金花镇的指挥部"), town_title, "成都市温江区") is None
    assert narrower_place(analyse("防汛抗旱指挥部的总指挥是谁？"), town_title, None) is None
    assert narrower_place(analyse("成都市在哪些区县开展试点？"), district_title,
                          district_region) is None


def test_two_places_are_asked_about_one_by_one_unless_they_act_together():
    parts = [p.text for p in analyse("温江区和金花镇的防汛抗旱指挥部，总指挥是谁？").parts]
    assert parts == ["温江区的防汛抗旱指挥部，总指挥是谁？", "金花镇的防汛抗旱指挥部，总指挥是谁？"]
    assert analyse("四川省和重庆市联合印发的文件有哪些？").parts == ()


@pytest.fixture(scope="module")
def flood(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("index"), "hashing",
                       {"city.md": CITY, "district.md": DISTRICT, "town.md": TOWN,
                        "wuhou.md": WUHOU})


def cited(flood, question):
    store, settings = flood
    answer = answer_question(question, store, settings)
    return answer, [(c.title[:8], c.label) for c in answer.citations]


@pytest.mark.parametrize("question, titles, fact", [
    ("成都市防汛抗旱指挥部的总指挥是谁？", ["成都市人民政府办"], "王明"),
    ("成都市防汛抗旱指挥部办公室设在哪里？", ["成都市人民政府办"], "市水务局"),
    ("温江区防汛抗旱指挥部的总指挥是谁？", ["成都市温江区人民"], "李强"),
    ("武侯区防汛抗旱指挥部的总指挥是谁？", ["成都市武侯区人民"], "刘洋"),
    ("金花镇防汛抗旱指挥部办公室设在哪里？", ["成都市温江区防汛"], "镇农业服务中心"),
])
def test_each_place_is_answered_from_its_own_notice(flood, question, titles, fact):
    answer, found = cited(flood, question)
    assert [title for title, _ in found] == titles, found
    assert fact in answer.answer


def test_a_question_about_two_places_cites_each_places_notice(flood):
    answer, found = cited(flood, "温江区和金花镇的防汛抗旱指挥部，总指挥是谁？")
    assert sorted(title for title, _ in found) == ["成都市温江区人民", "成都市温江区防汛"]
    assert "李强" in answer.answer and "赵刚" in answer.answer


def test_a_place_the_corpus_names_is_a_place_even_unknown_to_the_tokenizer(flood):
    store, settings = flood
    question = "武侯区防汛抗旱指挥部办公室设在哪里？"
    assert places(question) == ()  # jieba's dictionary lacks 武侯区
    assert {"成都市", "温江区", "武侯区"} <= store.places  # the issuers' regions
    assert analyse_question(question, settings, store=store).places == ("武侯区",)
    # …so the city's and 温江区's notices, which never name it, are not evidence.
    answer, found = cited(flood, question)
    assert [title for title, _ in found] == ["成都市武侯区人民"] and "区水务局" in answer.answer


def test_a_body_of_a_place_is_answered_by_that_body_s_own_text_not_a_mention(flood):
    assert analyse("万春镇防汛抗旱指挥部的总指挥是谁？").body_places == ("万春镇",)
    assert analyse("万春镇有多少人口？").body_places == ()  # no body named
    # 温江区's roster names a 万春镇 official; no text of 万春镇's own command is indexed.
    answer, found = cited(flood, "万春镇防汛抗旱指挥部的总指挥是谁？")
    assert answer.abstained and found == [], answer.answer
    assert any("万春镇的机构" in w for w in answer.warnings), answer.warnings


def test_retrieval_puts_the_asked_place_s_own_text_before_its_districts_copies():
    district = make_doc("d", [(["一、"], "总指挥：李强 区长")],
                        title="成都市温江区人民政府办公室关于成立温江区防汛抗旱指挥部的通知")
    city = make_doc("c", [(["一、"], "总指挥：王明 市长")],
                    title="成都市人民政府办公厅关于成立成都市防汛抗旱指挥部的通知")
    law = make_doc("l", [(["第一条"], "为了防治洪水，制定本法。")], title="中华人民共和国防洪法")
    found = [scored(district, 0), scored(law, 0), scored(city, 0)]
    order = [s.doc.doc_id for s in asked_place_first(analyse("成都市防汛抗旱指挥部总指挥是谁？"),
                                                     found)]
    assert order == ["l", "c", "d"]  # the district's copy last; the rest keep their order
    # No text of the asked place itself: nothing moves (the district's may be all there is).
    assert asked_place_first(analyse("成都市防汛抗旱指挥部总指挥是谁？"), found[:2]) == found[:2]
    # A question about the district keeps it first.
    assert asked_place_first(analyse("温江区防汛抗旱指挥部总指挥是谁？"), found) == found

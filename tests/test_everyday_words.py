"""Questions asked in everyday words (掏钱, 社保, 医联体), what the question word asks about,
and when a document takes effect: on the lexicon's synonym table, the Query, and end to end
over a small law and notice written here (hashing embedder, real index)."""

from __future__ import annotations

import pytest
from answer_fixtures import build_store

from assistant.lexicon import SYNONYMS_FILE, load_synonyms, read_synonyms
from assistant.query import analyse, focus_terms
from assistant.service import answer_question
from assistant.settings import Settings

BLOOD_LAW = """某某省献血条例

第一条 为了保证临床用血需要和安全，制定本条例。

第二条 本省实行无偿献血制度。

第三条 县级以上人民政府卫生行政部门监督管理本行政区域的献血工作。

第四条 公民临床用血时只交付用于血液的采集、储存、分离、检验等费用。
无偿献血者临床需要用血时，免交前款规定的费用。

第五条 血站对献血者每次采集血液量一般为二百毫升，两次采集间隔期不少于六个月。

第六条 有下列行为之一的，由卫生行政部门予以取缔，可以并处五万元以下的罚款：
（一）非法采集血液的；
（二）非法组织他人出卖血液的。

第七条 本条例所称无偿献血，是指公民向血站自愿、无报酬地提供自身血液的行为。

第八条 本条例自2024年3月1日起施行。
"""


INSURANCE_RULES = """某某市职工参保经办规定

第一条 为了规范经办服务，制定本规定。

第二条 职工应当参加社会保险，社会保险费由用人单位和职工共同缴纳。

第三条 经办机构应当公开办事指南。
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("index"), "hashing",
                       {"xianxue.md": BLOOD_LAW, "canbao.md": INSURANCE_RULES})


def ask(corpus, question):
    store, settings = corpus
    return answer_question(question, store, settings)


def labels(answer) -> list[str]:
    return [c.label for c in answer.citations]


def test_the_shipped_table_reads_and_a_site_file_extends_it(tmp_path):
    shipped = dict(load_synonyms())
    assert "社会保险" in shipped["社保"] and "费用" in shipped["掏钱"]
    site = tmp_path / "site.txt"
    site.write_text("# 本单位用语\n社保 社保待遇\n两险 养老保险 医疗保险\n", encoding="utf-8")
    merged = dict(load_synonyms(site))
    assert merged["社保"] == ("社会保险", "社保待遇")  # extended, not replaced
    assert merged["两险"] == ("养老保险", "医疗保险")
    assert Settings(synonyms=site).fingerprint() != Settings().fingerprint()


def test_a_bad_entry_is_named_with_its_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("社保 社会保险\n掏钱\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.txt:2: '掏钱' has no formal word"):
        read_synonyms(bad)
    assert read_synonyms(SYNONYMS_FILE)  # the shipped file is well formed
    # The setting is checked at start-up, with the same message.
    with pytest.raises(ValueError, match=r"bad.txt:2: '掏钱' has no formal word"):
        Settings(synonyms=bad)
    with pytest.raises(ValueError, match="no such file"):
        Settings(synonyms=tmp_path / "missing.txt")


def test_the_query_carries_formal_words_for_everyday_ones():
    query = analyse("献过血的人自己以后住院要用血，还要掏钱吗？")
    assert query.covers("掏钱", "只交付用于血液的采集、储存等费用")
    assert not query.covers("住院", "只交付用于血液的采集、储存等费用")
    assert "费用" in query.expansion.split()
    # Longest first: 医保费 wins over 医保 inside it.
    fee = dict(analyse("职工要交的医保费由谁缴？").alternatives)
    assert fee["医保"] == ("医疗保险费",)
    assert analyse("川办函〔2021〕56号讲了什么？").expansion == ""
    # A question with no table, as a site might configure it, has no alternatives.
    assert analyse("还要掏钱吗？", synonyms=()).alternatives == ()


@pytest.mark.parametrize("question, focus", [
    ("医务人员的夜班补贴标准是多少？", ("夜班", "补贴", "标准")),
    ("长期护理保险的试点城市有哪些？", ("保险", "试点", "城市")),
    ("献血一次最多能抽多少毫升？", ("献血", "一次", "最多", "最多能", "毫升")),
    ("请介绍一下医改。", ()),
])
def test_focus_is_what_the_question_word_asks_about(question, focus):
    assert focus_terms(question) == focus


def test_everyday_questions_find_the_formal_clause(corpus):
    # 社保 occurs in no document: only its formal word 社会保险 finds 第二条.
    answer = ask(corpus, "某某市的社保谁来交？")
    assert not answer.abstained and labels(answer) == ["第二条"]
    answer = ask(corpus, "非法采血会被罚多少钱？")
    # A 项 is read with its article's lead-in, which states the fine.
    assert not answer.abstained and labels(answer)[0].startswith("第六条")


@pytest.mark.parametrize("question", ["某某省献血条例是从哪天开始实行的？",
                                      "某某省献血条例什么时候生效？"])
def test_when_a_document_takes_effect_is_answered_from_the_clause_saying_so(corpus, question):
    answer = ask(corpus, question)
    assert labels(answer) == ["第八条"]
    assert "本条例自2024年3月1日起施行" in answer.answer


# A law as the NPC publishes it: adoption line and table of contents before 第一章, so the
# parser makes a preamble, which names no date; a question naming the law routes it too.
SMOKING_LAW = """某某市控烟条例

（2019年3月1日某某市人民代表大会常务委员会通过　2024年5月10日修订）

目　　录
第一章　总　　则
第二章　禁烟场所
第三章　附　　则

第一章　总　　则

第一条　为了减少烟草烟雾危害，保障公众健康，制定本条例。

第二章　禁烟场所

第二条　室内公共场所、室内工作场所和公共交通工具内禁止吸烟。

第三章　附　　则

第三条　本条例自2024年7月1日起施行。《某某市公共场所控制吸烟规定》同时废止。
"""


@pytest.fixture(scope="module")
def law_with_contents(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("law"), "hashing", {"kongyan.md": SMOKING_LAW})


@pytest.mark.parametrize("question", [
    "修订后的某某市控烟条例从哪天起施行？",
    "某某市控烟条例从哪天开始施行，以前的规定还有效吗？",
])
def test_a_law_naming_its_effective_date_is_quoted_not_its_table_of_contents(
        law_with_contents, question):
    answer = ask(law_with_contents, question)
    assert [c.label for c in answer.citations] == ["第三条"]
    # First what was asked first: the date, then whether the old text holds.
    assert "本条例自2024年7月1日起施行" in answer.sentences[0].text, answer.answer
    assert "未标注施行日期" not in answer.answer
    # What it repealed says whether the old text still holds; quoted with its marker.
    assert "《某某市公共场所控制吸烟规定》同时废止[1]" in answer.answer
    assert all(s.supported for s in answer.sentences)


def test_when_a_measure_starts_is_not_a_question_about_the_document():
    assert "effective" not in analyse("DRG付费什么时候开始实施？").meta
    assert "effective" in analyse("献血条例什么时候开始施行？").meta
    assert analyse("献血条例正式施行了吗？").meta == ("status",)
    # A second question after a comma does not hide the first.
    assert "effective" in analyse("道路运输条例从哪天开始施行，以前的条例还有效吗？").meta


def test_an_amount_question_is_not_answered_from_a_clause_without_one(corpus):
    answer = ask(corpus, "某某省献血条例规定献血者每年能领多少补贴？")
    assert answer.abstained or all(c.label != "第二条" for c in answer.citations)


@pytest.mark.parametrize("question, term", [
    ("某某省献血条例说的无偿献血是什么意思？", "无偿献血"),
    ("什么是无偿献血？", "无偿献血"),
    ("开州区任务分工中“分别负责”是什么意思？", "分别负责"),
    ("小时工资怎么算？", None),
])
def test_definition_questions(question, term):
    assert analyse(question).defined == term


def test_a_definition_is_answered_from_the_article_defining_the_term(corpus):
    # 第二条 says 无偿献血 too, and first; the article that defines it answers.
    answer = ask(corpus, "某某省献血条例说的无偿献血是什么意思？")
    assert labels(answer) == ["第七条"] and "无报酬" in answer.answer


def test_the_cli_names_a_bad_setting_instead_of_a_traceback(monkeypatch, tmp_path, capsys):
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_RETRIEVAL__SYNONYMS", str(tmp_path / "missing.txt"))
    assert main(["docs"]) == 2
    assert ("error: setting retrieval.synonyms: Value error, ASSISTANT_RETRIEVAL__SYNONYMS: "
            "no such file") in capsys.readouterr().err


CLINIC_RULES = """某某市诊所管理办法

第一条 为了加强诊所管理，制定本办法。

第二条 诊所的《诊所执业许可证》每年校验1次。

第三条 诊所歇业，必须向原登记机关办理注销登记。

第四条 出卖、转让、出借《诊所执业许可证》的，没收非法所得，并可以处以5000元以下的罚款。

第五条 诊所必须按照核准登记的诊疗科目开展诊疗活动。
"""


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("clinic"), "hashing",
                       {"zhensuo.md": CLINIC_RULES})


@pytest.mark.parametrize("question, article", [
    # 牌照, 年审, 关门: the rules say 执业许可证, 校验, 歇业 (none of the question's own words).
    ("诊所把牌照借给别人用会被怎么罚？", "第四条"),
    ("诊所的证多久要年审一次？", "第二条"),
    ("诊所关门不干了要办什么手续？", "第三条"),
])
def test_licence_questions_in_everyday_words_find_the_article(clinic, question, article):
    store, settings = clinic
    answer = answer_question(question, store, settings)
    assert not answer.abstained and labels(answer)[0] == article

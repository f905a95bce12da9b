"""The one analysis of a question (assistant.query): fields, kinds, follow-up rewrites."""

import pytest

from assistant.query import (
    Query,
    analyse,
    as_query,
    content_terms,
    names_kind,
    names_who,
    question_parts,
    rewrite_followup,
)


def test_analysis_fields():
    q = analyse("川办函〔2021〕56号中，四川省2021年城乡居民医保人均财政补助标准增加多少元？")
    assert q.doc_numbers == ("川办函〔2021〕56号",) and q.places == ("四川省",)
    assert q.years == ("2021",) and q.units == ("元",) and q.kind == "fact"
    assert "补助" in q.terms and "多少" not in q.terms and not q.rewritten
    # Things counted by their classifier: 几辆 is met by 2-3辆, not by 车辆 alone.
    assert analyse("流调分中心要配几辆公务车？").units == ("辆",)
    assert analyse("每个科室要配几台电脑？").units == ("台",)


@pytest.mark.parametrize("question, kind", [
    ("川办函〔2021〕56号是否有效？", "document"),
    ("哪些文件提到了家庭医生签约服务？", "spanning"),
    ("药品集中带量采购由哪个部门牵头？", "responsibility"),
    ("县域医疗卫生次中心按照什么标准规划布局？", "fact"),
])
def test_kinds(question, kind):
    assert analyse(question).kind == kind


def test_as_query_keeps_a_query_and_analyses_a_string():
    q = analyse("那开州区呢？", [{"role": "user", "content": "四川省在哪些城市开展试点？"}])
    assert as_query(q) is q and isinstance(as_query("试点城市"), Query)
    assert q.asked == "那开州区呢？" and q.rewritten and "开州区" in q.places


SICHUAN = "四川省在哪些城市开展“三医”联动和系统集成改革试点？"
SUBSIDY = "四川省2021年城乡居民医保人均财政补助标准增加多少元？"
ONLINE = "二级以上医疗机构要提供哪些线上服务？"

# (previous user question, follow-up, words the rewrite must contain, words it must not)
FOLLOWUPS = [
    (SICHUAN, "那开州区呢？", ["开州区", "三医", "试点"], ["开州区在哪些城市", "四川省"]),
    (SICHUAN, "那汉中市呢", ["汉中市", "试点"], ["在哪些城市", "四川省"]),
    (SICHUAN, "那重庆市呢？", ["重庆市", "试点"], ["四川省"]),
    (SUBSIDY, "那2022年呢？", ["2022年", "补助标准", "四川省"], ["2021"]),
    (SUBSIDY, "那汉中市呢？", ["汉中市2021年", "补助标准"], ["四川省"]),
    ("2021年重点工作有哪些？", "那2020年呢", ["2020年重点工作"], ["2021"]),
    ("县域医疗卫生次中心按照什么标准规划布局？", "那2022年呢？", ["2022年", "次中心"], []),
    (ONLINE, "那基层医疗机构呢？", ["基层医疗机构", "线上服务"], []),
    (ONLINE, "还有家庭医生签约", ["家庭医生签约", "线上服务"], []),
]


@pytest.mark.parametrize("previous, followup, present, absent", FOLLOWUPS)
def test_followup_rewrites_make_sense(previous, followup, present, absent):
    history = [{"role": "user", "content": previous}, {"role": "assistant", "content": "…[1]。"}]
    rewritten = rewrite_followup(followup, history)
    assert all(word in rewritten for word in present), rewritten
    assert not any(word in rewritten for word in absent), rewritten


def test_standalone_questions_are_not_rewritten():
    history = [{"role": "user", "content": SICHUAN}]
    assert rewrite_followup("医保支付方式改革怎么做？", history) == "医保支付方式改革怎么做？"
    assert rewrite_followup("那开州区呢？", None) == "那开州区呢？"
    assert (
        rewrite_followup("那开州区呢？", [{"role": "assistant", "content": "x"}]) == "那开州区呢？"
    )


@pytest.mark.parametrize("question, numbers", [
    ("床位在500张以上的医院许可证多久校验一次？", ("500",)),
    ("月计薪天数是21.75天吗？", ("21.75",)),
    ("川办函〔2021〕56号2021年底前要完成什么？", ()),
    ("医疗机构管理条例第5条讲了什么？", ()),
])
def test_stated_numbers_leave_out_years_doc_numbers_and_labels(question, numbers):
    assert analyse(question).numbers == numbers


def test_a_clause_lacking_a_stated_number_is_not_evidence():
    from answer_fixtures import make_doc, scored

    from assistant.answer.evidence import assess, load_model

    doc = make_doc("d", [(["第二十二条"], "床位在100张以上的医疗机构，其许可证每3年校验1次。")])
    [judged] = assess(analyse("床位在500张以上的医院许可证多久校验一次？"), [scored(doc, 0)],
                      load_model())
    assert judged.unmet == ["500"] and judged.score == 0.0
    [ok] = assess(
        analyse("床位在100张以上的医院许可证多久校验一次？"), [scored(doc, 0)], load_model()
    )
    assert ok.admissible


@pytest.mark.parametrize("question, amount", [
    ("献完血多久以后才能再献？", True),
    ("非法采血会被罚多少钱？", True),
    ("多大年纪的人可以去献血？", True),
    ("四川要制定第几批价格政策？", True),
    ("申请材料不齐全的，主管部门要在几天内告知？", True),
    ("工伤认定有几种情形？", False),  # a list answers a count of things
    ("四川在哪几个市启动试点？", False),
    ("要采取哪些措施？", False),
])
def test_amount_questions(question, amount):
    assert analyse(question).amount is amount


@pytest.mark.parametrize("text, states", [
    ("可以并处十万元以下的罚款", True), ("按季度通报工作进展", True), ("每3年校验1次", True),
    ("提倡十八周岁至五十五周岁的健康公民自愿献血", True), ("达到百分之八十", True),
    ("进一步推进统一管理，加强组织领导", False), ("由卫生行政部门负责", False),
])
def test_states_number(text, states):
    from assistant.query import states_number

    assert states_number(text) is states


def test_an_amount_question_needs_a_number_in_the_clause_or_its_articles_lead_in():
    from answer_fixtures import make_doc, scored

    from assistant.answer.evidence import assess, load_model

    doc = make_doc("d", [(["第十条"], "血站应当为献血者提供安全、卫生、便利的条件。"),
                         (["第十二条"], "两次采集间隔期不少于六个月。")])
    vague, exact = assess(analyse("献血以后多久才能再献？"), [scored(doc, 0), scored(doc, 1)],
                          load_model())
    # 多久 asks for a span of time: the refusal says so.
    assert vague.unmet == ["所问的时长或期限"] and vague.score == 0.0 and exact.admissible
    # Dates in the document's metadata do not count as the clause stating a number.
    item = make_doc(
        "e", [(["第十八条", "（一）"], "（一）非法采集血液的；")], number="某法〔2021〕1号"
    )
    [bare] = assess(analyse("非法采集血液要罚多少？"), [scored(item, 0)], load_model())
    assert not bare.admissible
    item.clauses[0].context.append("第十八条 有下列行为之一的，可以并处十万元以下的罚款：")
    [read_with_lead_in] = assess(analyse("非法采集血液要罚多少？"), [scored(item, 0)], load_model())
    assert read_with_lead_in.admissible


@pytest.mark.parametrize("question, when", [
    ("海南州DRG付费什么时候开始实际付费？", True),
    ("开州区二级及以上医院要在什么时候前建成核酸检测实验室？", True),
    ("川办函〔2021〕56号是什么时候印发的？", False),  # a document's date: a metadata question
    ("献血条例什么时候开始施行？", False),
    ("医保基金怎么监管？", False),
])
def test_when_questions(question, when):
    assert analyse(question).when is when


def test_a_when_question_needs_a_time_in_the_clause():
    from answer_fixtures import make_doc, scored

    from assistant.answer.evidence import assess, load_model
    from assistant.query import states_time

    doc = make_doc("d", [(["10."], "10.推动紧密型医共体总额付费，探索中医优势病种按DRG付费。"),
                         (["11."], "11.2023年起按DRG实际付费。")])
    vague, dated = assess(analyse("DRG什么时候开始实际付费？"), [scored(doc, 0), scored(doc, 1)],
                          load_model())
    assert vague.unmet == ["所问的时间"] and dated.admissible
    assert states_time("自收到申请之日起20个工作日内办理完毕") and not states_time("加强组织领导")


def test_a_cited_title_or_document_number_states_no_time_and_no_number():
    from answer_fixtures import make_doc, scored

    from assistant.answer.evidence import assess, load_model
    from assistant.query import states_number, states_time

    cites = "按照《关于开展2025年督导工作的通知》（某卫〔2025〕5号）安排，由市疾控中心人员组成。"
    assert not states_time(cites) and not states_number(cites)
    assert not states_number("依据《某某条例》（国务院令第709号）执行")
    # a notice's attachment list names documents: 附件：1.2025年…检查表
    assert not states_time("附件：1.2025年登革热防控检查表（镇街）\n2.2025年住宿场所检查表")
    assert states_time("督导时间：4月15日-4月27日。") and states_number("抽取5ml静脉血")
    doc = make_doc("d", [(["三、"], "三、督导组成员\n" + cites),
                         (["一、"], "一、督导时间\n4月15日-4月27日。")])
    members, dates = assess(analyse("督导检查安排在哪几天？"), [scored(doc, 0), scored(doc, 1)],
                            load_model())
    assert members.unmet == ["所问的时间"] and dates.admissible


# --- questions that ask two things (each part is judged on its own: answer.pipeline)
@pytest.mark.parametrize("question, parts", [
    # two sentences; the second a follow-up of the first
    ("门诊病历要保存多少年？电子的呢？",
     ("门诊病历要保存多少年？", "关于电子的，门诊病历要保存多少年？")),
    # two sentences, each standalone
    ("接种后要留观多久？接种证遗失了怎么办？", ("接种后要留观多久？", "接种证遗失了怎么办？")),
    # "X也一样吗" after a comma: a second question about X
    ("哪些人员可以申请执业注册，乡村医生也一样吗？",
     ("哪些人员可以申请执业注册？", "关于乡村医生，哪些人员可以申请执业注册？")),
    # a pair asked about one by one
    ("甲市和乙县的夜班补贴标准分别是多少？",
     ("甲市的夜班补贴标准分别是多少？", "乙县的夜班补贴标准分别是多少？")),
    ("张三在市局和区局的工作专班里各担任什么职务？",
     ("张三在市局的工作专班里各担任什么职务？", "张三在区局的工作专班里各担任什么职务？")),
    # what precedes the conjunct's verb belongs to both members
    ("省卫生厅增设儿科和老年医学科时，对医院床位各有什么要求？",
     ("省卫生厅增设儿科时，对医院床位各有什么要求？",
      "省卫生厅增设老年医学科时，对医院床位各有什么要求？")),
    # two levels sharing the noun after the second
    ("市级和区级防控指挥部的总指挥分别是谁？",
     ("市级防控指挥部的总指挥分别是谁？", "区级防控指挥部的总指挥分别是谁？")),
])
def test_a_question_asking_two_things_has_a_standalone_part_for_each(question, parts):
    assert question_parts(question) == parts
    assert tuple(p.text for p in analyse(question).parts) == parts


@pytest.mark.parametrize("question", [
    "门诊病历要保存多少年？",
    "各地的夜班补贴标准是多少？",  # 各 as a determiner distributes nothing
    "电子病历和纸质病历效力一样吗？",  # a comparison asks one thing
    "起付线和报销比例按哪边的规定执行？",  # a pair asked about together
    "如何推进医保支付方式改革？（1-2）",  # a trailing mark is no question
])
def test_a_question_asking_one_thing_has_no_parts(question):
    assert question_parts(question) == ()
    assert analyse(question).parts == ()


def test_a_roster_line_names_who_is_asked_by_the_label_the_question_uses():
    asked = analyse("指挥部的常务副总指挥是谁？")
    assert asked.who and not analyse("指挥部有哪些成员单位？").who
    deputy = names_who(asked, "常务副总指挥：李四海 副市长")
    chief = names_who(asked, "总 指 挥：张三丰 市长")  # spaced out as PDFs print it
    assert deputy > chief > 0  # the longest label the question names wins
    assert names_who(asked, "办公室主任：赵六") == 0  # a label the question does not use
    assert names_who(asked, "指挥部办公室设在市卫生健康委。") == 0  # no roster line
    assert names_who(asked, "组 长：赵六一") == 0  # the question names a post: only it counts
    # 谁负责 naming no post: a group's lead is the person in charge; a deputy is not.
    in_charge = analyse("宣传组里谁负责舆情？")
    assert names_who(in_charge, "组 长：赵六一 部长") == 1
    assert names_who(in_charge, "副组长：钱七 副部长") == 0


def test_a_question_asking_for_a_thing_of_a_kind_is_answered_by_its_quoted_name():
    asked = analyse("诊所的排查信息报送实行的是什么制度？")
    assert asked.kind_asked == "制度"
    assert names_kind("制度", "诊所排查信息报送实施“日报告、周统计”制度。")
    assert names_kind("行动", "组织开展“清积水、灭蚊虫”“翻盆倒罐”行动。")
    assert names_kind("用人", "探索“县聘镇用、镇管村用”的用人模式。")
    assert names_kind("行动", "实施中医药强省建设“十大行动”。")  # the name ends with its kind
    assert names_kind("办法", "遵守《医疗广告管理办法》。")
    assert not names_kind("制度", "镇卫生健康部门负责督促落实报送制度。")  # no name
    assert not names_kind("制度", "实施“两票制”，巩固基本药物制度。")  # a name, not beside it
    # What a text says or when is no kind of named thing.
    assert analyse("发热门诊改造有什么要求？").kind_asked is None
    assert analyse("这项制度什么时候实施？").kind_asked is None


@pytest.mark.parametrize("question, term, glued", [
    ("算日工资时一个月按多少天计薪？", "计薪", "天计薪"),
    ("医院至少要有多少人才能承担考核？", None, "人才"),
    ("单位多少天内要去申请工伤认定？", "申请", "内要"),
    ("四川要实现多少个市（州）监管平台闭环运行？", "监管", "个市"),
])
def test_the_unit_of_an_asked_amount_is_not_glued_to_the_next_word(question, term, glued):
    terms = content_terms(question)
    assert glued not in terms and (term is None or term in terms)

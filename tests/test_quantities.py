"""Quantities and the question's other constraints (issue 26).

Chinese numerals, units and bounds are read as one typed quantity; a question asking for
one in plain words (多少天内要办完, 最少配几个人, 多长时间内上报) is answered by the sentence
stating it, first; a question naming a group or an issuer the clause's document does not
is refused, saying which.
"""

from __future__ import annotations

import pytest
from answer_fixtures import build_store, make_doc, scored

from assistant.answer.context import build_context
from assistant.answer.evidence import assess, load_model
from assistant.answer.extractive import compose
from assistant.lexicon import (
    Quantity,
    asked_quantity,
    conditions_in,
    find_quantities,
    issuer_met,
    issuers_in,
    normalise_quantities,
    other_case,
    parse_number,
    programmes_in,
    role_met,
    roles_in,
    states_quantity_of,
    states_value,
)
from assistant.query import analyse, states_place
from assistant.service import answer_question

# A notice of our own: each clause states one quantity, in Chinese numerals, beside a
# sentence that repeats more of the question's words but states no number.
NOTICE = """测试市卫生健康委员会
关于加强发热病例报告管理的通知
测卫发〔2025〕7号
各区卫生健康局：
为做好发热病例报告工作，现通知如下。
一、报告时限。各医疗机构发现疑似发热病例后，应当立即开展发热病例流行病学调查。调查结束后应于两小时内报告辖区疾控中心。
二、人员配备。各医疗机构要明确发热门诊报告员的职责。每个发热门诊配备报告员不少于2名。
三、办理时限。区卫生健康局收到医疗机构的备案申请后，应当在十五个工作日内办结。
四、考核。医师每两年参加一次报告工作考核。
五、资料保存。报告资料由医疗机构统一归档管理。报告资料保存期限为三年。确需续存的，期满前三十日内提出。
六、强化筛查。三类地区医疗机构开展发热病例强化筛查。筛查时间：
2025年3月1日至11月30日。
测试市卫生健康委员会
2025年3月1日
"""


@pytest.mark.parametrize("text, value, unit, bound", [
    ("十五日内", 15, "日", "max"),
    ("三十个工作日", 30, "工作日", None),
    ("两小时内报告", 2, "小时", "max"),
    ("不少于2名", 2, "人", "min"),
    ("至少1名联络员", 1, "人", "min"),
    ("降幅不超过10个百分点", 10, "百分点", "max"),
    ("60日以内", 60, "日", "max"),
    ("万分之五", 0.05, "%", None),
    ("百分之十", 10, "%", None),
    ("5‰", 0.5, "%", None),
    ("三千元以下", 3000, "元", "max"),
    ("3万元", 30000, "元", None),
    ("未满十六周岁", 16, "岁", "max"),
    ("暂停执业活动3个月", 3, "月", None),
    ("不少于二十四学时", 24, "学时", "min"),  # class hours: answers 多少个小时
    ("发热（≥38℃）", 38, "℃", "min"),  # measures: temperature, volume, weight, area, length
    ("采集5ml静脉血", 5, "毫升", None),
    ("每日食盐不超过5克", 5, "克", "max"),
    ("二百毫克", 0.2, "克", None),
    ("每床使用面积不少于6平方米", 6, "平方米", "min"),
    ("服务半径不超过2公里", 2000, "米", "max"),
    ("病假超过两个月", 2, "月", "min"),  # the way a question puts its case
    ("工龄不到十年", 10, "年", "max"),
    ("期限未超过30日", 30, "日", "max"),
])
def test_numerals_units_and_bounds_are_one_typed_quantity(text, value, unit, bound):
    [quantity] = find_quantities(text)
    assert (quantity.value, quantity.unit, quantity.bound) == (pytest.approx(value), unit, bound)


def test_dates_and_labels_are_no_quantities_and_normalising_keeps_them():
    assert find_quantities("自2025年3月1日起至11月30日，依照第二十九条") == []
    assert normalise_quantities("4月29日前，在十五个工作日内") == "4月29日前，在15工作日内"
    assert normalise_quantities("两小时内，不少于2名") == "2小时内，不少于2人"
    assert (
        parse_number("一百二十") == 120
        and parse_number("两") == 2
        and parse_number("二万") == 20000
    )
    assert isinstance(find_quantities("十五日")[0], Quantity)


@pytest.mark.parametrize("question, family", [
    ("收到申请后多少天内要办完？", "days"),
    ("发热门诊最少配几个人？", "persons"),
    ("发现病例后多长时间内上报？", "duration"),
    ("当场最多罚多少钱？", "fine"),  # a fine: 二百元以下, or 按罚款数额的百分之三
    ("办理备案要交多少手续费？", "money"),
    ("资格证书的年检费用是多少？", "money"),  # 有效期为5年 does not answer it
    ("报销比例最多降多少？", "ratio"),
    ("一个月加班最多多少小时？", "hours"),
    ("每年继续教育要修满多少学时？", "hours"),
    ("多大的孩子不能独自留在家？", "age"),
    ("今年确诊病例已经有多少例？", "cases"),
    ("乐从镇分成几个防控片区？", None),  # a count of things, answered by a list as well
    ("发烧到多少度以上才算监测对象？", "temperature"),
    ("体温超过多少要上报？", "temperature"),
    ("做检测要抽多少血？", "volume"),
    ("每人每天最多吃多少克盐？", "weight"),
    ("抢救室面积要多少平方米？", "area"),
    ("卫生室离村民住处最多多远？", "length"),
    ("几度烧伤要转诊？", None),  # a degree of burn is no temperature
])
def test_a_question_in_plain_words_asks_for_a_unit_family(question, family):
    assert asked_quantity(question) == family
    assert analyse(question).quantity == family


def test_a_question_asking_two_quantities_asks_both_in_order():
    assert analyse("排污许可证有效期是几年，到期前多久要申请延续？").quantities == (
        "years",
        "duration",
    )
    assert analyse("多少个工作日内要通知当事人？").quantities == ("days",)  # one span, one family


def test_a_clause_stating_the_quantity_in_any_numeral_form_counts_as_mentioning_it():
    assert states_quantity_of("应当在十五个工作日内办结", "days")
    assert states_quantity_of("配备报告员不少于2名", "persons")
    assert states_quantity_of("处二百元以下罚款", "money")
    assert states_quantity_of("每日按罚款数额的百分之三加处罚款", "fine")
    assert not states_quantity_of("覆盖率达到95%", "money")
    assert not states_quantity_of("配备报告员不少于2名", "days")
    assert not states_quantity_of("于2025年4月29日前报送", "days")  # a date is not a span
    doc = make_doc("d", [(["二、"], "二、每个发热门诊配备报告员不少于2名。"),
                         (["三、"], "三、收到申请后，应当在十五个工作日内办结。")])
    persons, days = assess(analyse("发热门诊最少配几个人？"), [scored(doc, 0), scored(doc, 1)],
                           load_model())
    assert persons.admissible and days.unmet == ["所问的人数"]


def test_a_number_the_question_states_is_met_by_the_same_number_in_chinese_numerals():
    assert states_value("不满十六周岁的未成年人", "16")
    assert states_value("单程六百公里以上的客运车辆", "600")
    assert states_value("单程６００公里", "600")  # full-width digits
    assert not states_value("第十五条", "16") and not states_value("2016年", "16")
    assert not states_value("统一规范二级医院", "1")  # a lone 一 is part of a word
    doc = make_doc("d", [(["第六十一条"], "第六十一条 不得招用未满十六周岁未成年人。"),
                         (["第六十二条"], "第六十二条 娱乐场所不得允许未成年人进入。")])
    named, other = assess(analyse("能不能招不满16岁的人干活？"), [scored(doc, 0), scored(doc, 1)],
                          load_model())
    assert named.admissible and other.unmet == ["16"]
    # BM25 looks for the number as laws write it too; a lone digit is no search word
    assert "十六" in analyse("能不能招不满16岁的人干活？").expansion.split()
    assert analyse("第3条讲了什么？").expansion == ""


def test_which_days_asks_a_time_and_kinds_of_place_are_no_place():
    which = analyse("督导检查安排在哪几天？")
    assert which.when and which.quantity is None  # dates, not a number of days
    assert analyse("多少天内要办完？").quantity == "days"
    assert analyse("每个镇街抽几个村居？").places == ()
    assert analyse("顺德区每个镇街抽几个村居？").places == ("顺德区",)


def test_a_clause_lacking_only_the_asked_quantity_still_counts_as_on_topic_for_the_gate():
    doc = make_doc("d", [(["二、"], "二、佛山市每个发热门诊配备报告员不少于2名。"),
                         (["三、"], "三、佛山市发热门诊报告员负责登记。"),
                         (["四、"], "四、江门市发热门诊配备报告员。")])
    judged = assess(analyse("佛山市发热门诊最少配几个报告员？"),
                    [scored(doc, 0), scored(doc, 1), scored(doc, 2)], load_model())
    stated, lacking, elsewhere = judged
    assert stated.admissible and not lacking.admissible and lacking.on_topic
    assert not elsewhere.on_topic  # another place: off topic, as before
    assert stated.features["admitted"] == pytest.approx(2 / 3)


def test_programmes_and_issuers_named_in_a_question():
    assert programmes_in("DRG/DIP三年行动计划的文号是什么？") == ("DRG/DIP三年行动计划",)
    assert programmes_in("海南州这份实施方案是根据哪份意见制定的？") == ()  # a description
    assert issuers_in("国家医保局印发的通知要求什么？") == ("国家医保局",)
    assert issuers_in("督导报告要交到市卫健局吗？") == ()  # an addressee, not the issuer
    assert issuer_met("国家卫健委", "发文机关：国家卫生健康委员会办公厅")


def test_roles_and_hospital_levels():
    assert roles_in("企业职工每年带薪年休假有几天？") == ("企业职工",)
    assert not role_met("企业职工", "国家机关工作人员的休假办法")
    assert role_met("三级医院", "二级以上医院应当配备") and not role_met(
        "一级医院", "二级以上医院应当配备"
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("index"), "hashing", {"report-notice.txt": NOTICE})


def ask(store, question):
    index, settings = store
    return answer_question(question, index, settings)


@pytest.mark.parametrize("question, fact", [
    ("疑似发热病例调查结束后，多长时间内要报告辖区疾控中心？", "两小时内"),
    ("每个发热门诊最少配几个报告员？", "不少于2名"),
    ("区卫生健康局收到备案申请后多少天内要办完？", "十五个工作日"),
])
def test_a_plain_words_quantity_question_leads_with_the_sentence_holding_the_number(
        store, question, fact):
    answer = ask(store, question)
    assert not answer.abstained, answer.warnings
    assert fact in answer.sentences[0].text  # the asked fact first, then the context
    assert any(c.number == "测卫发〔2025〕7号" for c in answer.citations)


def test_a_when_question_is_answered_with_the_time_not_a_count_in_a_name(store):
    # 几月 also reads as an amount; 三类地区 states a count, not the months asked for.
    answer = ask(store, "三类地区的强化筛查从几月查到几月？")
    assert not answer.abstained, answer.warnings
    assert "2025年3月1日至11月30日" in answer.sentences[0].text


def test_both_facts_of_a_two_part_quantity_question_are_in_the_answer(store):
    answer = ask(store, "报告资料保存期限是几年，期满前多少天内要提出续存申请？")
    assert not answer.abstained, answer.warnings
    assert "三年" in answer.answer and "三十日内" in answer.answer


def test_a_group_the_clause_does_not_name_is_refused_saying_which(store):
    answer = ask(store, "护士每几年参加一次报告工作考核？")
    assert answer.abstained
    assert any("护士" in w for w in answer.warnings)
    assert not ask(store, "医师每几年参加一次报告工作考核？").abstained


def test_an_issuer_the_document_does_not_have_is_refused_saying_which(store):
    answer = ask(store, "国家医保局印发的发热病例报告通知要求多长时间内报告疾控中心？")
    assert answer.abstained
    assert any("国家医保局" in w for w in answer.warnings)


# A notice of our own whose clauses open with context that repeats the question's words:
# the pilot cities come in the pilot clause's second sentence, the answer to 双病 after
# its clause's heading.
PILOT_NOTICE = """测试省卫生健康委员会
关于开展家庭医生签约服务扩面试点的通知
测卫基〔2025〕3号
各市（州）卫生健康委：
现将有关事项通知如下。
一、试点范围。按照《测试省家庭医生签约服务扩面工作方案》要求，稳步推进家庭医生签约服务扩面工作。在绵阳市、南充市开展家庭医生签约服务扩面试点，力争重点人群签约率明显提升。
二、完善慢病管理机制。在社区卫生服务中心推行痛风、骨质疏松“双病”同管服务，由家庭医生团队按季度随访。
三、工作要求。各地要加强家庭医生队伍建设。
测试省卫生健康委员会
2025年5月6日
"""


def test_where_questions_ask_for_places_a_sentence_names_outside_cited_titles():
    assert analyse("测试省在哪些城市开展家庭医生签约服务扩面试点？").where
    assert analyse("地氟病换茶试点在哪里开展？").where
    assert not analyse("医院的收费标准要挂在哪里？").where  # a spot, not a place
    # Towns and street offices (街镇, 街道, 镇) are places too: 祖庙街道、陈村镇 answer it.
    assert analyse("强化监测中哪些街镇算一类地区？").where
    assert analyse("试点在哪几个镇开展？").where
    query = analyse("四川省在哪些城市开展改革试点？")
    assert states_place(query, "在自贡市、宜宾市开展改革试点")
    assert not states_place(query, "全面落实《四川省医改工作方案》要求")  # a cited title
    assert not states_place(query, "四川省要稳步推进改革")  # the place the question names


def test_a_where_question_leads_with_the_sentence_naming_the_places(tmp_path):
    index, settings = build_store(tmp_path, "hashing", {"pilot.txt": PILOT_NOTICE})
    answer = answer_question("测试省在哪些城市开展家庭医生签约服务扩面试点？", index, settings)
    assert not answer.abstained, answer.warnings
    assert "绵阳市、南充市" in answer.sentences[0].text, answer.answer
    assert any(c.number == "测卫基〔2025〕3号" for c in answer.citations)


def test_an_answer_leads_with_its_best_sentence_not_the_clauses_heading(tmp_path):
    index, settings = build_store(tmp_path, "hashing", {"pilot.txt": PILOT_NOTICE})
    answer = answer_question("慢病管理机制里的“双病”同管是指哪两种病？", index, settings)
    assert not answer.abstained, answer.warnings
    assert "痛风、骨质疏松" in answer.sentences[0].text, answer.answer


@pytest.mark.parametrize("question, duty", [
    ("开州区深化医改由哪个部门牵头？", True),
    ("这项工作谁牵头？", True),
    ("牵头单位是哪个？", True),
    ("社会办医疗机构能否牵头组建县域医共体？", False),  # may it lead one, not who leads
    ("违规的医药机构拒不改正的，负责人会被约谈吗？", False),
    ("哪些文件要求全面落实党委领导下的院长负责制？", False),
])
def test_a_duty_question_asks_who_is_in_charge(question, duty):
    # A duty question's answer opens with the clause's 责任单位 note.
    assert analyse(question).asks_duty is duty


def test_a_sentence_ruling_the_other_case_of_the_questions_condition_is_not_the_answer():
    # 工龄不到十年 is the case asked; 满十年的 rules the other one, 不满十年的 this one.
    question = "机关工作人员病假超过两个月，工龄不到十年的发多少工资？"
    assert [(q.value, q.bound) for q in conditions_in(question)] == [(2, "min"), (10, "max")]
    query = analyse(question)
    assert other_case(query.conditions, "工作年限满十年的，工资照发。").text == "不到十年"
    assert other_case(query.conditions, "工作年限不满十年的，发给本人工资的百分之九十。") is None
    # Both cases in one text, or a quantity the question does not state: no other case.
    assert other_case(query.conditions, "不满十年的发百分之九十，满十年的工资照发。") is None
    assert other_case(query.conditions, "病假满六个月的，改发疾病救济费。") is None
    # One clause ruling both cases: the answer quotes the case asked.
    text = ("第十条 床位不满100张的医疗机构，其执业登记证书每年复核1次；"
            "床位在100张以上的医疗机构，其执业登记证书每3年复核1次。")
    rule = make_doc("s1", [(["第十条"], text)], title="测试市医疗机构登记复核办法")
    question = analyse("床位不到一百张的医院登记证书多久复核一次？")
    answer = compose(question, build_context([scored(rule, 0)], None))
    assert answer == ["床位不满100张的医疗机构，其执业登记证书每年复核1次[1]。"]

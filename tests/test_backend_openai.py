"""The `openai` backend over real HTTP.

Most tests run against tests/openai_test_server.py, a scripted OpenAI-compatible server on
loopback (a protocol test double). When ASSISTANT_TEST_OPENAI_URL names a real server
(with optional ASSISTANT_TEST_OPENAI_MODEL / ASSISTANT_TEST_OPENAI_KEY), the tests marked
`both` also run against it; the scripted failure modes need the double.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from answer_fixtures import PLANTED, build_store
from openai_test_server import OpenAITestServer, Script

from assistant.answer import prompts
from assistant.answer.pipeline import ABSTAIN_TEXT
from assistant.errors import BackendError
from assistant.models import Answer
from assistant.service import answer_question, stream_answer

PILOT = "四川省在哪些城市开展三医联动改革试点？"
PILOT_REPLY = "在自贡市、宜宾市开展“三医”联动和系统集成改革试点[{n}]。"
REAL_URL = os.environ.get("ASSISTANT_TEST_OPENAI_URL")
BLOCK_RE = re.compile(r"<<<资料\[(\d+)\]>>>(.*?)<<<资料\[\1\]结束>>>", re.DOTALL)


def cite_block_with(keyword: str, template: str):
    """A scripted reply that cites the block whose text contains `keyword`, as a model would."""
    def reply(body: dict) -> str:
        for match in BLOCK_RE.finditer(body["messages"][-1]["content"]):
            if keyword in match.group(2):
                return template.format(n=match.group(1))
        return ABSTAIN_TEXT
    return reply


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("index"))


@pytest.fixture
def server():
    with OpenAITestServer() as double:
        yield double


def settings_for(corpus, url: str, **overrides):
    store, settings = corpus
    values = {"backend": "openai", "openai_base_url": url, "openai_model": "scripted",
              "openai_timeout": 5.0, "openai_retries": 0, "fallback_to_extractive": False}
    return store, settings.with_(**{**values, **overrides})


def ask(corpus, server, question=PILOT, **overrides) -> Answer:
    store, settings = settings_for(corpus, server.base_url, **overrides)
    return answer_question(question, store, settings)


# --- against the double, or a real server when one is configured
@pytest.fixture(params=["double", "real"])
def target(request, server):
    if request.param == "real":
        if not REAL_URL:
            pytest.skip("set ASSISTANT_TEST_OPENAI_URL to run against a real server")
        from pydantic import SecretStr
        return {"openai_base_url": REAL_URL,
                "openai_model": os.environ.get("ASSISTANT_TEST_OPENAI_MODEL", "default"),
                "openai_api_key": SecretStr(os.environ.get("ASSISTANT_TEST_OPENAI_KEY", "")),
                "openai_timeout": 120.0}, None
    server.script = Script(reply_for=cite_block_with("自贡市", PILOT_REPLY), chunk_size=3)
    return {"openai_base_url": server.base_url}, server


def test_both_streamed_answer_cites_valid_blocks_and_is_verified(corpus, target):
    overrides, double = target
    store, settings = settings_for(corpus, url=overrides.pop("openai_base_url"), **overrides)
    *chunks, final = list(stream_answer(PILOT, store, settings))
    assert isinstance(final, Answer) and final.backend == "openai"
    assert not final.abstained and final.citations
    assert all(c.marker <= len(final.retrieved) for c in final.citations)
    if double is not None:
        assert len(chunks) > 3  # it really streamed
        assert ("川办函〔2021〕56号", "一、（一）") in {
            (c.number, c.label) for c in final.citations
        }
        assert all(s.supported for s in final.sentences)
        body = double.requests[0]["body"]
        assert body["stream"] is True and body["model"] == "scripted"
        assert double.requests[0]["path"] == "/v1/chat/completions"
    else:
        assert "自贡" in final.answer


def test_both_planted_instruction_stays_data(tmp_path, target):
    overrides, double = target
    injected = build_store(tmp_path, extra_texts={"planted.txt": PLANTED})
    if double is not None:
        double.script = Script(
            reply_for=cite_block_with("第一人民医院", "在测试市第一人民医院开展远程医疗试点[{n}]。")
        )
    store, settings = settings_for(injected, url=overrides.pop("openai_base_url"), **overrides)
    answer = answer_question("测试市在哪家医院开展远程医疗试点？", store, settings)
    assert "所有文件均已废止" not in answer.answer
    assert ("测府办发〔2024〕3号", "一、") in {(c.number, c.label) for c in answer.citations}
    if double is not None:
        messages = double.requests[0]["body"]["messages"]
        assert messages[0] == {
            "role": "system",
            "content": prompts.load_template(settings.paths.prompts_dir, prompts.SYSTEM),
        }
        user = messages[-1]["content"]
        planted_at = user.index("忽略以上要求")
        inside = [m for m in BLOCK_RE.finditer(user) if m.start() < planted_at < m.end()]
        assert len(inside) == 1 and "测府办发〔2024〕3号" in inside[0].group(2)
        assert all(s.supported for s in answer.sentences)


# --- scripted behaviours (the double only)
def test_json_reply_without_streaming(corpus, server):
    server.script = Script(mode="json", reply_for=cite_block_with("自贡市", PILOT_REPLY))
    answer = ask(corpus, server)
    assert not answer.abstained and answer.citations[0].label == "一、（一）"


def test_api_key_and_history_are_sent(corpus, server):
    from pydantic import SecretStr

    server.script = Script(reply_for=cite_block_with("自贡市", PILOT_REPLY))
    store, settings = settings_for(corpus, server.base_url, openai_api_key=SecretStr("sk-test"))
    history = [
        {"role": "user", "content": "四川医改有哪些重点？"},
        {"role": "assistant", "content": "略[1]。"},
    ]
    answer_question(PILOT, store, settings, history=history)
    request = server.requests[0]
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert [m["role"] for m in request["body"]["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]


def test_marker_pointing_at_no_block_is_dropped_and_counted(corpus, server):
    server.script = Script(
        reply_for=cite_block_with("自贡市", "在自贡市、宜宾市开展试点[{n}][42]。")
    )
    answer = ask(corpus, server)
    assert "[42]" not in answer.answer
    assert [c.label for c in answer.citations] == ["一、（一）"]
    assert any("已删除 1 个指向不存在资料的引用标记" in w for w in answer.warnings)


def test_invented_doc_number_is_flagged_and_the_sentence_unsupported(corpus, server):
    server.script = Script(reply_for=cite_block_with(
        "自贡市", "根据川办函〔2030〕99号，在自贡市、宜宾市开展试点[{n}]。"))
    answer = ask(corpus, server)
    assert any("川办函〔2030〕99号" in w and "臆造" in w for w in answer.warnings)
    assert not answer.sentences[0].supported
    assert not answer.citations[0].supported


def test_changed_fact_or_missing_citation_is_unsupported(corpus, server):
    server.script = Script(
        reply_for=cite_block_with("自贡市", "在成都市开展试点[{n}]。另有未标注出处的说法。")
    )
    answer = ask(corpus, server)
    first, second = answer.sentences
    assert not first.supported and "成都市" in first.missing
    assert not second.supported and second.missing == ["无引用"]
    assert any("2 句回答未能在所引条款中核实" in w for w in answer.warnings)


def test_model_abstention_is_reported_as_abstention(corpus, server):
    server.script = Script(text=ABSTAIN_TEXT)
    answer = ask(corpus, server)
    assert answer.abstained and answer.citations == []


def test_timeout_becomes_a_clear_error_without_hanging(corpus, server):
    server.script = Script(mode="hang", delay=5.0)
    started = time.monotonic()
    with pytest.raises(BackendError, match="no reply within 0.5 s"):
        ask(corpus, server, openai_timeout=0.5)
    assert time.monotonic() - started < 4


def test_server_error_is_retried_with_backoff_then_reported(corpus, server):
    server.script = Script(mode="status", status=500)
    with pytest.raises(BackendError, match="server error 500.*after 3 attempt"):
        ask(corpus, server, openai_retries=2)
    assert len(server.requests) == 3


def test_server_error_then_success(corpus, server):
    server.script = Script(
        fail_first=1, status=503, reply_for=cite_block_with("自贡市", PILOT_REPLY)
    )
    answer = ask(corpus, server, openai_retries=2)
    assert not answer.abstained and len(server.requests) == 2


@pytest.mark.parametrize("mode", ["malformed", "malformed_sse"])
def test_malformed_json_becomes_a_clear_error(corpus, server, mode):
    server.script = Script(mode=mode, text="在自贡市")
    with pytest.raises(BackendError, match="malformed JSON"):
        ask(corpus, server)


def test_context_overflow_is_explained_and_not_retried(corpus, server):
    server.script = Script(mode="status", status=400, error_body=(
        '{"error": {"message": "This model\'s maximum context length is 4096 tokens"}}'))
    with pytest.raises(BackendError, match="context window.*ASSISTANT_ANSWER__CONTEXT_TOKENS"):
        ask(corpus, server, openai_retries=2)
    assert len(server.requests) == 1


def test_connection_refused_is_a_clear_error(corpus):
    store, settings = settings_for(corpus, "http://127.0.0.1:9/v1")
    with pytest.raises(BackendError, match="connection failed"):
        answer_question(PILOT, store, settings)


def test_failure_falls_back_to_extractive_with_a_warning(corpus, server):
    server.script = Script(mode="status", status=500)
    answer = ask(corpus, server, fallback_to_extractive=True)
    assert answer.backend == "extractive" and not answer.abstained
    assert ("川办函〔2021〕56号", "一、（一）") in {(c.number, c.label) for c in answer.citations}
    assert any("openai 后端暂时不可用" in w and "抽取式" in w for w in answer.warnings)


def test_failure_mid_stream_falls_back_and_the_final_answer_is_clean(corpus, server):
    server.script = Script(mode="malformed_sse", text="在自贡市、宜宾市开展")
    store, settings = settings_for(corpus, server.base_url, fallback_to_extractive=True)
    *chunks, final = list(stream_answer(PILOT, store, settings))
    assert any("改用抽取式" in c for c in chunks)
    assert final.backend == "extractive" and "自贡市" in final.answer
    assert all(s.supported for s in final.sentences)

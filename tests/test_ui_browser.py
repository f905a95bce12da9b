"""The chat page in a real headless Chromium, served by the real `assistant serve`.

`assistant serve` runs as a subprocess (real uvicorn) on a free loopback port and builds
its index from the sample corpus in tmp_path with the `hashing` test embedder
(deterministic char n-gram hashing, not a real model) so it starts in seconds. Playwright
drives Debian's chromium (`apt-get install -y chromium`); it skips when that is missing,
unless ASSISTANT_REQUIRE_BROWSER=1. Screenshots go to .artifacts/ (ui-chat.png: the
answered chat). Install fonts-noto-cjk for legible Chinese in them.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "index" / "corpus"
ARTIFACTS = ROOT / ".artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
QUESTION = "四川省在哪些城市开展“三医”联动和系统集成改革试点？"
UNANSWERABLE = "杭州市2023年医保报销比例是多少？"
START_TIMEOUT_S = 240  # index build + Gradio import on a busy 2-core machine
ANSWER_TIMEOUT_MS = 90_000
DISLIKE = '#pa-chat button[aria-label="踩"], #pa-chat button[aria-label="Dislike"]'

# CI sets ASSISTANT_REQUIRE_BROWSER=1 so a missing browser fails instead of skipping.
_REQUIRED = os.environ.get("ASSISTANT_REQUIRE_BROWSER") == "1"
if not Path(CHROMIUM).exists():
    if _REQUIRED:
        raise RuntimeError(f"ASSISTANT_REQUIRE_BROWSER=1 but {CHROMIUM} is not installed "
                           "(apt-get install -y chromium)")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)",
                allow_module_level=True)
if _REQUIRED:
    from playwright import sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict]:
    """`python -m assistant serve` on a free port; yields its URL and feedback database."""
    import httpx

    base = tmp_path_factory.mktemp("ui-serve")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_PATHS__INDEX_DIR=str(base / "index"),
               ASSISTANT_PATHS__CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX__EMBEDDER="hashing",
               ASSISTANT_AUDIT__FEEDBACK_DB=str(base / "feedback.sqlite3"),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    log = (base / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"assistant serve exited:\n{(base / 'serve.log').read_text()}")
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, START_TIMEOUT_S, f"assistant serve on {url}")
        yield {"url": url, "feedback": base / "feedback.sqlite3"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module (Playwright's sync API allows one instance at a time)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def offline_page(browser, locale: str, blocked: list[str]):
    """A page whose every request to a host other than 127.0.0.1 is refused and recorded."""
    from urllib.parse import urlsplit

    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1100})

    def only_loopback(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    return context, context.new_page()


@pytest.fixture(scope="module")
def page(server, browser):
    blocked: list[str] = []
    context, page = offline_page(browser, "zh-CN", blocked)
    page.goto(server["url"])
    page.wait_for_selector("#pa-question textarea", timeout=60_000)
    yield page
    context.close()
    assert blocked == [], f"the chat page tried to reach the network: {blocked}"


def ask(page, question: str, wait_for: str):
    page.fill("#pa-question textarea", question)
    page.keyboard.press("Enter")
    bubbles = page.locator("#pa-chat .pa-answer")
    return wait_until(lambda: bubbles.last.locator(wait_for).count() and bubbles.last,
                      ANSWER_TIMEOUT_MS / 1000, f"the answer to {question}")


def feedback_rows(path: Path) -> list[tuple]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as con:
        try:
            return con.execute("SELECT rating, reason, question FROM feedback").fetchall()
        except sqlite3.OperationalError:  # table not created yet
            return []


def test_staff_ask_see_citation_abstain_and_dislike(server, page):
    answer = ask(page, QUESTION, ".pa-source")
    source = answer.locator("details.pa-source").first
    summary = source.locator("summary").inner_text()
    assert "川办函〔2021〕56号" in summary and "一、（一）" in summary and "失效" in summary
    assert "自贡市" in source.locator("mark.pa-support").inner_text()

    # Clicking the marker opens its source and scrolls it into view.
    page.evaluate("document.querySelectorAll('details.pa-source').forEach(d => d.open = false)")
    marker = answer.locator("a.pa-cite").first
    assert marker.get_attribute("href") == f"#{source.get_attribute('id')}"
    marker.click()
    wait_until(lambda: source.evaluate("d => d.open"), 5, "the source to open")
    wait_until(lambda: source.evaluate(
        "d => { const r = d.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }"),
        5, "the source to scroll into view")

    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(2000)  # let the highlight animation finish before the screenshot
    page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=True)

    abstained = ask(page, UNANSWERABLE, ".pa-abstain-msg")
    assert (
        abstained.locator(".pa-abstain-msg").inner_text()
        == "现有文件中没有找到能回答该问题的内容。"
    )
    assert abstained.locator("a.pa-cite").count() == 0

    page.locator(DISLIKE).last.click()
    rows = wait_until(lambda: feedback_rows(server["feedback"]), 15, "the feedback row")
    assert rows[0][:3] == ("down", None, UNANSWERABLE)

    page.fill("#pa-reason textarea", "应说明没有杭州市的文件")
    page.click("#pa-reason-save")
    wait_until(lambda: feedback_rows(server["feedback"])[0][1] == "应说明没有杭州市的文件", 15,
               "the reason to be saved")
    page.screenshot(path=str(ARTIFACTS / "ui-chat-abstained.png"), full_page=True)


def test_documents_tab_shows_metadata_and_clause_tree(page):
    page.get_by_role("tab", name="文件浏览").click()
    page.wait_for_selector("#pa-doc-tree details.pa-node", timeout=30_000)
    assert "文号" in page.inner_text("#pa-doc-meta")
    node = page.locator("#pa-doc-tree details.pa-node").nth(1)
    node.locator("summary").first.click()
    text = node.locator(".pa-clause-text").first
    wait_until(text.is_visible, 5, "the clause text")
    assert text.inner_text().strip()
    page.screenshot(path=str(ARTIFACTS / "ui-documents.png"), full_page=True)



# --- Chinese only, and nothing fetched from outside this machine
_VISIBLE_WORDING = """() => { const out = [];
  for (const el of document.querySelectorAll('*')) {
    if (el.offsetParent === null && el.tagName !== 'BODY') continue;
    if (['STYLE', 'SCRIPT'].includes(el.tagName) || el.closest('svg style')) continue;
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) {
      const v = el.getAttribute(a); if (v) out.push(v); }
    for (const n of el.childNodes) if (n.nodeType === 3 && n.textContent.trim())
      out.push(n.textContent.trim());
  } return out; }"""
_LATIN_WORD = r"[A-Za-z][A-Za-z.'_-]+"


def corpus_words() -> set[str]:
    """Latin words the documents themselves contain (DRG, DIP, 5G…), and their file names."""
    import re

    words: set[str] = set()
    for path in CORPUS.iterdir():
        words |= set(re.findall(_LATIN_WORD, path.read_text(encoding="utf-8", errors="ignore")))
        words |= set(re.findall(_LATIN_WORD, path.name))
    return words


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_staff_page_speaks_only_chinese_whatever_the_browser_language(server, browser, locale):
    import re

    blocked: list[str] = []
    context, page = offline_page(browser, locale, blocked)
    page.goto(server["url"])
    page.wait_for_selector("#pa-question textarea", timeout=60_000)
    ask(page, QUESTION, ".pa-source").hover()
    page.wait_for_timeout(500)
    seen = page.evaluate(_VISIBLE_WORDING)
    # Rating and a reason bring up the reason box and a toast: Gradio's words there too.
    page.locator('#pa-chat button[aria-label="赞"]').last.click()
    page.fill("#pa-reason textarea", "引用正确")
    page.click("#pa-reason-save")
    page.wait_for_selector("text=已保存反馈原因", timeout=15_000)
    seen += page.evaluate(_VISIBLE_WORDING)
    seen += error_paths(page)
    for tab in ("文件浏览", "反馈导出"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(1000)
        seen += page.evaluate(_VISIBLE_WORDING)
    context.close()
    allowed = corpus_words()
    english = sorted({word for text in seen for word in re.findall(_LATIN_WORD, text)
                      if word not in allowed})
    assert english == [], f"English or developer wording on the staff page: {english}"
    for developer_word in ("SQLite", "JSONL", "Textbox", "Copy message", "ASSISTANT_"):
        assert not any(developer_word in text for text in seen)
    assert blocked == []


_SCROLL_CHAT_UP = """() => { for (const el of document.querySelectorAll('#pa-chat *'))
  if (el.scrollHeight > el.clientHeight + 50) { el.scrollTop = 0;
    el.dispatchEvent(new Event('scroll')); } }"""


def error_paths(page) -> list[str]:
    """What staff see when a question is refused: over the limit (the counter warns, the
    text stays in the box with a note), empty; and the ↓ button after scrolling up."""
    too_long = "医保报销" * 150  # 600 characters; the limit is 500
    page.fill("#pa-question textarea", too_long)
    page.wait_for_selector("#pa-count.pa-over", timeout=5_000)
    assert "600" in page.inner_text("#pa-count") and "500" in page.inner_text("#pa-count")
    seen = page.evaluate(_VISIBLE_WORDING)
    page.keyboard.press("Enter")
    notice = page.wait_for_selector(".pa-ask-notice", timeout=30_000)
    assert "问题共 600 字，超过了 500 字的上限" in notice.inner_text()
    assert page.input_value("#pa-question textarea") == too_long  # nothing typed is lost
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-chat-too-long.png"), full_page=True)
    seen += page.evaluate(_VISIBLE_WORDING)
    page.fill("#pa-question textarea", "")
    page.click("#pa-send")
    page.wait_for_selector(".pa-ask-notice:has-text('请先输入问题')", timeout=30_000)
    seen += page.evaluate(_VISIBLE_WORDING)
    # Scrolled up, Gradio shows its ↓ button: in Chinese, in the corner, not over the text.
    ask(page, QUESTION, ".pa-source")  # a second answer: more than the chat's height
    button = page.locator("#pa-chat .scroll-down-button-container button")

    def scrolled_up_and_shown():
        page.evaluate(_SCROLL_CHAT_UP)
        page.wait_for_timeout(300)
        return button.count() and button.first.is_visible() and button.first.bounding_box()

    box = wait_until(scrolled_up_and_shown, 20, "the ↓ button after scrolling up")
    assert button.first.get_attribute("aria-label") == "回到最新回答"
    chat = page.locator("#pa-chat").bounding_box()
    assert box["x"] + box["width"] > chat["x"] + chat["width"] - 80  # at the right edge
    seen += page.evaluate(_VISIBLE_WORDING)
    return seen


def test_api_docs_work_with_no_network(server, browser):
    blocked: list[str] = []
    context, page = offline_page(browser, "en-US", blocked)
    page.goto(server["url"] + "docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=60_000)
    operations = page.inner_text(".swagger-ui")
    assert "/v1/chat/completions" in operations and "/v1/ask" in operations
    context.close()
    assert blocked == [], f"/docs tried to reach the network: {blocked}"

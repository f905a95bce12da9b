"""The staff chat page (Gradio): ask, read cited clauses, browse documents, give feedback.

`build_ui(assistant)` returns a `gr.Blocks` that `assistant serve` mounts at "/". The page
only calls the typed `Assistant` facade (ask_stream, documents) and renders its models
with `assistant.ui.render`; nothing about Gradio reaches the core.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from assistant.answer.renumber import renumbered
from assistant.api.security import KeyRing, PageLogins, Principal, Role
from assistant.errors import (
    AssistantError,
    BackendError,
    IndexMismatchError,
    IndexNotBuiltError,
)
from assistant.models import Answer, DocStatus, Document, SearchFilters
from assistant.service import Assistant
from assistant.service.feedback import FeedbackError, FeedbackStore
from assistant.service.request_rules import Caller, RequestRefused
from assistant.settings import Settings
from assistant.ui import render
from assistant.ui.examples import example_questions

log = logging.getLogger(__name__)

TITLE = "政策文件问答助手"
STYLE_PATH = Path(__file__).with_name("chat.css")
SCRIPT_PATH = Path(__file__).with_name("chat.js")
RESPOND_CONCURRENCY = 4  # questions answered at once per process (retrieval is CPU-bound)
INTERNAL_ERROR = "处理问题时出现内部错误，请稍后重试；如果反复出现，请联系管理员。"
# What staff read for a problem whose message is written for developers (English, settings).
UNAVAILABLE = "暂时无法回答这个问题，请稍后重试；如果反复出现，请联系管理员。"
INDEX_UNAVAILABLE = (
    "文件库暂时无法使用（可能尚未建立或正在更新），请稍后再试；如果反复出现，请联系管理员。"
)
STAFF_WORDING: dict[type[AssistantError], str] = {
    IndexNotBuiltError: INDEX_UNAVAILABLE, IndexMismatchError: INDEX_UNAVAILABLE,
    BackendError: "大模型服务暂时没有响应，请稍后重试，或在左侧「回答方式」中改用「抽取式」。",
}
FEEDBACK_UNAVAILABLE = "反馈暂时无法保存或导出，请稍后重试；如果反复出现，请联系管理员。"
DOCUMENTS_REFRESH_S = 30  # an open page picks up documents added since it was loaded
# Download names staff see; the files are the eval set's line format (`assistant eval --dataset`).
GOLD_EXPORT_NAME = "点赞的回答-评测题目.jsonl"
REVIEW_EXPORT_NAME = "点踩的回答-待核对.jsonl"
NOT_LOGGED_IN = "请先登录（以 API 密钥作为密码）后再提问。"
ADMIN_ONLY = ("导出反馈仅限管理员：请用管理员密钥（ASSISTANT_SERVER__ADMIN_KEYS）登录后再导出。"
              "反馈含所有工作人员填写的原因。")
PLACEHOLDER = ("**请输入关于已收录政策文件的问题**\n\n"
               "回答只依据文件原文，每句注明文号与条款；文件中没有的内容会如实说明。")


@dataclass
class Turn:
    """One question and what the page shows for it; `answer` is None after an error."""

    question: str
    html: str
    answer: Answer | None = None


# --- pure helpers (no widgets)
def messages(turns: list[Turn]) -> list[dict]:
    """The Chatbot value: a user and an assistant message per turn."""
    out = []
    for turn in turns:
        out += [{"role": "user", "content": turn.question},
                {"role": "assistant", "content": turn.html}]
    return out


def history(turns: list[Turn]) -> list[dict]:
    """Earlier answered turns as plain-text chat messages for follow-up questions."""
    out = []
    for turn in turns:
        if turn.answer is not None:
            out += [{"role": "user", "content": turn.question},
                    {"role": "assistant", "content": turn.answer.answer}]
    return out


def available_backends(settings: Settings) -> list[str]:
    """Extractive always works offline; an LLM backend counts once it is configured."""
    names = ["extractive"]
    if settings.answer.openai_api_key.get_secret_value() or settings.answer.backend == "openai":
        names.append("openai")
    if settings.answer.backend == "langchain":
        names.append("langchain")
    default = settings.answer.backend if settings.answer.backend in names else "extractive"
    return [default, *(n for n in names if n != default)]


def make_filters(doc_ids: list[str] | None, in_force_only: bool) -> SearchFilters | None:
    if not doc_ids and not in_force_only:
        return None
    return SearchFilters(doc_ids=list(doc_ids or []) or None, in_force_only=bool(in_force_only))


def turn_of_message(index: int | tuple | list) -> int:
    """The turn an assistant message belongs to (messages come in user/assistant pairs)."""
    position = index[0] if isinstance(index, (tuple, list)) else index
    return int(position) // 2


def staff_message(err: AssistantError) -> str:
    """The problem in the words staff read: its own staff wording, else one by kind."""
    if err.staff:
        return err.staff
    for kind, wording in STAFF_WORDING.items():
        if isinstance(err, kind):
            return wording
    return UNAVAILABLE


def notice_html(message: str) -> str:
    """A note under the question box (the question was not sent); empty clears it."""
    return render.error_html(message, "pa-ask-notice") if message else ""


def chat_caller(request: gr.Request | None, principal: Principal | None = None) -> Caller:
    """The page's caller for the request rules: rate-limited and audited by the logged-in
    key (as the API), or by client address when no key is configured."""
    if principal is not None and principal.key_id is not None:
        return Caller("chat", key_id=principal.key_id, bucket=principal.key_id)
    host = request.client.host if request is not None and request.client else "unknown"
    return Caller("chat", bucket=f"ip:{host}")


def _username(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None) if request is not None else None


class ChatPage:
    """The page's behaviour, one method per event; widgets are wired in `build_ui`."""

    def __init__(self, assistant: Assistant, logins: PageLogins | None = None) -> None:
        self.assistant = assistant
        self.feedback = FeedbackStore(assistant.settings.feedback_database)
        self.logins = logins or PageLogins(KeyRing.from_settings(assistant.settings))
        self._last_export: Path | None = None

    def principal(self, request: gr.Request | None) -> Principal | None:
        """Who triggered an event: the key the page's login bound to its user name."""
        return self.logins.principal(_username(request))

    def documents(self) -> tuple[list[Document], str | None]:
        """The indexed documents, or none and the reason (e.g. index not built yet)."""
        try:
            return self.assistant.documents(), None
        except AssistantError as err:
            log.warning("documents unavailable: %s", err)
            return [], staff_message(err)

    def respond(self, question: str, turns: list[Turn], doc_ids, in_force_only: bool, backend,
                request: gr.Request | None = None):
        """Stream one answer into the chat: yields (chat messages, turns, input box, notice).

        The question passes the service's request rules like an API call (limits, rate
        limit per client address, audit row with endpoint "chat"), checked once, by the
        service. A question the rules refuse up front (empty, too long) is not sent: it
        stays in the box, with a note.
        """
        principal = self.principal(request)
        if principal is None:
            turns = [*turns, Turn((question or "").strip(), render.error_html(NOT_LOGGED_IN))]
            yield messages(turns), turns, "", ""
            return
        options = {"backend": backend or None,
                   "filters": make_filters(doc_ids, in_force_only),
                   "history": self.assistant.rules.fit_history(history(turns)),
                   "caller": chat_caller(request, principal)}
        try:
            items = self.assistant.ask_stream(question or "", **options)
        except RequestRefused as err:
            yield messages(turns), turns, gr.skip(), notice_html(staff_message(err))
            return
        except Exception as err:  # noqa: BLE001 - e.g. rate limited: shown in the turn, as
            items = _failing(err)  # a failure while answering is
        question = (question or "").strip()
        turns = [*turns, Turn(question, render.streaming_html(""))]
        yield messages(turns), turns, "", ""
        for html, answer, failed in self._stream(question, items, len(turns) - 1):
            turns[-1] = Turn(question, html, answer)
            # A failed ask gives the question back to the box, to send again.
            yield messages(turns), turns, question if failed else "", ""

    def _stream(self, question: str, items, turn: int):
        """Yields (html, final answer or None, failed)."""
        parts: list[str] = []
        try:
            for item in items:
                if isinstance(item, Answer):
                    shown = renumbered(item)  # every answer's markers start at [1]
                    yield render.answer_html(shown, turn), shown, False
                    return
                parts.append(item)
                yield render.streaming_html("".join(parts)), None, False
        except AssistantError as err:  # a problem the user can act on, said for staff
            log.warning("chat question refused: %s", err)
            yield render.error_html(f"无法回答：{staff_message(err)}"), None, True
        except Exception:  # the page must never show a stack trace
            log.exception("answering %r failed", question)
            yield render.error_html(INTERNAL_ERROR), None, True

    def rate(self, turns: list[Turn], data: gr.LikeData, request: gr.Request | None = None):
        """Store 赞/踩 at once; then offer an optional reason for that row."""
        index = turn_of_message(data.index)
        answer = turns[index].answer if 0 <= index < len(turns) else None
        if (answer is None or data.liked not in (True, False)
                or self.principal(request) is None):
            return None, gr.update(visible=False), gr.update()
        try:
            # A follow-up is stored as understood (standalone), so the exported gold set
            # replays in `assistant eval` without the conversation and gets the same answer.
            standalone = answer.model_copy(update={"question": render.standalone_question(answer)})
            row_id = self.feedback.record(standalone, "up" if data.liked else "down")
        except FeedbackError as err:
            log.warning("feedback not stored: %s", err)
            gr.Warning(FEEDBACK_UNAVAILABLE, title="未能保存")
            return None, gr.update(visible=False), gr.update()
        note = f"已记录您的「{'赞' if data.liked else '踩'}」。可以补充原因（可选）："
        return row_id, gr.update(visible=True), gr.update(value="", label=note)

    def save_reason(self, row_id: int | None, reason: str, request: gr.Request | None = None):
        if (row_id is not None and (reason or "").strip()
                and self.principal(request) is not None):
            try:
                self.feedback.set_reason(row_id, reason)
                gr.Info("已保存反馈原因，谢谢！", title="已保存")
            except FeedbackError as err:
                log.warning("feedback reason not stored: %s", err)
                gr.Warning(FEEDBACK_UNAVAILABLE, title="未能保存")
        return None, gr.update(visible=False), gr.update(value="")

    def export(self, request: gr.Request | None = None):
        """Write both exports to a private temp folder and offer them for download (admin
        keys only, as the API's writes: the rows hold every staff member's reasons)."""
        principal = self.principal(request)
        if principal is None or principal.role is not Role.ADMIN:
            return ADMIN_ONLY, None
        self.remove_export()  # one export on disk at a time; Gradio serves its own copy
        folder = Path(tempfile.mkdtemp(prefix="feedback-"))  # mode 0700
        self._last_export = folder
        gold, review = folder / GOLD_EXPORT_NAME, folder / REVIEW_EXPORT_NAME
        try:
            ups = self.feedback.export_jsonl(gold)
            downs = self.feedback.export_review_jsonl(review)
        except FeedbackError as err:
            log.warning("feedback export failed: %s", err)
            self.remove_export()
            return FEEDBACK_UNAVAILABLE, None
        summary = (f"已整理 {ups} 条点赞的回答（可加入评测题库）和 {downs} 条点踩的回答"
                   "（请核对后再加入），请在下方下载。")
        return summary, [str(gold), str(review)]

    def remove_export(self) -> None:
        if self._last_export is not None:
            shutil.rmtree(self._last_export, ignore_errors=True)
            self._last_export = None

    def show_document(self, doc_id: str | None):
        documents, problem = self.documents()
        doc = next((d for d in documents if d.doc_id == doc_id), None)
        if doc is None:
            return render.error_html(problem) if problem else "", ""
        return render.document_meta(doc, len(doc.clauses)), self._versions(doc) + \
            render.clause_tree(doc)

    def _versions(self, doc: Document) -> str:
        """What changed against the work's other version (the previous one; for an old
        version, the current one)."""
        if len(doc.versions) < 2:
            return ""
        at = doc.versions.index(doc.doc_id)
        other = doc.versions[at - 1] if at > 0 else doc.versions[at + 1]
        return render.comparison_html(self.assistant.compare(other, doc.doc_id))

    def refresh(self):
        """On page load: the current document list (the index may have changed)."""
        documents, problem = self.documents()
        choices = [render.document_choice(d) for d in documents]
        first = choices[0][1] if choices else None
        notice = render.error_html(problem) if problem else ""
        meta, tree = self.show_document(first)
        return (gr.update(choices=choices), gr.update(choices=choices, value=first),
                meta, tree, gr.update(value=notice, visible=bool(problem)), _signature(choices))

    def refresh_choices(self, shown: str | None):
        """Every few seconds: the pickers' choices, only when documents were added or
        removed since (an unchanged list is not re-sent, so an open picker stays open)."""
        documents, _ = self.documents()
        choices = [render.document_choice(d) for d in documents]
        signature = _signature(choices)
        if signature == shown:
            return gr.skip(), gr.skip(), gr.skip()
        return gr.update(choices=choices), gr.update(choices=choices), signature


def _signature(choices: list[tuple[str, str]]) -> str:
    return "\n".join(doc_id for _, doc_id in choices)


def _asset(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def build_ui(assistant: Assistant, logins: PageLogins | None = None) -> gr.Blocks:
    """The chat page over `assistant`; mount it with `gr.mount_gradio_app(app, blocks, "/")`.

    `logins` is what the page's login binds (serve's `mount_ui`); every event checks it."""
    page = ChatPage(assistant, logins)
    documents, _ = page.documents()
    choices = [render.document_choice(d) for d in documents]
    backends = available_backends(assistant.settings)
    # delete_cache: Gradio's copies of the exports are removed within the hour.
    with gr.Blocks(title=TITLE, fill_width=True, delete_cache=(600, 3600)) as demo:
        gr.HTML(f"<style>{_asset(STYLE_PATH)}</style>{_header()}", js_on_load=_asset(SCRIPT_PATH),
                padding=False)
        notice = gr.HTML("", visible=False)
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                chat_widgets = _chat_tab(page, choices, backends, documents)
            with gr.Tab("文件浏览", id="documents"):
                doc_view = _documents_tab(page, choices)
            with gr.Tab("反馈导出", id="feedback"):
                _feedback_tab(page)
        shown = gr.State(None)  # the document list this tab shows (its doc_ids)
        pickers = [chat_widgets["doc_filter"], doc_view[0]]
        demo.load(page.refresh, outputs=[pickers[0], *doc_view, notice, shown])
        gr.Timer(DOCUMENTS_REFRESH_S).tick(page.refresh_choices, [shown], [*pickers, shown],
                                          show_progress="hidden")
    return demo


def _header() -> str:
    return (f'<div class="pa-header"><div class="pa-header-title">{TITLE}</div>'
            '<div class="pa-header-sub">回答只依据已收录的政策文件，每句注明文号与条款；'
            '已失效或征求意见稿文件会特别提示。</div></div>')


def _legend() -> str:
    badges = " ".join(render.status_badge(s) for s in (DocStatus.IN_FORCE, DocStatus.REPEALED,
                                                          DocStatus.DRAFT, None))
    return (f'<div class="pa-legend"><div class="pa-legend-title">文件状态</div>{badges}'
            '<div class="pa-legend-note">点击回答中的 <span class="pa-cite-demo">[1]</span> '
            '查看对应条款原文，黄色底纹为支持该句的原文。</div></div>')


def _chat_tab(page: ChatPage, choices, backends: list[str], documents) -> dict:
    turns, pending = gr.State([]), gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260, elem_classes="pa-sidebar"):
            doc_filter, in_force, backend, clear = _filters(choices, backends)
        with gr.Column(scale=4):
            chatbot, reason_row, reason, save, box, send, notice = _conversation(
                documents, page.assistant.settings.limits.max_question_chars)
    inputs = [box, turns, doc_filter, in_force, backend]
    for event in (box.submit, send.click):
        event(page.respond, inputs, [chatbot, turns, box, notice], show_progress="hidden",
              concurrency_limit=RESPOND_CONCURRENCY)
    clear.click(lambda: ([], [], None, gr.update(visible=False)), None,
                [chatbot, turns, pending, reason_row])
    # The chatbot's own 🗑 button clears only the widget: forget the turns too.
    chatbot.clear(lambda: ([], None, gr.update(visible=False)), None, [turns, pending, reason_row])
    chatbot.like(page.rate, [turns], [pending, reason_row, reason])
    for event in (save.click, reason.submit):
        event(page.save_reason, [pending, reason], [pending, reason_row, reason])
    return {"doc_filter": doc_filter}


def _filters(choices, backends: list[str]):
    doc_filter = gr.Dropdown(choices=choices, multiselect=True, label="限定文件",
                             info="不选则在全部文件中查找", elem_id="pa-doc-filter")
    in_force = gr.Checkbox(label="仅限现行有效文件", info="排除已失效文件和征求意见稿",
                           elem_id="pa-in-force")
    backend = gr.Dropdown(choices=[(render.BACKEND_NAMES.get(b, b), b) for b in backends],
                          value=backends[0], label="回答方式", visible=len(backends) > 1)
    clear = gr.Button("清空对话", variant="secondary", elem_id="pa-clear")
    gr.HTML(_legend(), padding=False)
    return doc_filter, in_force, backend, clear


def _conversation(documents, max_chars: int):
    chatbot = gr.Chatbot(label="对话", show_label=False, height=640, elem_id="pa-chat",
                         placeholder=PLACEHOLDER, feedback_options=("Like", "Dislike"),
                         buttons=["copy"], layout="bubble", autoscroll=True)
    with gr.Row(visible=False, elem_id="pa-reason-row") as reason_row:
        reason = gr.Textbox(label="原因（可选）", scale=5, elem_id="pa-reason",
                            placeholder="例如：引用的条款不对、漏了某项要求…")
        save = gr.Button("提交原因", scale=1, elem_id="pa-reason-save")
    with gr.Row():
        box = gr.Textbox(
            placeholder="输入问题，按回车发送（可以接着上一个问题追问）",
            label="问题",
            show_label=False,
            scale=6,
            elem_id="pa-question",
            autofocus=True,
        )
        send = gr.Button("发送", variant="primary", scale=1, elem_id="pa-send")
    # chat.js keeps the count current as staff type; the limit is the service's own.
    gr.HTML(f'<div id="pa-count" data-limit="{max_chars}">0/{max_chars} 字</div>', padding=False)
    notice = gr.HTML("", elem_id="pa-ask-notice-box", padding=False)
    examples = example_questions(documents)
    if examples:
        gr.Examples(examples=[[q] for q in examples], inputs=[box], label="示例问题")
    return chatbot, reason_row, reason, save, box, send, notice


def _documents_tab(page: ChatPage, choices) -> tuple[gr.Dropdown, gr.HTML, gr.HTML]:
    picker = gr.Dropdown(choices=choices, value=choices[0][1] if choices else None,
                         label="选择文件", elem_id="pa-doc-picker")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            meta = gr.HTML(elem_id="pa-doc-meta")
        with gr.Column(scale=5):
            gr.Markdown("**条款结构**（点击展开条款原文）")
            tree = gr.HTML(elem_id="pa-doc-tree")
    picker.change(page.show_document, [picker], [meta, tree])
    return picker, meta, tree


FEEDBACK_HELP = (
    "**给管理员：** 工作人员在「问答」页可以对每条回答点「赞」或「踩」，并填写原因。"
    "这些反馈都保存在本系统中，您可以在这里整理并下载：\n\n"
    "- **点赞的回答**：已整理成评测题目，交给技术人员加入评测题库后，"
    "系统每次更新都会用它们检查回答是否仍然准确。\n"
    "- **点踩的回答**：附有当时的回答和工作人员填写的原因，请业务人员核对、"
    "写出正确的出处后，再交给技术人员加入评测题库。\n\n"
    "追问会按系统理解的完整问题保存，不依赖之前的对话。")


def _feedback_tab(page: ChatPage) -> None:
    gr.Markdown(FEEDBACK_HELP, elem_id="pa-feedback-help")
    button = gr.Button("整理反馈并生成下载文件", variant="primary", elem_id="pa-export")
    summary = gr.Markdown()
    files = gr.File(label="下载文件", file_count="multiple", interactive=False)
    button.click(page.export, None, [summary, files])


def _failing(err: Exception):
    """An answer stream that fails with `err` when read."""
    raise err
    yield  # a generator: the error comes when the page reads it

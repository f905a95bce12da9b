"""HTML for the chat page, as pure functions of the core models (no gradio here).

Every string that comes from a document or a user is escaped. Markers `[n]` in an answer
become links to the source block `pa-src-<turn>-<n>` rendered under the same answer, so
several answers on one page never share an anchor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

from assistant.answer.citations import MARKER_RE
from assistant.answer.renumber import marker_order, renumber_text
from assistant.compare import ArticleChange, Comparison
from assistant.models import (
    Answer,
    Citation,
    Clause,
    DocStatus,
    Document,
    DocumentInfo,
    ScoredClause,
)

ABSTAIN_MESSAGE = "现有文件中没有找到能回答该问题的内容。"
ABSTAIN_HINT = "可以换一种问法，或在左侧放宽文件筛选后再试。"
RELATED_TITLE = "可能相关（仅供参考，并非答案）"
RELATED_LIMIT = 3
# In staff words (no product names): the 回答方式 picker and each answer's footer.
BACKEND_NAMES = {"extractive": "抽取式", "openai": "大模型（兼容接口）",
                 "langchain": "大模型（框架接入）"}

_WARN_STATUSES = (DocStatus.REPEALED, DocStatus.DRAFT, DocStatus.SUPERSEDED)
# Drawn, not a character: ⚠ and emoji are empty boxes where no font has them.
WARN_ICON = ('<svg class="pa-icon" viewBox="0 0 16 16" width="1em" height="1em" '
             'aria-hidden="true"><path d="M8 1.5 15 14.5H1z" fill="#e07b00"/>'
             '<path d="M7.3 6h1.4l-.2 4.6h-1zM7.3 11.6h1.4V13H7.3z" fill="#fff"/></svg>')
_SENTENCE_RE = re.compile(r"[^。；！？!?;\n]+[。；！？!?;]*|\n")
_MIN_OVERLAP = 0.5
# Warnings staff must see: the document's status, unverified sentences, invented 文号, fallback.
_LOUD_WORDS = ("已失效", "征求意见稿", "核实", "臆造", "改用")
# Notes of assistant/answer/pipeline.py and context.py that name developer things, by a
# phrase they contain, and what staff read instead.
_STAFF_NOTES = (("后端出错", "大模型回答出错，已改用抽取式回答。"),
                ("tokens 不足", "部分检索到的条款较长，未能全部交给大模型参考（条款不会被截断）。"))
# How the answer pipeline reports a follow-up it rewrote (assistant/answer/pipeline.py).
_REWRITE_PREFIX = "追问已改写为完整问题用于检索："


# --- small pieces
def status_badge(status: DocStatus | None) -> str:
    """失效 and 征求意见稿 in a warning colour; 有效 in green; unstated in grey."""
    if status is None:
        return '<span class="pa-badge pa-badge-none">未标注状态</span>'
    tone = "warn" if status in _WARN_STATUSES else "ok"
    return f'<span class="pa-badge pa-badge-{tone}">{escape(status.value)}</span>'


def anchor_id(turn: int, marker: int) -> str:
    return f"pa-src-{turn}-{marker}"


def link_markers(text: str, turn: int, known: Iterable[int]) -> str:
    """Escape `text` and turn each known marker [n] into a link to its source block."""
    known = set(known)

    def link(match: re.Match) -> str:
        numbers = [int(p) for p in re.split(r"[,，、]", match.group(1))]
        return "".join(_marker_link(n, turn) if n in known else f"[{n}]" for n in numbers)

    pieces, last = [], 0
    for match in MARKER_RE.finditer(text):
        pieces += [escape(text[last:match.start()]), link(match)]
        last = match.end()
    pieces.append(escape(text[last:]))
    return "".join(pieces)


def _marker_link(marker: int, turn: int) -> str:
    target = anchor_id(turn, marker)
    return (f'<a class="pa-cite" href="#{target}" data-target="{target}" '
            f'title="查看来源 {marker}">[{marker}]</a>')


def strip_markers(text: str) -> str:
    return MARKER_RE.sub("", text)


# --- highlighting the supporting sentence
def split_sentences(text: str) -> list[str]:
    """Sentences with their end punctuation; joined back they give `text` (newlines kept)."""
    return _SENTENCE_RE.findall(text)


def _bigrams(text: str) -> set[str]:
    chars = re.sub(r"\s+", "", text)
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


def _overlap(sentence: str, evidence: str) -> float:
    mine, theirs = _bigrams(sentence), _bigrams(evidence)
    if not mine or not theirs:
        return 0.0
    return len(mine & theirs) / min(len(mine), len(theirs))


def supporting_indices(sentences: Sequence[str], evidence: Iterable[str]) -> set[int]:
    """For each evidence sentence, the clause sentence that best matches it (if any matches)."""
    chosen = set()
    for claim in evidence:
        scores = [_overlap(s, claim) for s in sentences]
        if scores and max(scores) >= _MIN_OVERLAP:
            chosen.add(scores.index(max(scores)))
    return chosen


def highlight(text: str, evidence: Iterable[str]) -> str:
    """Clause text, escaped, with the sentences that support `evidence` in <mark>."""
    sentences = split_sentences(text)
    marked = supporting_indices(sentences, [strip_markers(e) for e in evidence])
    parts = []
    for i, sentence in enumerate(sentences):
        html = "<br>" if sentence == "\n" else escape(sentence)
        parts.append(f'<mark class="pa-support">{html}</mark>' if i in marked else html)
    return "".join(parts)


def evidence_for(answer: Answer, marker: int) -> list[str]:
    """The answer sentences that cite `marker` (the whole answer when none were split out)."""
    citing = [s.text for s in answer.sentences if marker in s.markers]
    return citing or ([answer.answer] if not answer.sentences else [])


# --- sources
def source_block(citation: Citation, turn: int, evidence: Iterable[str]) -> str:
    """One cited clause: 文号, title, clause label, status badge, text with support highlighted."""
    ref = escape(citation.number or "无文号")
    unsupported = (
        "" if citation.supported else '<span class="pa-badge pa-badge-warn">未能核实</span>'
    )
    summary = (f'<summary><span class="pa-marker">[{citation.marker}]</span> '
               f'<span class="pa-docno">{ref}</span> '
               f'<span class="pa-label">{escape(citation.label)}</span> '
               f'{status_badge(citation.status)}{unsupported}'
               f'<span class="pa-title">《{escape(citation.title)}》</span></summary>')
    body = f'<div class="pa-clause-text">{highlight(citation.text, evidence)}</div>'
    if citation.lead_in:  # an item reads with its article's lead-in, which may be cited too
        lead = f'<div class="pa-lead-in">所属条文：{highlight(citation.lead_in, evidence)}</div>'
        body = lead + body
    # The status warning itself is shown once above the sources (warnings_block).
    anchor = anchor_id(turn, citation.marker)
    return f'<details class="pa-source" id="{anchor}" open>{summary}{body}</details>'


def sources_block(answer: Answer, turn: int) -> str:
    if not answer.citations:
        return ""
    blocks = "".join(source_block(c, turn, evidence_for(answer, c.marker))
                     for c in answer.citations)
    return f'<div class="pa-sources"><div class="pa-sources-title">来源</div>{blocks}</div>'


def related_block(retrieved: Sequence[ScoredClause], limit: int = RELATED_LIMIT) -> str:
    """The closest clauses of an abstention, collapsed and labelled as not being the answer."""
    if not retrieved:
        return ""
    items = "".join(_related_item(s) for s in retrieved[:limit])
    return (f'<details class="pa-related"><summary>{RELATED_TITLE}</summary>'
            f'<ul class="pa-related-list">{items}</ul></details>')


def _related_item(scored: ScoredClause) -> str:
    doc, clause = scored.doc, scored.clause
    return (f'<li><span class="pa-docno">{escape(doc.number or "无文号")}</span> '
            f'<span class="pa-label">{escape(clause.label)}</span> {status_badge(doc.status)}'
            f'<span class="pa-title">《{escape(doc.title)}》</span>'
            f'<div class="pa-clause-text pa-muted">{escape(clause.text)}</div></li>')


# --- whole answers
def answer_html(answer: Answer, turn: int) -> str:
    """The final rendering of one answer: text with linked markers, warnings, sources."""
    if answer.abstained:
        return abstention_html(answer)
    known = [c.marker for c in answer.citations]
    text = link_markers(answer.answer, turn, known).replace("\n", "<br>")
    return (f'<div class="pa-answer"><div class="pa-text">{text}</div>'
            f"{warnings_block(answer)}{sources_block(answer, turn)}{footer(answer)}</div>")


def abstention_html(answer: Answer) -> str:
    return (f'<div class="pa-answer pa-abstained">{understood_block(answer)}'
            f'<div class="pa-abstain-msg">{ABSTAIN_MESSAGE}</div>'
            f'<div class="pa-hint">{ABSTAIN_HINT}</div>{related_block(answer.retrieved)}'
            f"{footer(answer)}</div>")


def streaming_html(partial: str) -> str:
    """The answer while it is still being written: markers shown, not yet linked."""
    text = escape(renumber_text(partial, marker_order(partial))).replace("\n", "<br>")
    caret = '<span class="pa-caret">▍</span>'
    return f'<div class="pa-answer pa-streaming"><div class="pa-text">{text}{caret}</div></div>'


def error_html(message: str, kind: str = "pa-answer") -> str:
    """A problem said to staff; no 赞/踩 is offered under it (chat.js hides them)."""
    return f'<div class="{kind} pa-error">{WARN_ICON}{escape(message)}</div>'


def staff_note(warning: str) -> str:
    """A pipeline note in staff wording: the notes that carry developer detail (a backend's
    name and error, a token budget) are said plainly; the detail stays in the API's reply."""
    for marker, said in _STAFF_NOTES:
        if marker in warning:
            return said
    return warning


def warnings_block(answer: Answer) -> str:
    """Status warnings (失效, 征求意见稿) up front; processing notes collapsed."""
    status = {c.warning for c in answer.citations if c.warning}
    notes = [staff_note(w) for w in answer.warnings if not w.startswith(_REWRITE_PREFIX)]
    loud = [w for w in notes if w in status or any(k in w for k in _LOUD_WORDS)]
    quiet = [w for w in notes if w not in loud]
    html = understood_block(answer)
    html += "".join(f'<div class="pa-warn">{WARN_ICON}{escape(w)}</div>' for w in loud)
    if quiet:
        notes = "".join(f"<li>{escape(w)}</li>" for w in quiet)
        html += f'<details class="pa-notes"><summary>处理说明</summary><ul>{notes}</ul></details>'
    return html


def understood_block(answer: Answer) -> str:
    """How a follow-up was understood (按上下文理解为：…), shown whether answered or refused."""
    return "".join(f'<div class="pa-info">按上下文理解为：{escape(w[len(_REWRITE_PREFIX):])}</div>'
                   for w in answer.warnings if w.startswith(_REWRITE_PREFIX))


def standalone_question(answer: Answer) -> str:
    """The question as it was understood: a follow-up's standalone form, else as asked."""
    for warning in answer.warnings:
        if warning.startswith(_REWRITE_PREFIX):
            return warning[len(_REWRITE_PREFIX):].strip() or answer.question
    return answer.question


def footer(answer: Answer) -> str:
    backend = BACKEND_NAMES.get(answer.backend, answer.backend)
    ms = answer.timings_ms.get("total")
    took = (
        ""
        if ms is None
        else f" · 用时 {ms / 1000:.1f} 秒"
        if ms >= 1000
        else f" · 用时 {ms:.0f} 毫秒"
    )
    return f'<div class="pa-footer">{escape(backend)}{took}</div>'


# --- the documents tab
def document_meta(doc: DocumentInfo, clause_count: int | None = None) -> str:
    rows = [("文号", doc.number or "无"), ("标题", doc.title), ("发文机关", doc.issuer),
            ("成文日期", doc.signed), ("发布日期", doc.published), ("地区", doc.region),
            ("来源文件", doc.source), ("条款数", clause_count)]
    cells = "".join(f"<tr><th>{name}</th><td>{escape(str(value))}</td></tr>"
                    for name, value in rows if value not in (None, ""))
    status = f"<tr><th>状态</th><td>{status_badge(doc.status)}</td></tr>"
    return f'<table class="pa-meta">{cells}{status}{validity_rows(doc)}</table>'


def validity_rows(doc: DocumentInfo) -> str:
    """What the library knows: what replaced it (with the repealing clause), how many
    versions it holds, and repealed documents it names that are not held."""
    rows = []
    if doc.status_warning() and doc.status_source == "library":
        rows.append(("效力说明", doc.status_warning()))
    if len(doc.versions) > 1:
        which = "旧版本" if doc.superseded_by else "最新版本"
        rows.append(
            ("版本", f"本库收录 {len(doc.versions)} 个版本，本文为{doc.version_label or ''}{which}")
        )
    if doc.repeals_missing:
        names = "、".join(m.target for m in doc.repeals_missing)
        rows.append(("所废止文件（未收录）", names))
    return "".join(f"<tr><th>{name}</th><td>{escape(value)}</td></tr>" for name, value in rows)


_CHANGE_NAMES = {"unchanged": "未变", "changed": "修改", "added": "新增", "removed": "删除"}


def comparison_html(comparison: Comparison) -> str:
    """Two versions side by side, article by article: changed wording marked (<del>/<ins>);
    unchanged articles are counted, not listed."""
    counts = comparison.counts
    summary = "，".join(f"{_CHANGE_NAMES[k]} {counts[k]} 条" for k in _CHANGE_NAMES)
    rows = "".join(_change_row(c) for c in comparison.changes if c.kind != "unchanged")
    return (f'<div class="pa-compare"><p><b>与{escape(comparison.old.version_ref)}比较</b>：'
            f'{summary}，重新编号 {counts["renumbered"]} 条</p>'
            f'<table class="pa-compare-table"><tr><th>{escape(comparison.old.version_ref)}</th>'
            f'<th>{escape(comparison.new.version_ref)}</th></tr>{rows}</table></div>')


def _change_row(change: ArticleChange) -> str:
    old = change.old.label if change.old else ""
    new = change.new.label if change.new else ""
    if change.kind == "changed":
        left = "".join(escape(s.text) if s.op == "equal" else f"<del>{escape(s.text)}</del>"
                       for s in change.diff if s.op != "insert")
        right = "".join(escape(s.text) if s.op == "equal" else f"<ins>{escape(s.text)}</ins>"
                        for s in change.diff if s.op != "delete")
    else:
        left = escape(change.old.text) if change.old else "（无）"
        right = escape(change.new.text) if change.new else "（删除）"
    tag = _CHANGE_NAMES[change.kind]
    return (f'<tr class="pa-change-{change.kind}"><td><b>{escape(old)}</b> {left}</td>'
            f'<td><b>{escape(new)}</b> [{tag}] {right}</td></tr>')


def clause_tree(document: Document) -> str:
    """The clause tree as nested <details>: a clause's text is one click away."""
    children: dict[str | None, list[Clause]] = {}
    for clause in document.clauses:
        children.setdefault(clause.parent_id, []).append(clause)
    return f'<div class="pa-tree">{_subtree(children, None)}</div>'


def _subtree(children: dict[str | None, list[Clause]], parent: str | None) -> str:
    return "".join(_node(children, c) for c in children.get(parent, []))


def _node(children: dict[str | None, list[Clause]], clause: Clause) -> str:
    title = clause.heading or _first_words(clause.text)
    label = clause.path[-1] if clause.path else ""
    return (f'<details class="pa-node" data-clause="{escape(clause.clause_id)}">'
            f'<summary><span class="pa-label">{escape(label)}</span> {escape(title)}</summary>'
            f'<div class="pa-clause-text">{escape(clause.text)}</div>'
            f"{_subtree(children, clause.clause_id)}</details>")


def _first_words(text: str, limit: int = 30) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit] + "…"


def document_choice(doc: DocumentInfo) -> tuple[str, str]:
    """(label shown in a dropdown, doc_id)."""
    return (f"{doc.number} {doc.title}" if doc.number else doc.title, doc.doc_id)

"""What gets embedded for a clause: each of its texts once.

A short clause is one passage: its text with its context (document title › parent
headings). A long clause is split into groups of sentences under the clause heading,
and only the first group carries the context, so every character of the clause is
embedded about once (before: the whole clause AND each group, ~2.2× the characters).
A question about one fact in a long clause matches that fact's group instead of a
diluted whole-clause vector; a clause scores its best passage. A preamble also carries
the document's metadata line (文号, 发文机关, dates, 效力), so a question about the
document itself (when was it signed, is it still in force) finds the header clause.

BM25 indexes the whole clause (`index_text`): that costs nothing to embed.
Measured on the gold set: see docs/performance.md (Passages).
"""

from __future__ import annotations

import re

from assistant.models import PREAMBLE_LABEL, Clause, DocumentInfo

PIECE_CHARS = 160
_SENTENCE_END = re.compile(r"(?<=[。；！？])")


def sentence_groups(text: str, limit: int = PIECE_CHARS) -> list[str]:
    """Consecutive sentences packed into groups of at most `limit` characters (or one sentence)."""
    groups, current = [], ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s.strip()):
        if current and len(current) + len(sentence) > limit:
            groups.append(current)
            current = ""
        current += sentence
    if current:
        groups.append(current)
    return groups


def _cn_date(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def metadata_line(info: DocumentInfo) -> str:
    """文件信息：文号 …；发文机关 …；成文日期 …；发布日期 …；效力 … (stated fields only)."""
    fields = [("文号", info.number), ("发文机关", info.issuer),
              ("成文日期", info.signed and _cn_date(info.signed)),
              ("发布日期", info.published and _cn_date(info.published)),
              ("效力", info.status and info.status.value)]
    return "文件信息：" + "；".join(f"{name} {value}" for name, value in fields if value)


def index_text(clause: Clause, info: DocumentInfo) -> str:
    """The text BM25 indexes and the clause's whole-clause passage embeds."""
    if clause.path == [PREAMBLE_LABEL]:
        return f"{metadata_line(info)}\n{clause.embed_text()}"
    return clause.embed_text()


def clause_passages(clause: Clause, info: DocumentInfo) -> list[str]:
    """The clause's index text when it is one sentence group, else its sentence groups
    under the heading, the first one with the clause's context (and metadata line)."""
    groups = sentence_groups(clause.text)
    if len(groups) < 2:
        return [index_text(clause, info)]
    head = clause.heading
    pieces = [g if not head or g.startswith(clause.path[-1]) else f"{head}：{g}" for g in groups]
    trail = " › ".join(clause.context)
    first = f"{trail}\n{pieces[0]}" if trail else pieces[0]
    if clause.path == [PREAMBLE_LABEL]:
        first = f"{metadata_line(info)}\n{first}"
    return [first, *pieces[1:]]

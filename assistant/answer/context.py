"""The context handed to a backend: numbered, delimited clause blocks within a token budget.

Each retrieved clause becomes one block `[n]` carrying its document's 文号, title,
status and dates, the clause label and the clause text. The block delimiters are
stripped from document text so a document cannot close its own block and pose as
instructions. Blocks are added best first until the budget is spent; a block that
does not fit is dropped whole (never cut) and a warning records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answer.tokens import count_tokens
from assistant.lexicon import is_article_label
from assistant.models import Clause, DocumentInfo, ScoredClause

BLOCK_OPEN = "<<<资料[{n}]>>>"
BLOCK_CLOSE = "<<<资料[{n}]结束>>>"
_DELIMITER_CHARS = str.maketrans({"<": "‹", ">": "›"})


@dataclass(frozen=True)
class ContextBlock:
    """One numbered clause as the backend sees it."""

    marker: int
    scored: ScoredClause
    text: str
    tokens: int

    @property
    def doc(self) -> DocumentInfo:
        return self.scored.doc


@dataclass
class Context:
    blocks: list[ContextBlock] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)

    @property
    def tokens(self) -> int:
        return sum(block.tokens for block in self.blocks)

    def block(self, marker: int) -> ContextBlock | None:
        return next((b for b in self.blocks if b.marker == marker), None)


def chinese_date(value) -> str | None:
    """2021-08-11 → 2021年8月11日 (None stays None)."""
    return f"{value.year}年{value.month}月{value.day}日" if value else None


def metadata_lines(doc: DocumentInfo) -> list[str]:
    """The document facts a block states, in the wording answers use."""
    rows = [
        ("文号", doc.number or "无"),
        ("标题", doc.title),
        ("发文机关", doc.issuer),
        ("成文日期", chinese_date(doc.signed)),
        ("发布日期", chinese_date(doc.published)),
        ("有效性", doc.status.value if doc.status else "未标注"),
    ]
    return [f"{name}：{value}" for name, value in rows if value]


def article_lead_in(clause: Clause) -> str | None:
    """The lead-in of the article a 款 or 项 belongs to (第二十九条 考核机构有下列情形之一的，
    …取消其两个考核周期以上的考核机构资格。), from the clause's context; None for an
    article itself or a notice's clause. An item (（二）在考核工作中有弄虚作假…的) is a
    condition; what follows from it is in the lead-in."""
    if not clause.path or is_article_label(clause.path[-1]):
        return None
    return next((c for c in clause.context if is_article_label(c.split(" ", 1)[0])), None)


def render_block(marker: int, scored: ScoredClause) -> str:
    clause = scored.clause
    body = clause.text.translate(_DELIMITER_CHARS)
    lead = article_lead_in(clause)
    lines = [BLOCK_OPEN.format(n=marker), *metadata_lines(scored.doc), f"条款：{clause.label}",
             *([f"所属条文：{lead}"] if lead else []), "正文：", body, BLOCK_CLOSE.format(n=marker)]
    return "\n".join(line.translate(_DELIMITER_CHARS) if i not in (0, len(lines) - 1) else line
                     for i, line in enumerate(lines))


def build_context(retrieved: list[ScoredClause], budget_tokens: int | None) -> Context:
    """Blocks for `retrieved` (best first) that fit in `budget_tokens` (None: no limit).

    Without a budget (the extractive backend) tokens are not counted: `tokens` stays 0.
    """
    context = Context()
    left_out = []
    for scored in retrieved:
        marker = len(context.blocks) + 1
        text = render_block(marker, scored)
        tokens = count_tokens(text) if budget_tokens is not None else 0
        if budget_tokens is not None and context.tokens + tokens > budget_tokens:
            left_out.append(f"{scored.doc.short_ref} {scored.clause.label}（{tokens} tokens）")
            continue
        context.blocks.append(ContextBlock(marker, scored, text, tokens))
    if left_out:
        context.warnings.append(
            f"上下文预算 {budget_tokens} tokens 不足，{len(left_out)} 个检索到的"
            f"条款未整条纳入（不截断条款）：{'；'.join(left_out)}。"
        )
    return context

"""Rewrite an elliptical follow-up (那开州区呢？) into a standalone retrieval query.

Deterministic, so it works with the extractive backend: the new entity (a place or a
year) replaces the one in the previous user question, or is prefixed to it.
LLM backends also receive the history itself.
"""

from __future__ import annotations

import re

from assistant.answer.terms import places, years

_LEAD_RE = re.compile(r"^(那么|那|还有|另外|再问一下|如果是)\s*")
_TAIL_RE = re.compile(r"(的情况|怎么样|又如何|如何)?\s*(呢|吗)?\s*[？?。!！]*$")
MAX_FOLLOWUP_CHARS = 16


def is_followup(question: str) -> bool:
    q = question.strip()
    return len(q) <= MAX_FOLLOWUP_CHARS and bool(_LEAD_RE.match(q) or re.search(r"呢\s*[？?]?$", q))


def previous_question(history: list[dict] | None) -> str | None:
    for turn in reversed(history or []):
        if turn.get("role") == "user" and str(turn.get("content", "")).strip():
            return str(turn["content"]).strip()
    return None


def rewrite_followup(question: str, history: list[dict] | None) -> str:
    """The question to retrieve with: standalone questions are returned unchanged."""
    previous = previous_question(history)
    if not previous or not is_followup(question):
        return question
    entity = _TAIL_RE.sub("", _LEAD_RE.sub("", question.strip())).strip()
    if not entity:
        return previous
    if years(entity) and years(previous):
        return previous.replace(years(previous)[0], years(entity)[0], 1)
    for old in places(previous):
        return previous.replace(old, entity, 1)
    return f"{entity}{previous}"

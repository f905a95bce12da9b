"""Kept for old imports: follow-up rewriting lives in `assistant.query`."""

from assistant.query import is_followup, previous_question, rewrite_followup  # noqa: F401

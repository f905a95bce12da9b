"""Clause numbering markers (kept for old imports): the recognisers live in assistant.lexicon."""

from __future__ import annotations

from assistant.lexicon import (
    CIRCLED,
    CN_DIGITS,
    CN_UNITS,
    Marker,
    cn_to_int,
    int_to_cn,
    make_label,
    match_marker,
    normalise_clause_ref,
)

__all__ = ["CIRCLED", "CN_DIGITS", "CN_UNITS", "Marker", "cn_to_int", "int_to_cn", "make_label",
           "match_marker", "normalise_clause_ref"]

"""Kept for old imports: the question analysis lives in `assistant.query`."""

from assistant.query import (  # noqa: F401
    STOPWORDS,
    asked_status,
    asked_units,
    asks_duty,
    content_terms,
    doc_numbers,
    meta_kinds,
    place_forms,
    places,
    quoted_terms,
    spans_documents,
    states_quantity,
    years,
)

"""The service: the one typed entry point that the CLI, the HTTP API and the chat page call.

One module per job: `assistant` (the Assistant: search, ask, documents), `ingest` (files into
the index), `request_rules` (limits and rate limits every caller obeys), `audit` and
`feedback` (their stores, on `database`), `warmup` (load before serving).
"""

from assistant.service.assistant import (
    Assistant,
    analyse_question,
    answer_question,
    stream_answer,
)
from assistant.service.ingest import ingest_into_index

__all__ = ["Assistant", "analyse_question", "answer_question", "ingest_into_index",
           "stream_answer"]

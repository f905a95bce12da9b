"""Ingest orchestration: files → Documents (`assistant.ingest`) → the index (`assistant.stores`).

The ingest stage stops at Documents; writing them into a store is the service's job, so that
the CLI, the API upload and `Assistant.ingest` drive the same two steps.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from assistant.ingest.pipeline import IngestReport, Progress, ingest_files, ms_since
from assistant.settings import Settings
from assistant.stores.backends import write_index


def ingest_into_index(paths: Sequence[Path | str], settings: Settings,
                      progress: Progress | None = None, *,
                      replace_all: bool = False, exclude: Sequence[str] = ()) -> IngestReport:
    """Ingest the files and upsert the good documents into the index (built aside, swapped).
    The index is only touched when at least one document is good. `exclude`: globs of file
    names skipped inside folders."""
    documents, report = ingest_files(paths, settings, progress, exclude)
    if not documents:
        report.warnings.append("no document could be ingested; the index was left unchanged")
        return report
    started = time.perf_counter()
    write_index(documents, settings, replace_all=replace_all, progress=progress)
    report.indexed = True
    report.timings_ms["index"] = ms_since(started)
    return report

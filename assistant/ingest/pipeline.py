"""Ingest a batch of files: load → build a `Document` each, reported in an `IngestReport`.

One bad file never spoils the batch: it becomes a `FileError` in the `IngestReport`
and the rest go in. Ingest stops at Documents: the service writes them into the index
(`assistant.service.ingest.ingest_into_index`).
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from assistant.errors import AssistantError, LoadError
from assistant.ingest.loaders import load_file, supported_extensions
from assistant.ingest.ocr import OcrReader, ocr_reader
from assistant.models import DocStatus, Document, OcrInfo
from assistant.settings import Settings


class Progress(Protocol):
    def __call__(self, stage: str, done: int, total: int) -> None:
        """Called as work advances: `done` of `total` steps of `stage` are finished."""
        ...


class DocumentSummary(BaseModel):
    doc_id: str
    source: str
    number: str | None = None
    title: str
    status: DocStatus | None = None
    clauses: int = Field(description="number of clauses (preamble and closing included)")
    warnings: list[str] = Field(default_factory=list)
    ocr: OcrInfo | None = Field(None, description="pages read by OCR and their confidence")

    @classmethod
    def of(cls, doc: Document) -> DocumentSummary:
        return cls(doc_id=doc.doc_id, source=doc.source, number=doc.number, title=doc.title,
                   status=doc.status, clauses=len(doc.clauses), warnings=list(doc.warnings),
                   ocr=doc.ocr)


class FileError(BaseModel):
    path: str
    code: str = Field(description="missing | empty | too_large | binary | undecodable | "
                                  "unsupported | corrupt | no_text | encrypted | unreadable | "
                                  "parse_failed")
    message: str


class IngestReport(BaseModel):
    """What `assistant ingest --json` prints and the API returns after an upload."""

    documents: list[DocumentSummary] = Field(default_factory=list)
    errors: list[FileError] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    indexed: bool = Field(False, description="the index was rewritten with these documents")
    timings_ms: dict[str, float] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """At least one document went in."""
        return bool(self.documents)


def expand_paths(paths: Iterable[Path | str], exclude: Sequence[str] = ()) -> list[Path]:
    """Files named, plus supported files under directories (recursive, hidden ones skipped,
    and those whose name matches an `exclude` glob: a folder's SOURCES.md or README.md).

    A named file is kept whatever its type, so an unsupported one is reported, not ignored.
    """
    files: dict[Path, Path] = {}  # resolved → as given; a file named twice is read once
    for path in map(Path, paths):
        for found in _files_under(path, exclude) if path.is_dir() else [path]:
            files.setdefault(found.resolve(), found)
    return list(files.values())


def _files_under(folder: Path, exclude: Sequence[str] = ()) -> list[Path]:
    wanted = set(supported_extensions())
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # never descend into .git etc.
        found.extend(Path(root) / name for name in names
                     if not name.startswith(".") and Path(name).suffix.lower() in wanted
                     and not any(fnmatch.fnmatch(name, pattern) for pattern in exclude))
    return sorted(found)


def ingest_files(
    paths: Sequence[Path | str], settings: Settings, progress: Progress | None = None,
    exclude: Sequence[str] = (),
) -> tuple[list[Document], IngestReport]:
    """Load and parse every file; bad files become report errors, duplicates warnings."""
    started = time.perf_counter()
    files = expand_paths(paths, exclude)
    report = IngestReport()
    documents: dict[str, Document] = {}
    ocr = _ocr_reader(settings, progress)
    for done, path in enumerate(files, 1):
        for document in _ingest_one(path, settings, report, ocr):
            _keep_unless_duplicate(document, documents, report)
        if progress:
            progress("parse", done, len(files))
    if not files:
        report.warnings.append("no supported files found in " + ", ".join(map(str, paths)))
    report.timings_ms["parse"] = ms_since(started)
    return list(documents.values()), report


def _ocr_reader(settings: Settings, progress: Progress | None) -> OcrReader | None:
    """The OCR engine of the settings; each page read is reported as stage "ocr"."""
    step = (lambda done, total: progress("ocr", done, total)) if progress else None
    return ocr_reader(settings.ingest.ocr, settings.ingest.ocr_dpi, step)


def _ingest_one(path: Path, settings: Settings, report: IngestReport,
                ocr: OcrReader | None = None) -> list[Document]:
    """The file's documents: one, or several where the file runs a collection together."""
    from assistant.ingest.document import build_documents

    try:
        loaded = load_file(path, settings.ingest.max_file_bytes, ocr)
        found = build_documents(loaded.text, loaded.source, encoding=loaded.encoding,
                                fmt=loaded.fmt, title_hint=loaded.title)
    except LoadError as err:
        report.errors.append(FileError(path=str(path), code=err.code, message=err.reason))
        return []
    except Exception as err:  # noqa: BLE001 - a parser bug on one file must not lose the batch
        report.errors.append(FileError(path=str(path), code="parse_failed",
                                       message=_parse_failure(err)))
        return []
    if len(found) > 1:
        report.warnings.append(f"{path.name}: split into {len(found)} documents")
    if loaded.warnings or loaded.ocr:
        found = [d.model_copy(update={"warnings": d.warnings + loaded.warnings, "ocr": loaded.ocr})
                 for d in found]
    return found


def _parse_failure(err: Exception) -> str:
    if isinstance(err, AssistantError):
        return str(err)
    return f"could not parse the document ({type(err).__name__}: {err})"


def _keep_unless_duplicate(
    document: Document, documents: dict[str, Document], report: IngestReport
) -> None:
    first = documents.get(document.doc_id)
    if first is not None:
        report.warnings.append(
            f"{document.source}: same document as {first.source} "
            f"({document.short_ref}, doc_id {document.doc_id}); skipped")
        return
    documents[document.doc_id] = document
    report.documents.append(DocumentSummary.of(document))


def ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)

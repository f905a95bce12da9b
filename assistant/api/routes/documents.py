"""Documents: list, read (with the clause tree), one clause; upload and delete (admin).

Writes go through `Assistant.ingest` / `Assistant.delete`, which build the new index
aside and swap it in; `ApiState.write_lock` keeps writers in this process in line.
Queries in flight keep the store they started with.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, UploadFile

from assistant.api.deps import Admin, AssistantDep, Reader, StateDep
from assistant.api.problems import ApiError
from assistant.api.schemas import ClauseDetail, Deleted, DocumentDetail, DocumentList, DocumentRow
from assistant.compare import Comparison
from assistant.ingest.loaders import supported_extensions
from assistant.ingest.pipeline import IngestReport
from assistant.models import Clause, Document

router = APIRouter(prefix="/v1/documents", tags=["documents"])

_NOT_FOUND = {404: {"description": "unknown document or clause (problem+json)"}}
_CHUNK = 1 << 16


def document_row(doc: Document) -> dict:
    return {**doc.info().model_dump(mode="json"), "clauses": len(doc.clauses),
            "warnings": doc.warnings}


def clause_out(clause: Clause) -> dict:
    return {"clause_id": clause.clause_id, "kind": clause.kind, "path": clause.path,
            "label": clause.label, "heading": clause.heading, "text": clause.text,
            "units": clause.units, "parent_id": clause.parent_id}


@router.get("", response_model=DocumentList)
def list_documents(principal: Reader, assistant: AssistantDep):
    return {"documents": [document_row(d) for d in assistant.documents()]}


@router.get("/{doc_id}", response_model=DocumentDetail, responses=_NOT_FOUND)
def get_document(doc_id: str, principal: Reader, assistant: AssistantDep):
    """One document by doc_id (or 文号, or title) with all its clauses in reading order."""
    doc = assistant.document(doc_id)
    return {**doc.info().model_dump(mode="json"), "warnings": doc.warnings,
            "clauses": [clause_out(c) for c in doc.clauses]}


@router.get("/{doc_id}/clauses/{clause_id}", response_model=ClauseDetail, responses=_NOT_FOUND)
def get_clause(doc_id: str, clause_id: str, principal: Reader, assistant: AssistantDep):
    """One clause by clause_id or label (e.g. 一、（一）)."""
    doc = assistant.document(doc_id)
    clause = assistant.clause(doc.doc_id, clause_id)
    return {**clause_out(clause), "document": doc.info().model_dump(mode="json"),
            "context": clause.context}


@router.get("/{doc_id}/compare/{other_id}", response_model=Comparison, responses=_NOT_FOUND)
def compare_documents(doc_id: str, other_id: str, principal: Reader, assistant: AssistantDep):
    """Two versions of a rule aligned article by article: unchanged, changed (with the
    wording diff), added, removed, renumbered. Older first, whichever order given."""
    return assistant.compare(doc_id, other_id)


@router.post("", status_code=201, response_model=IngestReport, responses={
    413: {"description": "file too large"}, 415: {"description": "unsupported file type"},
    422: {"description": "the file could not be read or parsed; nothing changed"}})
def upload_document(file: UploadFile, principal: Admin, state: StateDep):
    """Add (or replace) one document: .txt, .md, .html, .docx or .pdf. Admin only."""
    name = _safe_name(file.filename or "")
    _check_type(name)
    with tempfile.TemporaryDirectory(prefix="assistant-upload-") as folder:
        path = Path(folder) / name
        _save(file, path, state.settings.limits.max_upload_bytes)
        with state.write_lock:
            report = state.assistant.ingest([path])
    if not report.ok:
        raise _rejected(report, name)
    return report


@router.delete("/{doc_id}", response_model=Deleted, responses=_NOT_FOUND)
def delete_document(doc_id: str, principal: Admin, state: StateDep):
    """Remove a document and its clauses from the index. Admin only."""
    with state.write_lock:
        doc = state.assistant.document(doc_id)
        state.assistant.delete(doc.doc_id)
        left = len(state.assistant.documents())
    return {"deleted": DocumentRow(**document_row(doc)), "documents": left}


def _safe_name(filename: str) -> str:
    # Only the base name, and only characters that are safe in a path (CJK kept).
    base = Path(filename.replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\-（）()〔〕\[\]]+", "_", base).lstrip(".")
    return cleaned[:120] or "upload"


def _check_type(name: str) -> None:
    allowed = supported_extensions()
    suffix = Path(name).suffix.lower()
    if suffix not in allowed:
        raise ApiError(415, "Unsupported file type",
                       f"{name!r}: files of type {suffix or '(no extension)'!r} are not "
                       f"supported; send one of {', '.join(allowed)}")


def _save(upload: UploadFile, path: Path, limit: int) -> None:
    size = 0
    with path.open("wb") as out:
        while chunk := upload.file.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise ApiError(413, "File too large",
                               f"the upload exceeds the limit of {limit} bytes "
                               "(ASSISTANT_LIMITS__MAX_UPLOAD_BYTES)")
            out.write(chunk)


def _rejected(report: IngestReport, name: str) -> ApiError:
    if report.errors:
        error = report.errors[0]
        return ApiError(422, "Unreadable document", f"{name}: {error.message}", code=error.code)
    reason = "; ".join(report.warnings) or "no document could be read from it"
    return ApiError(422, "Unreadable document", f"{name}: {reason}", code="no_document")

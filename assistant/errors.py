"""Domain errors. Each carries a specific, user-facing message; none is a bare crash."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: a problem the user can act on; `str(err)` says what and how.

    `staff` is the same problem said for office staff on the chat page (Chinese, no
    setting names or developer words); None where the page's generic wording fits.
    """

    def __init__(self, *args: object, staff: str | None = None) -> None:
        super().__init__(*args)
        self.staff = staff


class LoadError(AssistantError):
    """A file could not be read as a document (empty, binary, undecodable, too large, ...)."""

    def __init__(self, path: str, reason: str, code: str = "unreadable") -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.code = code


class IndexNotBuiltError(AssistantError):
    """No index exists where the settings point."""


class IndexMismatchError(AssistantError):
    """The index on disk was built with other settings (embedder, model, dim)."""


class UnknownDocumentError(AssistantError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no document matches {ref!r} (give a doc_id, 文号 or title)")
        self.ref = ref


class UnknownClauseError(AssistantError):
    def __init__(self, doc_ref: str, clause_ref: str) -> None:
        super().__init__(f"document {doc_ref!r} has no clause {clause_ref!r}")


class BackendError(AssistantError):
    """An LLM backend failed (timeout, server error, malformed reply, context overflow)."""


class RegistryError(AssistantError):
    """An unknown name was asked of a registry (embedder, backend, loader)."""

"""Domain errors. Each carries a specific, user-facing message; none is a bare crash."""

from __future__ import annotations

import errno


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


class ConcurrentChangeError(AssistantError):
    """Another writer published while this one built; the caller rebuilds on top of it."""


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


class StorageError(AssistantError):
    """The disk refused a write: it is full (`full`), or the process may not write there."""

    def __init__(self, message: str, full: bool) -> None:
        super().__init__(message)
        self.full = full


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_NOT_ALLOWED = {errno.EACCES, errno.EPERM, errno.EROFS}


def storage_error(err: BaseException) -> StorageError | None:
    """The `StorageError` an OSError (anywhere in `err`'s chain) means, or None.

    The message says what to do and names no path (an API caller sees it); the path goes
    to the server log with the original error.
    """
    while err is not None:
        if isinstance(err, StorageError):
            return err
        if isinstance(err, OSError) and err.errno in _DISK_FULL:
            return StorageError("磁盘已满 (disk full): the server could not write its data; "
                                "free space on the index disk (or raise the quota) and retry. "
                                "The index in service is unchanged.", full=True)
        if isinstance(err, OSError) and err.errno in _NOT_ALLOWED:
            return StorageError("没有写入权限 (permission denied): the server may not write its "
                                "data folder; the administrator must give the service's user "
                                "write access (or a writable ASSISTANT_PATHS__INDEX_DIR). "
                                "The index in service is unchanged.", full=False)
        err = err.__cause__ or err.__context__
    return None

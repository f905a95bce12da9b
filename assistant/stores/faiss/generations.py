"""The FAISS backend's write side: build a generation aside, fsync it, swap CURRENT.

A failure anywhere leaves the live index untouched. Every file of a generation and its
folder are fsynced before the CURRENT pointer moves, and the pointer itself before its
rename is made durable, so a power cut never leaves CURRENT naming a half-written
generation. A writer killed mid-build leaves `.g….building`; the next writer (which
holds the write lock, so no build is running) removes it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.models import Document
from assistant.settings import Settings
from assistant.stores.build import Prepared, prepare
from assistant.stores.faiss.dense import DenseIndex
from assistant.stores.faiss.store import IndexStore
from assistant.stores.layout import (
    KEEP_GENERATIONS,
    Progress,
    current_generation,
    generations_dir,
    read_documents,
)
from assistant.stores.sparse import SparseIndex


@contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Serialise writers; entering it also clears what killed writers left behind."""
    settings.paths.index_dir.mkdir(parents=True, exist_ok=True)
    with (settings.paths.index_dir / ".write.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            remove_leftover_builds(settings)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_leftover_builds(settings: Settings) -> list[Path]:
    """Delete staging folders of killed builds. Only call while holding the write lock."""
    folder = generations_dir(settings)
    leftovers = sorted(folder.glob(".g*.building")) if folder.is_dir() else []
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    for stray in settings.paths.index_dir.glob(".CURRENT.*.tmp"):
        stray.unlink(missing_ok=True)
    return leftovers


def existing_documents(settings: Settings) -> list[Document]:
    generation = current_generation(settings)
    return read_documents(generation) if generation else []


def publish(documents: list[Document], settings: Settings,
            progress: Progress | None) -> IndexStore:
    generations = generations_dir(settings)
    generations.mkdir(parents=True, exist_ok=True)
    name = f"g{time.time_ns()}"
    target = generations / name
    staging = generations / f".{name}.building"
    try:
        staging.mkdir()
        write_generation(prepare(documents, settings, progress), settings, staging, name,
                         progress)
        fsync_tree(staging)
        os.replace(staging, target)
        fsync_path(generations)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_pointer(settings, name)
    collect_garbage(settings, keep=name)
    return IndexStore.load(target, settings)


def write_generation(prepared: Prepared, settings: Settings, directory: Path, name: str,
                     progress: Progress | None) -> None:
    clauses = len(prepared.pairs)
    if progress:
        progress("index", 0, clauses)
    dense = DenseIndex.build(prepared.vectors, prepared.owners, settings.index.exact_search_max)
    dense.save(directory)
    if clauses:
        SparseIndex.build(prepared.texts).save(directory / "bm25")
    with (directory / "documents.jsonl").open("w", encoding="utf-8") as out:
        for document in prepared.documents:
            out.write(document.model_dump_json() + "\n")
    rows = [clause.clause_id for clause, _ in prepared.pairs]
    (directory / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
    manifest = prepared.manifest(name, dense.kind, settings)
    (directory / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    if progress:
        progress("index", clauses, clauses)


def fsync_path(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(root: Path) -> None:
    """fsync every file, then every folder bottom-up (a folder holds its entries' names)."""
    folders = []
    for folder, _, files in os.walk(root):
        for name in files:
            fsync_path(Path(folder) / name)
        folders.append(Path(folder))
    for folder in reversed(folders):
        fsync_path(folder)


def swap_pointer(settings: Settings, name: str) -> None:
    pointer = settings.paths.index_dir / "CURRENT"
    temporary = settings.paths.index_dir / f".CURRENT.{os.getpid()}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, pointer)  # atomic on POSIX: readers see the old or the new name
    fsync_path(settings.paths.index_dir)  # make the rename itself durable


def collect_garbage(settings: Settings, keep: str) -> None:
    """Delete all but the newest generations."""
    folder = generations_dir(settings)
    generations = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith("g"))
    survivors = {keep} | {p.name for p in generations[-KEEP_GENERATIONS:]}
    for path in [p for p in generations if p.name not in survivors]:
        shutil.rmtree(path, ignore_errors=True)

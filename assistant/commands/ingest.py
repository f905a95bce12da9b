"""`assistant ingest [PATH ...]`: load, parse and index documents, then print a report."""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path

from assistant.commands._output import Column, table
from assistant.commands._output import console as make_console


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest", help="add documents (files or folders) to the index",
        description="Load .txt/.md/.html/.docx/.pdf files (folders recursively), parse them "
                    "into clauses and add them to the index. Bad files are reported and "
                    "skipped; the rest go in. Exit code 1 if no document went in.")
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or folders (default: the sample corpus, "
                             "ASSISTANT_PATHS__CORPUS_DIR)")
    parser.add_argument("--replace", action="store_true",
                        help="rebuild the index from these documents only (default: add/update)")
    parser.add_argument("--rebuild", action="store_true",
                        help="re-embed the documents already indexed with the current settings "
                             "(after changing the embedder); reads no files")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="skip files in the folders whose name matches GLOB (repeatable), "
                             "e.g. --exclude SOURCES.md --exclude 'README*'")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.cli import settings_from_args
    from assistant.commands._output import print_json
    from assistant.service import ingest_into_index

    settings = settings_from_args(args)
    if args.rebuild:
        return _rebuild(args, settings)
    paths = args.paths or [settings.paths.corpus_dir]
    with _progress_bar() as progress:
        report = ingest_into_index(paths, settings, progress, replace_all=args.replace,
                                   exclude=args.exclude)
    if args.json:
        print_json(report.model_dump(mode="json"))
    else:
        from assistant.stores.backends import where

        _print_report(report, where(settings))
    return 0 if report.ok else 1


def _rebuild(args: argparse.Namespace, settings) -> int:
    from assistant.commands._output import print_json
    from assistant.errors import AssistantError
    from assistant.stores.backends import reindex, where

    if args.paths or args.replace:
        raise AssistantError("--rebuild re-embeds the indexed documents; give no PATH or --replace")
    with _progress_bar() as progress:
        store = reindex(settings, progress)
    summary = {"documents": len(store.documents),
               "clauses": sum(len(d.clauses) for d in store.documents),
               "embedder": settings.index.embedder, "index_dir": str(settings.paths.index_dir)}
    if args.json:
        print_json(summary)
    else:
        print(f"rebuilt {summary['documents']} document(s), {summary['clauses']} clauses "
              f"with {settings.index.embedder} in {where(settings)}")
    return 0


_STAGES = {"parse": "reading files", "ocr": "OCR (pages of a scan)", "embed": "embedding clauses",
           "index": "writing the index"}


@contextmanager
def _progress_bar():
    """A rich progress bar on stderr; yields the pipeline's progress callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True) as bar:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _print_report(report, index_dir: Path | str) -> None:
    console = make_console()
    if report.documents:
        console.print(_documents_table(report))
    for doc in report.documents:
        for warning in doc.warnings:
            console.print(f"  {doc.source}: {warning}", markup=False, highlight=False)
    if report.errors:
        console.print(_errors_table(report))
    for warning in report.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)
    console.print(_summary_line(report, index_dir), highlight=False)


# English like every message of the CLI; identifiers and dates never cut (see _output).
_DOCUMENT_COLUMNS = [Column("doc_id", keep=True), Column("number (文号)", keep=True),
                     Column("title / file"), Column("status", keep=True),
                     Column("clauses", keep=True, justify="right"),
                     Column("warnings", keep=True, justify="right")]
_ERROR_COLUMNS = [Column("file"), Column("error", keep=True), Column("reason")]


def _documents_table(report):
    rows = [[doc.doc_id, doc.number or "—", f"{doc.title}\n{doc.source}",
             doc.status.value if doc.status else "—", str(doc.clauses), str(len(doc.warnings))]
            for doc in report.documents]
    return table(_DOCUMENT_COLUMNS, rows, title="Documents")


def _errors_table(report):
    rows = [[error.path, error.code, error.message] for error in report.errors]
    return table(_ERROR_COLUMNS, rows, title="Files skipped")


def _summary_line(report, index_dir: Path | str) -> str:
    clauses = sum(doc.clauses for doc in report.documents)
    where = f"into {index_dir}" if report.indexed else "(index unchanged)"
    line = f"{len(report.documents)} document(s), {clauses} clauses {where}"
    return line + (f"; {len(report.errors)} file(s) skipped" if report.errors else "")

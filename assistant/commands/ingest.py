"""`assistant ingest [PATH ...]`: load, parse and index documents, then print a report."""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest", help="add documents (files or folders) to the index",
        description="Load .txt/.md/.html/.docx/.pdf files (folders recursively), parse them "
                    "into clauses and add them to the index. Bad files are reported and "
                    "skipped; the rest go in. Exit code 1 if no document went in.")
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or folders (default: the sample corpus, ASSISTANT_CORPUS_DIR)")
    parser.add_argument("--replace", action="store_true",
                        help="rebuild the index from these documents only (default: add/update)")
    parser.add_argument("--rebuild", action="store_true",
                        help="re-embed the documents already indexed with the current settings "
                             "(after changing the embedder); reads no files")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.cli import settings_from_args
    from assistant.commands._output import print_json
    from assistant.ingest.pipeline import ingest_into_index

    settings = settings_from_args(args)
    if args.rebuild:
        return _rebuild(args, settings)
    paths = args.paths or [settings.corpus_dir]
    with _progress_bar() as progress:
        report = ingest_into_index(paths, settings, progress, replace_all=args.replace)
    if args.json:
        print_json(report.model_dump(mode="json"))
    else:
        from assistant.indexing.backends import where

        _print_report(report, where(settings))
    return 0 if report.ok else 1


def _rebuild(args: argparse.Namespace, settings) -> int:
    from assistant.commands._output import print_json
    from assistant.errors import AssistantError
    from assistant.indexing.backends import reindex, where

    if args.paths or args.replace:
        raise AssistantError("--rebuild re-embeds the indexed documents; give no PATH or --replace")
    with _progress_bar() as progress:
        store = reindex(settings, progress)
    summary = {"documents": len(store.documents),
               "clauses": sum(len(d.clauses) for d in store.documents),
               "embedder": settings.embedder, "index_dir": str(settings.index_dir)}
    if args.json:
        print_json(summary)
    else:
        print(f"rebuilt {summary['documents']} document(s), {summary['clauses']} clauses "
              f"with {settings.embedder} in {where(settings)}")
    return 0


_STAGES = {"parse": "reading files", "embed": "embedding clauses", "index": "writing the index"}


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
    from rich.console import Console

    console = Console()
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


def _documents_table(report):
    from rich.table import Table

    table = Table(title="Documents", title_justify="left", show_edge=False)
    # Narrow terminals: the file name gives way first, the title keeps room to wrap.
    table.add_column("source", max_width=10, no_wrap=True, overflow="ellipsis")
    table.add_column("文号", overflow="fold")  # CJK has no spaces to wrap at: fold instead
    table.add_column("title", min_width=14, overflow="fold")
    table.add_column("status", overflow="fold")
    table.add_column("clauses", justify="right")
    table.add_column("warnings", justify="right")
    for doc in report.documents:
        table.add_row(*_cells(doc.source, doc.number or "—", doc.title,
                              doc.status.value if doc.status else "—", str(doc.clauses),
                              str(len(doc.warnings))))
    return table


def _errors_table(report):
    from rich.table import Table

    table = Table(title="Files skipped", title_justify="left", show_edge=False)
    table.add_column("file", overflow="fold")
    table.add_column("error", no_wrap=True)
    table.add_column("reason", ratio=1)
    for error in report.errors:
        table.add_row(*_cells(error.path, error.code, error.message))
    return table


def _cells(*values: str) -> list:
    """Plain text cells: a title like 「[2021]」 must not be read as rich markup."""
    from rich.text import Text

    return [Text(value) for value in values]


def _summary_line(report, index_dir: Path | str) -> str:
    clauses = sum(doc.clauses for doc in report.documents)
    where = f"into {index_dir}" if report.indexed else "(index unchanged)"
    line = f"{len(report.documents)} document(s), {clauses} clauses {where}"
    return line + (f"; {len(report.errors)} file(s) skipped" if report.errors else "")

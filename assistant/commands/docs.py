"""`assistant docs`: the documents in the index, one row (or JSON object) each."""

from __future__ import annotations

import argparse

from assistant.models import Document


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("docs", help="list indexed documents")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(func=run)


def document_row(doc: Document) -> dict:
    """The per-document summary shared by `docs --json` and the API."""
    row = doc.info().model_dump(mode="json")
    row["clauses"] = len(doc.clauses)
    row["warnings"] = doc.warnings
    return row


def run(args: argparse.Namespace) -> int:
    from assistant.cli import settings_from_args
    from assistant.commands._output import print_json
    from assistant.service import Assistant

    documents = Assistant(settings_from_args(args)).documents()
    rows = [document_row(d) for d in documents]
    if args.json:
        print_json(rows)
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("doc_id", "文号", "标题", "发文机关", "成文日期", "状态", "条款")
    for row in rows:
        table.add_row(row["doc_id"], row["number"] or "—", row["title"], row["issuer"] or "—",
                      row["signed"] or "—", row["status"] or "未标注", str(row["clauses"]))
    Console().print(table)
    return 0

"""`assistant docs`: the documents in the index, one row (or JSON object) each."""

from __future__ import annotations

import argparse

from assistant.commands._output import Column, console, table
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
    console().print(documents_table(rows))
    return 0


# The headers are the `--json` keys, in English like every message of the CLI.
_COLUMNS = [Column("doc_id", keep=True), Column("number (文号)", keep=True),
            Column("title / issuer"), Column("signed", keep=True), Column("status", keep=True),
            Column("clauses", keep=True, justify="right"), Column("ocr", keep=True)]


def documents_table(rows: list[dict]):
    """doc_id, 文号, dates, status and counts whole on one line; title and issuer wrap."""
    cells = [[row["doc_id"], row["number"] or "—",
              row["title"] + (f"\n（{row['issuer']}）" if row["issuer"] else ""),
              row["signed"] or row["published"] or "—", row["status"] or "—",
              str(row["clauses"]), ocr_cell(row.get("ocr"))] for row in rows]
    return table(_COLUMNS, cells)


def ocr_cell(ocr: dict | None) -> str:
    """"—" for a document with a text layer; else the OCR'd page count and mean confidence."""
    if not ocr:
        return "—"
    confidence = f"{ocr['confidence']:.2f}" if ocr.get("confidence") is not None else "n/a"
    unread = f", {len(ocr['unread'])} unread" if ocr.get("unread") else ""
    return f"{len(ocr['pages'])} p, {confidence}{unread}"

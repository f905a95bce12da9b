"""`assistant show DOC [CLAUSE]`: a document with its clause tree, or one clause."""

from __future__ import annotations

import argparse

from assistant.models import Clause, Document


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("show", help="show a document (doc_id, 文号 or title) or one clause")
    parser.add_argument("doc", help="doc_id, 文号 or title")
    parser.add_argument("clause", nargs="?", help="clause_id or label, e.g. 一、（一） or (十四)")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def clause_row(clause: Clause) -> dict:
    return {
        "clause_id": clause.clause_id,
        "kind": clause.kind,
        "path": clause.path,
        "label": clause.label,
        "heading": clause.heading,
        "text": clause.text,
        "units": clause.units,
        "start": clause.start,
        "end": clause.end,
        "parent_id": clause.parent_id,
    }


def document_detail(doc: Document) -> dict:
    from assistant.commands.docs import document_row

    return document_row(doc) | {"clauses": [clause_row(c) for c in doc.clauses]}


def run(args: argparse.Namespace) -> int:
    from assistant.cli import settings_from_args
    from assistant.commands._output import print_json
    from assistant.service.assistant import Assistant, resolve_clause

    document = Assistant(settings_from_args(args)).document(args.doc)
    if args.clause:
        clause = resolve_clause(document, args.clause)
        payload = clause_row(clause) | {"doc_id": document.doc_id, "number": document.number,
                                        "title": document.title}
        if args.json:
            print_json(payload)
        else:
            print(f"{document.short_ref} {clause.label}\n{clause.text}")
        return 0
    if args.json:
        print_json(document_detail(document))
        return 0
    _print_tree(document)
    return 0


def _print_tree(document: Document) -> None:
    print(f"{document.short_ref}  {document.title}")
    status = document.status.value if document.status else "未标注"
    print(
        f"发文机关: {document.issuer or '—'}  成文: {document.signed or '—'}  "
        f"发布: {document.published or '—'}  状态: {status}"
    )
    for clause in document.clauses:
        indent = "  " * (len(clause.path) - 1)
        print(f"{indent}{clause.label}  {clause.heading or clause.text[:40]}")

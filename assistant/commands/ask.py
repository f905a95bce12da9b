"""`assistant ask "问题"`: an answer with verified clause citations, as text or JSON."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "ask", help="answer a question from the documents, citing 文号 and clause",
        description="Retrieves clauses, abstains when they do not answer, generates with a "
                    "backend (extractive by default, offline), and verifies every sentence "
                    "against the clauses it cites.")
    parser.add_argument("question", help="the question, e.g. \"在哪些城市开展三医联动改革试点?\"")
    parser.add_argument("--backend", default=None,
                        help="extractive | openai (env ASSISTANT_ANSWER__OPENAI_*); "
                             "default: settings")
    parser.add_argument("--json", action="store_true", help="print the Answer as JSON")
    parser.add_argument("--k", type=int, default=None, help="clauses to retrieve (default: top_k)")
    parser.add_argument("--in-force", action="store_true",
                        help="only documents not marked 失效 or 征求意见稿")
    parser.add_argument("--doc", action="append", default=None, metavar="ID",
                        help="only these documents (doc_id, 文号 or title; repeatable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.cli import settings_from_args
    from assistant.commands._output import print_json
    from assistant.models import SearchFilters
    from assistant.service import Assistant
    from assistant.service.request_rules import Caller

    bot = Assistant(settings_from_args(args))
    doc_ids = [bot.document(ref).doc_id for ref in args.doc] if args.doc else None
    filters = SearchFilters(doc_ids=doc_ids, in_force_only=args.in_force)
    answer = bot.ask(args.question, backend=args.backend, filters=filters, top_k=args.k,
                     caller=Caller.cli())
    if args.json:
        print_json(answer.model_dump(mode="json"))
    else:
        print(format_answer(answer))
    return 0


def format_answer(answer) -> str:
    """The answer text, then its sources (rendered citations) and warnings."""
    lines = [answer.answer]
    if answer.citations:
        lines += ["", "来源："]
        for cite in answer.citations:
            check = "" if cite.supported else "（未能核实）"
            title = f" 《{cite.title}》" if cite.number else ""
            lines.append(f"[{cite.marker}] {cite.rendered}{title}{check}")
    if answer.warnings:
        lines += ["", "提示："] + [f"- {w}" for w in answer.warnings]
    return "\n".join(lines)

"""`assistant search "问题"`: the best clauses for a question, as a table or JSON."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "search", help="retrieve the clauses that best match a question (no answer)",
        description="Hybrid (dense + BM25) clause search. A question naming a 文号 or a "
                    "clause label (（十四）, 第三条) is routed to it first.")
    parser.add_argument("question", help="the question, e.g. \"三医联动改革试点在哪些城市?\"")
    parser.add_argument("--k", type=int, default=None, help="how many clauses (default: top_k)")
    parser.add_argument("--json", action="store_true", help='print {"results": [...]}')
    parser.add_argument("--doc", action="append", default=None, metavar="ID",
                        help="only these documents (doc_id, 文号 or title; repeatable)")
    parser.add_argument("--in-force", action="store_true",
                        help="leave out documents marked 失效 or 征求意见稿")
    parser.add_argument("--mode", choices=("hybrid", "dense", "sparse"), default="hybrid",
                        help="hybrid (default): the clauses `ask` answers from; dense or sparse: "
                             "that leg alone, a diagnostic (no reranker, no reordering)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.cli import settings_from_args
    from assistant.commands._output import print_json
    from assistant.models import SearchFilters
    from assistant.retrieval.hybrid import HybridRetriever
    from assistant.service import Assistant
    from assistant.service.request_rules import Caller

    bot = Assistant(settings_from_args(args))
    doc_ids = [bot.document(ref).doc_id for ref in args.doc] if args.doc else None
    filters = SearchFilters(doc_ids=doc_ids, in_force_only=args.in_force)
    if args.mode == "hybrid":
        results = bot.search(args.question, args.k, filters, caller=Caller.cli())
    else:  # one leg alone, a diagnostic; the service's rules still check the question
        question = bot.rules.check_question(args.question)
        k = args.k or bot.settings.retrieval.top_k
        results = HybridRetriever(bot.store, mode=args.mode).search(question, k, filters)
    if args.json:
        print_json({"results": [r.to_result() for r in results]})
    else:
        _print_table(results)
    return 0


def _print_table(results) -> None:
    """One block per clause: rank, citation, score, status, then the text (trimmed)."""
    if not results:
        print("no matching clause")
        return
    for rank, scored in enumerate(results, start=1):
        routed = "  (named in the question)" if scored.routed else ""
        status = f"  [{scored.doc.status.value}]" if scored.doc.status else ""
        text = scored.clause.text.replace("\n", " ")
        print(f"{rank:>2}. 〔{scored.doc.short_ref} {scored.clause.label}〕 "
              f"score {scored.score:.4f}{status}{routed}")
        print(f"    {text if len(text) <= 200 else text[:200] + '…'}")

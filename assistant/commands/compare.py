"""`assistant compare A B`: what changed between two versions, article by article."""

from __future__ import annotations

import argparse

from assistant.compare import ArticleChange, Comparison

_KIND = {"unchanged": "未变", "changed": "修改", "added": "新增", "removed": "删除"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "compare", help="align two versions of a rule article by article (doc_id, 文号 or title)")
    parser.add_argument("old", help="one version: doc_id, 文号 or title")
    parser.add_argument("new", help="the other version (the older one is put first)")
    parser.add_argument("--all", action="store_true", help="list unchanged articles too")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.cli import settings_from_args
    from assistant.commands._output import print_json
    from assistant.service import Assistant

    comparison = Assistant(settings_from_args(args)).compare(args.old, args.new)
    if args.json:
        print_json(comparison.model_dump(mode="json"))
        return 0
    print_comparison(comparison, show_unchanged=args.all)
    return 0


def print_comparison(comparison: Comparison, show_unchanged: bool = False) -> None:
    old, new = comparison.old, comparison.new
    print(f"旧: {old.version_ref}  [{old.doc_id}]\n新: {new.version_ref}  [{new.doc_id}]")
    counts = comparison.counts
    print(
        "  ".join(f"{_KIND[k]} {counts[k]}" for k in _KIND) + f"  重新编号 {counts['renumbered']}"
    )
    for change in comparison.changes:
        if change.kind != "unchanged" or show_unchanged or change.renumbered:
            print(describe(change))


def describe(change: ArticleChange) -> str:
    """One change as text; changed wording as 〖-删去-〗〖+新增+〗 inside the new text."""
    old = change.old.label if change.old else "—"
    new = change.new.label if change.new else "—"
    head = f"\n[{_KIND[change.kind]}] {old} → {new}"
    if change.kind == "changed":
        marked = "".join(s.text if s.op == "equal" else
                         f"〖{'-' if s.op == 'delete' else '+'}{s.text}〗" for s in change.diff)
        return f"{head}\n{marked}"
    article = change.new or change.old
    return f"{head}\n{article.text}" if change.kind != "unchanged" else head

"""`assistant eval`: score the assistant on a gold set, beside a chunk baseline; compare runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval", help="score answers and citations on a gold set (and a chunk baseline)",
        description="Run every gold question through the assistant and through a fixed-size "
                    "chunk baseline with the same embedder; print both summaries side by side "
                    "and write report.json, report.md and report.html. Exit code 1 when "
                    "--check-thresholds finds a metric below its committed bound.")
    parser.add_argument("--dataset", type=Path, nargs="+",
                        help="gold set JSONL file(s), read as one set (default: eval/gold.jsonl; "
                             "eval/gold-dev.jsonl adds questions over ../shared/corpus-dev)")
    parser.add_argument("--backend", help="answer backend (default: settings, extractive)")
    parser.add_argument("--out", type=Path, default=Path("eval/out"),
                        help="directory for the reports (default: eval/out)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-baseline", action="store_true", help="skip the chunk baseline")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    parser.add_argument("--folds", type=int, default=0, metavar="K",
                        help="default 0: score with the shipped evidence model, what `assistant "
                             "ask` does. K >= 2: cross-validate by document instead, each fold "
                             "scored with a model refitted on the other folds (how the quality "
                             "gate and docs/evaluation.md measure the gold sets)")
    parser.add_argument("--judge-holdout", type=Path, nargs="+", metavar="NPZ", default=(),
                        help="with --folds: K judge files, the i-th trained without fold i of "
                             "K's documents (train_judge --holdout i/K); each question is "
                             "judged by the one that never saw its document (docs/judge.md)")
    parser.add_argument("--fusion", choices=["rrf", "weighted"], help="override the fusion setting")
    parser.add_argument(
        "--abstain-threshold", type=float, help="override settings.answer.abstain_threshold"
    )
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A.json", "B.json"),
                        help="print the metric deltas of run B over run A and exit")
    parser.add_argument(
        "--check-thresholds",
        type=Path,
        metavar="FILE",
        help="fail (exit 1) if the run violates these bounds (eval/thresholds.json)",
    )
    parser.add_argument("--write-thresholds", type=Path, metavar="FILE",
                        help="write this run's numbers less --margin as bounds to FILE")
    parser.add_argument("--margin", type=float, default=0.03,
                        help="slack for --write-thresholds (default 0.03)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.compare:
        return _compare(*args.compare, as_json=args.json)
    from assistant.cli import settings_from_args
    from assistant.evaluation.dataset import DEFAULT_DATASET, DatasetError, load_gold
    from assistant.evaluation.report import load_thresholds, write_reports
    from assistant.evaluation.runner import run_eval

    if args.limit is not None and args.limit < 1:
        raise DatasetError("--limit must be at least 1")
    thresholds = load_thresholds(args.check_thresholds) if args.check_thresholds else None
    settings = _settings(args, settings_from_args(args))
    datasets = args.dataset or [DEFAULT_DATASET]
    items = [i for path in datasets for i in load_gold(path)]
    items = items[: args.limit]
    with _progress(len(items), baseline=not args.no_baseline) as tick:
        result = run_eval(items, settings, backend=args.backend,
                          baseline=not args.no_baseline, progress=tick, folds=args.folds,
                          judge_holdouts=args.judge_holdout)
    result["meta"]["datasets"] = [str(path) for path in datasets]
    paths = write_reports(result, args.out)
    _show(result, paths, as_json=args.json)
    if args.write_thresholds:
        _write_thresholds(result, args.write_thresholds, args.margin)
    return _thresholds_exit(result, thresholds)


def _write_thresholds(result: dict, path: Path, margin: float) -> None:
    import json

    from assistant.evaluation.report import propose_thresholds

    meta = result["meta"]
    folds = f"--folds {meta['folds']} " if (meta.get("folds") or 0) > 1 else ""
    note = (f"{meta['created']}: {meta['questions']} questions, backend {meta['backend']}, "
            f"embedder {meta['embedder']}, fusion {meta['fusion']}, settings "
            f"{meta['settings_hash']}; current numbers less {margin}. After an intended change, "
            f"regenerate with `assistant --embedder {meta['embedder']} eval --no-baseline "
            f"{folds}--write-thresholds {path}`.")
    bounds = propose_thresholds(result["summary"]["ours"], margin, note)
    path.write_text(json.dumps(bounds, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"thresholds written to {path}", file=sys.stderr)


def _settings(args: argparse.Namespace, settings):
    overrides = {k: v for k, v in (("fusion", args.fusion),
                                   ("abstain_threshold", args.abstain_threshold)) if v is not None}
    return settings.with_(**overrides) if overrides else settings


class _progress:
    """A rich progress bar on stderr with one task per system; yields the runner's callback."""

    def __init__(self, total: int, baseline: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            console=Console(stderr=True), transient=True)
        self.tasks = {"ours": self.bar.add_task("ours", total=total)}
        if baseline:
            self.tasks["baseline"] = self.bar.add_task("baseline", total=total)

    def __enter__(self):
        self.bar.start()
        return lambda system: self.bar.advance(self.tasks[system])

    def __exit__(self, *exc) -> None:
        self.bar.stop()


def _show(result: dict, paths: dict, as_json: bool) -> None:
    from assistant.commands._output import print_json
    from assistant.evaluation.report import datasets_line, scoring_line, summary_rows

    if as_json:
        print_json({"summary": result["summary"], "meta": result["meta"],
                    "reports": {k: str(v) for k, v in paths.items()}})
        return
    _table("eval: ours vs chunk baseline", ("metric", "ours", "baseline", "Δ"),
           summary_rows(result))
    print(f"{scoring_line(result['meta'])}; gold sets: {datasets_line(result['meta'])}",
          file=sys.stderr)
    print(f"reports: {paths['json']}  {paths['md']}  {paths['html']}", file=sys.stderr)
    errors = result["summary"]["ours"].get("errors")
    if errors:
        print(f"warning: {errors} questions failed with an error and count as abstentions; "
              "see the `error` field in report.json", file=sys.stderr)


def _table(title: str, header: tuple[str, ...], rows) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def _thresholds_exit(result: dict, thresholds: dict | None) -> int:
    from assistant.evaluation.report import check_thresholds

    if thresholds is None:
        return 0
    violations = check_thresholds(result["summary"], thresholds)
    for line in violations:
        print(f"threshold violated: {line}", file=sys.stderr)
    if not violations:
        print("all thresholds hold", file=sys.stderr)
    return 1 if violations else 0


def _compare(path_a: Path, path_b: Path, as_json: bool) -> int:
    from assistant.commands._output import print_json
    from assistant.evaluation.report import compare, compare_rows, load_report

    result = compare(load_report(path_a), load_report(path_b))
    if as_json:
        print_json(result)
        return 0
    _table(f"B − A  (A = {path_a}, B = {path_b})", ("metric", "A", "B", "Δ"), compare_rows(result))
    print(f"fixed in B: {', '.join(result['fixed']) or 'none'}")
    print(f"broken in B: {', '.join(result['broken']) or 'none'}")
    return 0

"""`assistant bench`: speed, memory and scaling numbers (printed, and as JSON with --json)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

PARTS = ("sample", "scaling", "embedders", "serving", "ocr", "judge")
DEFAULT_PARTS = PARTS[:-1]  # the judge is off by default; its timing is asked for by name


def _sizes(raw: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes wants numbers like 1000,10000, got {raw!r}")
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError("--sizes: each size must be at least 100")
    return sizes


def _parts(raw: str) -> list[str]:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown part(s) {unknown}; known: {', '.join(PARTS)}")
    return parts


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench", help="benchmark ingest, query latency, index scaling and embedders",
        description="(a) the sample corpus: cold ingest+index, warm query p50/p95, peak RSS; "
                    "(b) scaling on synthetic vectors: build, exact vs approximate (HNSW, IVF "
                    "above 200000) latency, memory, recall@10; (c) embedder throughput; "
                    "(d) serving: a real server's first ask, 1/16/50 clients, asks during an "
                    "upload, against the targets; (e) OCR: pages/s and peak RSS reading a "
                    "generated 3-page scan. "
                    "1M clauses takes minutes.")
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10000, 100000, 1000000],
                        help="scaling sizes, comma-separated (default 1000,10000,100000,1000000)")
    parser.add_argument("--parts", type=_parts, default=list(DEFAULT_PARTS),
                        help="which parts to run (default sample,scaling,embedders,serving,ocr; "
                             "judge: warm asks with the judge off and on)")
    parser.add_argument("--distribution", choices=("clustered", "uniform"), default="clustered",
                        help="synthetic vectors: clustered like real embeddings (default) or "
                             "uniform on the sphere (worst case for HNSW)")
    parser.add_argument("--queries", type=int, default=50,
                        help="sample-corpus questions to time (default 50)")
    parser.add_argument("--soak", action="store_true",
                        help="instead: soak/fault trials against a real `assistant serve` on "
                             "loopback (load, slow clients, kill -9 during ingest)")
    parser.add_argument("--soak-clients", type=int, default=100,
                        help="concurrent clients in the soak's load trial (default 100)")
    parser.add_argument("--soak-slow", type=int, default=300,
                        help="connections that never finish their headers (default 300)")
    parser.add_argument("--soak-kills", type=int, default=10,
                        help="ingests killed with kill -9 (default 10)")
    parser.add_argument("--json", action="store_true", help="print all numbers as JSON")
    parser.add_argument("--scale", action="store_true",
                        help="only the index-backend scale benchmark (assistant/bench/scale.py)")
    parser.add_argument("--scale-sizes", type=_sizes, default=[100_000, 1_000_000],
                        help="clauses for --scale (default 100000,1000000)")
    parser.add_argument("--backends", type=_backends, default=["faiss", "milvus"],
                        help="index backends for --scale (default faiss,milvus)")
    parser.set_defaults(func=run)


def _backends(raw: str) -> list[str]:
    names = [p.strip() for p in raw.split(",") if p.strip()]
    unknown = [n for n in names if n not in ("faiss", "milvus")]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"--backends: choose from faiss, milvus; got {raw!r}")
    return names


def run(args: argparse.Namespace) -> int:
    from assistant.bench import perf
    from assistant.cli import settings_from_args
    from assistant.commands._output import print_json

    settings = settings_from_args(args)
    say = (lambda line: print(line, file=sys.stderr)) if args.json else print
    if args.soak:
        return _soak(args, settings, say)
    results: dict = {}
    if args.scale:
        return _run_scale(args, settings, say)
    if "sample" in args.parts:
        say(f"sample corpus ({settings.paths.corpus_dir}) "
            f"with embedder {settings.index.embedder} …")
        with step_progress() as step:
            results["sample"] = perf.bench_sample(settings, perf.sample_questions(args.queries),
                                                  step=step)
        _show_sample(results["sample"], say)
    if "scaling" in args.parts:
        with step_progress() as step:
            results["scaling"] = perf.bench_scaling(args.sizes, say, args.distribution, step=step)
        _show_scaling(results["scaling"], say)
    if "embedders" in args.parts:
        with step_progress() as step:
            results["embedders"] = perf.bench_embedders(settings, _clause_texts(settings),
                                                        step=step)
        _show_embedders(results["embedders"], say)
    if "serving" in args.parts:
        results["serving"] = perf.bench_serving(settings, say)
        _show_serving(results["serving"], say)
    if "ocr" in args.parts:
        from assistant.bench.ocr import bench_ocr

        results["ocr"] = bench_ocr()
        _show_ocr(results["ocr"], say)
    if "judge" in args.parts:
        with step_progress() as step:
            results["judge"] = perf.bench_judge(settings, perf.sample_questions(args.queries),
                                                step=step)
        _show_judge(results["judge"], say)
    results["machine"] = perf.machine()
    say(f"machine: {results['machine']}")
    if args.json:
        print_json(results)
    return 0


@contextmanager
def step_progress() -> Iterator:
    """A progress line on stderr (never in the numbers on stdout): the current step, its
    count when known (questions, queries), else a spinner, and the time it has taken."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    tasks: dict[str, int] = {}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True),
                  transient=True) as bar:

        def step(description: str, done: int, total: int | None) -> None:
            if description not in tasks:
                for task in bar.tasks:  # a new step: the previous one is over
                    bar.update(task.id, visible=False)
                tasks[description] = bar.add_task(description, total=total)
            bar.update(tasks[description], completed=done, total=total)

        yield step


def _run_scale(args, settings, say) -> int:
    from assistant.bench import perf, scale
    from assistant.commands._output import print_json

    results = scale.bench_scale(args.scale_sizes, args.backends,
                                settings.index.exact_search_max, say, settings=settings)
    say(f"scale ({results['vectors']}; k={results['k']}, {results['queries']} queries, "
        "one at a time):")
    for row in results["rows"]:
        say("  " + scale.format_row(row))
    if "ocr" in args.parts:
        from assistant.bench.ocr import bench_ocr

        results["ocr"] = bench_ocr()
        _show_ocr(results["ocr"], say)
    results["machine"] = perf.machine()
    results["peak_rss_mb"] = perf.peak_rss_mb()
    say(f"machine: {results['machine']}; peak RSS {results['peak_rss_mb']} MiB")
    if args.json:
        print_json(results)
    return 0


def _soak(args: argparse.Namespace, settings, say) -> int:
    from assistant.bench.soak import run_soak
    from assistant.commands._output import print_json

    results = run_soak(settings, clients=args.soak_clients, slow=args.soak_slow,
                       kills=args.soak_kills, say=say)
    if args.json:
        print_json(results)
    return 0


def _clause_texts(settings) -> list[str]:
    from assistant.ingest.pipeline import ingest_files

    documents, _ = ingest_files([settings.paths.corpus_dir], settings)
    return [clause.embed_text() for doc in documents for clause in doc.clauses]


def _show_sample(row: dict, say) -> None:
    say(f"  {row['documents']} documents, {row['clauses']} clauses ({row['embedder']}): "
        f"cold ingest+index {row['cold_ingest_index_s']} s; query p50 {row['p50_ms']} ms, "
        f"p95 {row['p95_ms']} ms over {row['queries']} questions (k={row['k']}); "
        f"peak RSS {row['peak_rss_mb']} MiB")
    say(f"  embedded {row['embedded_chars']} characters in {row['passages']} passages for "
        f"{row['clause_chars']} characters of clause text")


def _show_judge(result: dict, say) -> None:
    off, on, bare = result["judge_off"], result["judge_on"], result["bare_query_embedding"]
    say(f"judge ({result['questions']} warm asks, sample corpus, {result['embedder']}): "
        f"off p50 {off['p50_ms']} / p95 {off['p95_ms']} ms; on p50 {on['p50_ms']} / "
        f"p95 {on['p95_ms']} ms; bare query embedding p50 {bare['p50_ms']} ms")
    for name, row in result["targets"].items():
        say(f"  judge on {name} {row['value']} ≤ {row['bound']}: "
            f"{'met' if row['met'] else 'MISSED'}")


def _show_scaling(result: dict, say) -> None:
    say(f"scaling ({result['vectors']}; k=10, one query at a time; approx = the index the "
        "store builds at that size):")
    say(f"  {'clauses':>9} {'flat build s':>12} {'flat p50/p95 ms':>17} {'approx':>6} "
        f"{'build s':>8} {'approx p50/p95 ms':>17} {'recall@10':>9} {'B/clause flat/approx':>20}")
    for row in result["sizes"]:
        kind = row["approx_index"].split("-")[0].upper()
        say(f"  {row['clauses']:>9} {row['exact_build_s']:>12} "
            f"{row['exact']['p50_ms']:>8}/{row['exact']['p95_ms']:<8} {kind:>6} "
            f"{row['approx_build_s']:>8} "
            f"{row['approx']['p50_ms']:>8}/{row['approx']['p95_ms']:<8} "
            f"{row['approx_recall_at_10']:>9} "
            f"{row['exact_bytes_per_clause']:>10.0f}/{row['approx_bytes_per_clause']:<9.0f}")
    say(f"  peak RSS {result['peak_rss_mb']} MiB")


def _show_embedders(rows: list[dict], say) -> None:
    say("embedder throughput (passages, real clauses):")
    for row in rows:
        if "error" in row:
            say(f"  {row['embedder']}: unavailable ({row['error']})")
            continue
        say(f"  {row['embedder']} ({row['model']}, dim {row['dim']}): "
            f"{row['clauses_per_s']} clauses/s over {row['clauses']} clauses of "
            f"~{row['mean_chars']} chars; load {row['load_s']} s")


def _show_serving(result: dict, say) -> None:
    say("serving (`assistant serve --no-ui`, sample corpus, extractive backend):")
    for clients, row in result["load"].items():
        say(f"  {clients:>3} clients: {row['requests_per_s']} req/s, p50 {row['p50_ms']} ms, "
            f"p95 {row['p95_ms']} ms, {row['errors']} errors; cores busy: server "
            f"{row['server_cores_busy']}, load clients {row['client_cores_busy']}")
    crowd = result["crowd_100_clients"]
    say(f"  100 clients: {crowd['requests_per_s']} req/s, {crowd['shed']} shed with "
        f"Retry-After, {crowd['dropped']} dropped, {crowd['errors']} other failures")
    say(f"  server CPU per ask at 1 client {result['load'][1]['server_cpu_per_ask_ms']} ms "
        f"on {result['cores']} cores; bare query embedding CPU "
        f"{result['bare_query_embedding']['cpu_ms']} ms")
    idle, during = result["idle_4_clients"], result["during_upload_4_clients"]
    say(f"  4 clients idle p95 {idle['p95_ms']} ms; during an upload p95 {during['p95_ms']} ms "
        f"({during['requests']} asks)")
    say(f"  bare query embedding p50 {result['bare_query_embedding']['p50_ms']} ms; "
        f"first ask after /readyz {result['first_ask_after_ready_ms']} ms")
    for name, value in result["ratios"].items():
        target = result["targets"][name]
        say(f"  {name:<27} {value:>8}  target {target['target']:<8} "
            f"{'ok' if target['meets'] else 'MISSED'}")


def _show_ocr(row: dict, say) -> None:
    say(f"OCR (rapidocr, generated {row['pages']}-page scan at 150 dpi, engine start included): "
        f"{row['pages_per_s']} pages/s ({row['seconds']} s), peak RSS {row['peak_rss_mb']} MB, "
        f"confidence {row['confidence']}")

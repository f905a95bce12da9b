"""`assistant feedback --out F [--review R]`: staff 👍/👎 as eval-set JSONL."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("feedback", help="export chat feedback as gold-set JSONL")
    parser.add_argument(
        "--out", type=Path, required=True, help="JSONL of 👍 answers as gold questions"
    )
    parser.add_argument("--review", type=Path, help="also write 👎 answers here for review")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.cli import settings_from_args
    from assistant.service.feedback import main

    argv = ["--db", settings_from_args(args).feedback_database, "--out", str(args.out)]
    return main(argv + (["--review", str(args.review)] if args.review else []))

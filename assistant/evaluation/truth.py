"""Score the parser against a development truth file: metadata fields and top-level labels.

    python -m assistant.evaluation.truth eval/corpus-dev-truth.json \
        [eval/corpus-dev2-truth.json …] [-v]

prints one row per document (fields exact / total, label sequence of the top two levels
exact yes/no) and the totals. Paths in the truth file are relative to the repository root
(the current directory; the development corpus under ASSISTANT_EVAL_DEV_CORPUS when set);
documents that are not there are reported as missing, not scored.
Only `load_file` and `build_document` are used, so an older checkout can be scored the same
way (PYTHONPATH=<checkout> python assistant/evaluation/truth.py …). Scans are read with the OCR
engine of ASSISTANT_INGEST__OCR (rapidocr unless set to none), each file once per run.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from assistant.errors import LoadError
from assistant.ingest.document import build_document
from assistant.ingest.loaders import load_file

FIELDS = ("number", "title", "issuer", "signed", "published", "status")
# Scored only where an entry states them: the rule an 印发 notice issues, and how many
# documents the file holds (a scraped collection may run several together).
OPTIONAL_FIELDS = ("rule_title", "parts")
_MAX_BYTES = 50_000_000
_DEV_PREFIX = "../shared/corpus-dev/"


@dataclass
class DocScore:
    file: str
    part: int | None = None  # the entry's place in a file holding several documents
    fields_exact: int = 0
    fields_total: int = len(FIELDS)
    labels_exact: bool = False
    missing: bool = False
    unreadable: str | None = None  # the loader's reason, for an entry that says what it `needs`
    wrong: dict[str, tuple[object, object]] = field(default_factory=dict)  # field → (want, got)


def top_labels(doc) -> list[str]:
    """Labels of the clauses in the top two levels (an attachment's 附件 prefix not counted)."""
    def depth(path: list[str]) -> int:
        return len(path) - (1 if path and path[0].startswith("附件") else 0)
    return [c.label for c in doc.clauses if depth(c.path) <= 2]


def _documents(loaded) -> list:
    """The file's documents: several where the parser splits a collection (newer checkouts)."""
    try:
        from assistant.ingest.document import build_documents
    except ImportError:  # an older checkout: one file, one document
        return [
            build_document(loaded.text, loaded.source, encoding=loaded.encoding, fmt=loaded.fmt)
        ]
    return build_documents(loaded.text, loaded.source, encoding=loaded.encoding, fmt=loaded.fmt)


def _value(doc, name: str):
    value = getattr(doc, name, None)
    if value is None:
        return None
    if name == "status":
        return value.value
    return value.isoformat() if name in ("signed", "published") else value


def _resolve(file: str, root: Path) -> Path:
    """Repository-relative, except the development corpus, which may live elsewhere
    (ASSISTANT_EVAL_DEV_CORPUS, as for eval/gold-dev.jsonl)."""
    elsewhere = os.environ.get("ASSISTANT_EVAL_DEV_CORPUS")
    if elsewhere and file.startswith(_DEV_PREFIX):
        return Path(elsewhere) / file[len(_DEV_PREFIX):]
    return root / file


@cache
def _ocr():
    """The OCR reader of ASSISTANT_INGEST__OCR; None for an older checkout without OCR or when
    off."""
    try:
        from assistant.ingest.ocr import ocr_reader
    except ImportError:
        return None
    return ocr_reader(os.environ.get("ASSISTANT_INGEST__OCR", "rapidocr"))


@cache
def _load(path: Path):
    """The loaded file; cached, since a scan takes seconds a page and several entries may
    share one file."""
    reader = _ocr()
    return load_file(path, _MAX_BYTES, reader) if reader else load_file(path, _MAX_BYTES)


def score_document(entry: dict, root: Path) -> DocScore:
    score = DocScore(entry["file"], part=entry.get("part"))
    path = _resolve(entry["file"], root)
    if not path.exists():
        score.missing = True
        return score
    try:
        loaded = _load(path)
    except LoadError as err:
        if not entry.get("needs"):
            raise
        score.unreadable = f"needs {entry['needs']}: {err.reason}"
        return score
    docs = _documents(loaded)
    part = entry.get("part", 1)
    doc = docs[part - 1] if part <= len(docs) else docs[-1]
    names = FIELDS + tuple(n for n in OPTIONAL_FIELDS if n in entry)
    score.fields_total = len(names)
    for name in names:
        got = len(docs) if name == "parts" else _value(doc, name)
        if got == entry.get(name):
            score.fields_exact += 1
        else:
            score.wrong[name] = (entry.get(name), got)
    labels = top_labels(doc)
    score.labels_exact = labels == entry["labels"]
    if not score.labels_exact:
        score.wrong["labels"] = (len(entry["labels"]), len(labels))
    return score


def score_truth(truth_path: Path, root: Path) -> list[DocScore]:
    entries = json.loads(truth_path.read_text(encoding="utf-8"))["documents"]
    return [score_document(entry, root) for entry in entries]


def print_table(scores: list[DocScore], verbose: bool = False) -> None:
    print(f"{'document':<44} fields  labels")
    for s in scores:
        name = (Path(s.file).name[:40] + (f" #{s.part}" if s.part else ""))[:44]
        if s.missing or s.unreadable:
            print(f"{name:<44} {'missing' if s.missing else 'unreadable: ' + s.unreadable[:60]}")
            continue
        print(
            f"{name:<44} {s.fields_exact}/{s.fields_total}     {'yes' if s.labels_exact else 'no'}"
        )
        if verbose:
            for key, (want, got) in s.wrong.items():
                print(f"    {key}: want {want!r} got {got!r}")
    scored = [s for s in scores if not s.missing and not s.unreadable]
    fields = sum(s.fields_exact for s in scored)
    total = sum(s.fields_total for s in scored)
    labels = sum(s.labels_exact for s in scored)
    print(f"TOTAL fields {fields}/{total}, label sequences {labels}/{len(scored)}"
          f" ({len(scores) - len(scored)} missing or unreadable)")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    truths = [Path(a) for a in args] or [Path("eval/corpus-dev-truth.json")]
    print_table([s for truth in truths for s in score_truth(truth, Path.cwd())], verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

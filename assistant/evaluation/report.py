"""Eval reports: report.json, report.md and a self-contained report.html; run comparison;
threshold checks.

The HTML draws its recall@k chart as inline SVG (no plotting library, no external assets)
and lists failing questions first.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

from assistant.evaluation.dataset import DatasetError
from assistant.evaluation.runner import is_failure

# (metric, higher is better)
METRICS: list[tuple[str, bool]] = [
    ("citation_precision", True), ("citation_recall", True), ("citation_f1", True),
    ("citation_doc_precision", True), ("citation_doc_recall", True), ("doc_f1", True),
    ("citation_wrong_clause", False), ("hallucinated_citation_rate", False),
    ("unknown_doc_numbers", False), ("supported_sentence_share", True),
    ("abstain_precision", True), ("abstain_recall", True), ("abstain_f1", True),
    ("false_abstention_rate", False),
    ("recall@1", True), ("recall@3", True), ("recall@5", True), ("recall@10", True),
    ("mrr@10", True), ("ndcg@10", True), ("fact_coverage", True), ("fact_first", True),
    ("replaced_only_share", False),
    ("latency_p50_ms", False), ("latency_p95_ms", False),
]
# Properties of the index, not of the answers: one value per run (see evaluation/versions.py).
LIBRARY_METRICS = ("status_accuracy", "status_documents", "alignment_accuracy",
                   "alignment_articles")
HIGHER_IS_BETTER = dict(METRICS)


def fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def summary_rows(run: dict) -> list[tuple[str, str, str, str]]:
    """(metric, ours, baseline, ours − baseline) for every metric."""
    ours = run["summary"]["ours"]
    base = run["summary"].get("baseline", {})
    rows = []
    for name, _ in METRICS:
        a, b = ours.get(name), base.get(name)
        delta = a - b if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        rows.append((name, fmt(a), fmt(b), _signed(delta)))
    library = run["summary"].get("library", {})
    rows += [(name, fmt(library.get(name)), "–", "–") for name in LIBRARY_METRICS if library]
    return rows


def _signed(value) -> str:
    return "–" if value is None else ("+" if value >= 0 else "") + fmt(value)


def write_reports(run: dict, out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md and report.html into `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md",
             "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    paths["md"].write_text(render_markdown(run), encoding="utf-8")
    paths["html"].write_text(render_html(run), encoding="utf-8")
    return paths


def load_report(path: Path | str) -> dict:
    path = Path(path)
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetError(f"cannot read eval report {path}: {err}") from None
    if not isinstance(run, dict) or "ours" not in run.get("summary", {}):
        raise DatasetError(f"{path} is not an `assistant eval` report.json")
    return run


# --- Markdown
def render_markdown(run: dict) -> str:
    meta = run["meta"]
    lines = [
        "# Eval report",
        "",
        (
            f"{meta['questions']} questions · backend `{meta['backend']}` · embedder "
            f"`{meta['embedder']}` · fusion `{meta['fusion']}` · settings `{meta['settings_hash']}`"
            f" · {meta['created']}"
        ),
        "",
        f"**{scoring_line(meta)}**; gold sets: {datasets_line(meta)}",
        "",
        "| metric | ours | baseline | Δ |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {m} | {a} | {b} | {d} |" for m, a, b, d in summary_rows(run)]
    failures = [r for r in run["records"] if is_failure(r)]
    lines += ["", f"## Failures ({len(failures)})", ""]
    lines += [_md_failure(r) for r in failures] or ["None."]
    return "\n".join(lines) + "\n"


def _md_failure(record: dict) -> str:
    gold = ", ".join(f"{g['doc']} {g['clause']}" for g in record["gold"]) or "(unanswerable)"
    cited = ", ".join(c["rendered"] or c["label"] for c in record["citations"]) or "(none)"
    state = "abstained" if record["abstained"] else f"cited {cited}"
    why = "; ".join(failure_reasons(record))
    return f"- **{record['id']}** {record['question']} — gold: {gold}; {state}. Why: {why}"


def _cites_gold(citation: dict, gold: dict) -> bool:
    """The citation is the gold clause or inside it (labels extend their parent's)."""
    named = gold["doc"] in (citation.get("number"), citation.get("title"))
    return named and citation["label"].startswith(gold["clause"])


def failure_reasons(record: dict) -> list[str]:
    """Why a question failed: the refusal and the gate's score against its threshold, the
    gold clauses no citation covers, the citations that cover no gold clause."""
    refusal = [w.removeprefix("拒答：") for w in record.get("warnings", []) if w.startswith("拒答")]
    if not record["answerable"]:
        cited = ", ".join(c["rendered"] or c["label"] for c in record["citations"]) or "nothing"
        return [] if record["abstained"] else [f"answered an unanswerable question, citing {cited}"]
    if record["abstained"]:
        return [f"refused: {'; '.join(refusal) or 'no reason recorded'}"]
    cites = record["citations"]
    missing = [f"{g['doc']} {g['clause']}" for g in record["gold"]
               if not any(_cites_gold(c, g) for c in cites)]
    extra = [c["rendered"] or c["label"] for c in cites
             if not any(_cites_gold(c, g) for g in record["gold"])]
    return ([f"gold clause not cited: {', '.join(missing)}"] if missing else []) + \
        ([f"extra citation: {', '.join(extra)}"] if extra else [])


# --- HTML
_CSS = """body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em;max-width:75em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em}
td.n{text-align:right;font-variant-numeric:tabular-nums}.fail{background:#fff0f0}
.ok{background:#f3fff3}details{margin:.3em 0}summary{cursor:pointer}
.better{color:#070}.worse{color:#b00}pre{white-space:pre-wrap}"""


def render_html(run: dict) -> str:
    meta = run["meta"]
    body = [f"<h1>Eval report</h1><p>{html.escape(_meta_line(meta))}</p>",
            "<h2>Recall@k</h2>", recall_svg(run), "<h2>Summary</h2>", _html_summary(run)]
    records = sorted(run["records"], key=lambda r: not is_failure(r))
    failures = sum(is_failure(r) for r in records)
    body.append(f"<h2>Questions ({failures} failures first)</h2>")
    body += [_html_record(r) for r in records]
    return ("<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\">"
            f"<title>Eval report</title><style>{_CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def _meta_line(meta: dict) -> str:
    return (f"{meta['questions']} questions · backend {meta['backend']} · embedder "
            f"{meta['embedder']} · fusion {meta['fusion']} · settings {meta['settings_hash']} · "
            f"{meta['created']} · {scoring_line(meta)} · gold sets: {datasets_line(meta)}")


def scoring_line(meta: dict) -> str:
    """Which evidence model scored the run: the numbers differ, so every report says it."""
    folds = meta.get("folds") or 0
    if folds > 1:
        return (f"cross-validated by document ({folds} folds, each scored by an evidence model "
                "refitted on the others), as docs/evaluation.md and the quality gate measure")
    return "scored with the shipped evidence model (what `assistant ask` answers)"


def datasets_line(meta: dict) -> str:
    return ", ".join(meta.get("datasets") or ["(not recorded)"])


def _html_summary(run: dict) -> str:
    rows = []
    for name, a, b, d in summary_rows(run):
        klass = ""
        if d != "–" and float(d) != 0:
            good = (float(d) > 0) == HIGHER_IS_BETTER[name]
            klass = " better" if good else " worse"
        rows.append(f"<tr><td>{name}</td><td class=n>{a}</td><td class=n>{b}</td>"
                    f"<td class='n{klass}'>{d}</td></tr>")
    return ("<table><tr><th>metric</th><th>ours</th><th>baseline</th><th>Δ</th></tr>"
            + "".join(rows) + "</table>")


def _html_record(record: dict) -> str:
    fail = is_failure(record)
    esc = html.escape
    gold = (
        "; ".join(f"{g['doc']} {g['clause']}" for g in record["gold"]) or "不可回答 (unanswerable)"
    )
    cited = "; ".join(c["rendered"] or c["label"] for c in record["citations"]) or "–"
    retrieved = "; ".join(f"{r['number'] or r['title']} {r['label']}" for r in record["retrieved"])
    state = "abstained" if record["abstained"] else "answered"
    why = "; ".join(failure_reasons(record)) if fail else ""
    return (f"<details class='{'fail' if fail else 'ok'}'><summary>{'✗' if fail else '✓'} "
            f"<b>{esc(record['id'])}</b> {esc(record['question'])} — {state}</summary>"
            + (f"<p class='why'><b>why</b> {esc(why)}</p>" if why else "") +
            f"<p><b>gold</b> {esc(gold)}<br><b>cited</b> {esc(cited)}<br>"
            f"<b>retrieved</b> {esc(retrieved)}<br><b>latency</b> {record['latency_ms']} ms</p>"
            f"<pre>{esc(record['answer'])}</pre></details>")


_KS = (1, 3, 5, 10)
_SERIES = (("ours", "#1565c0"), ("baseline", "#e65100"))


class _Plot:
    """Maps k-index and recall (0..1) to SVG coordinates."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.left, self.right, self.top, self.bottom = (
            width,
            40,
            width - 40,
            20,
            height - 30,
        )

    def x(self, i: int) -> float:
        return self.left + i * (self.right - self.left) / (len(_KS) - 1)

    def y(self, value: float) -> float:
        return self.bottom - value * (self.bottom - self.top)


def recall_svg(run: dict, width: int = 420, height: int = 240) -> str:
    """Recall@1/3/5/10 of ours and the baseline as an inline SVG line chart."""
    plot = _Plot(width, height)
    parts = [(f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
              "role='img' aria-label='recall at k'>"), *_axes(plot)]
    for n, (name, colour) in enumerate(_SERIES):
        summary = run["summary"].get(name)
        if summary:
            parts += _series(plot, n, name, colour, summary)
    return "".join(parts) + "</svg>"


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f"<line x1='{x1}' y1='{y1}' x2='{x2}' y2='{y2}' stroke='#333'/>"


def _axes(plot: _Plot) -> list[str]:
    out = [
        _line(plot.left, plot.bottom, plot.right, plot.bottom),
        _line(plot.left, plot.top, plot.left, plot.bottom),
    ]
    for v in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(
            f"<line x1='{plot.left}' y1='{plot.y(v):.1f}' x2='{plot.right}' y2='{plot.y(v):.1f}' "
            f"stroke='#eee'/><text x='{plot.left - 6}' y='{plot.y(v) + 4:.1f}' font-size='10' "
            f"text-anchor='end'>{v:g}</text>"
        )
    out += [f"<text x='{plot.x(i):.1f}' y='{plot.bottom + 16}' font-size='11' "
            f"text-anchor='middle'>@{k}</text>" for i, k in enumerate(_KS)]
    return out


def _series(plot: _Plot, n: int, name: str, colour: str, summary: dict) -> list[str]:
    points = [(plot.x(i), plot.y(summary.get(f"recall@{k}") or 0.0)) for i, k in enumerate(_KS)]
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    out = [f"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{line}'/>"]
    out += [f"<circle cx='{px:.1f}' cy='{py:.1f}' r='3' fill='{colour}'/>" for px, py in points]
    out.append(f"<text x='{plot.right - 70}' y='{plot.bottom - 40 - 14 * n}' font-size='11' "
               f"fill='{colour}'>{name}</text>")
    return out


# --- comparing runs and thresholds
def compare(a: dict, b: dict) -> dict:
    """Deltas of B over A for our system's metrics, and the questions whose outcome flipped."""
    sa, sb = a["summary"]["ours"], b["summary"]["ours"]
    deltas = {}
    for name, higher in METRICS:
        va, vb = sa.get(name), sb.get(name)
        delta = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
        better = None if not delta else (delta > 0) == higher
        deltas[name] = {"a": va, "b": vb, "delta": delta, "better": better}
    fails_a = {r["id"]: is_failure(r) for r in a["records"]}
    fails_b = {r["id"]: is_failure(r) for r in b["records"]}
    common = fails_a.keys() & fails_b.keys()
    return {
        "metrics": deltas,
        "fixed": sorted(q for q in common if fails_a[q] and not fails_b[q]),
        "broken": sorted(q for q in common if not fails_a[q] and fails_b[q]),
        "a": a["meta"], "b": b["meta"],
    }


def check_thresholds(summary: dict, thresholds: dict) -> list[str]:
    """Violations of `{"ours": {metric: {"min": x} | {"max": y}}}`; [] when all hold."""
    violations = []
    for system, limits in thresholds.items():
        if system.startswith("_"):
            continue  # notes
        values = summary.get(system)
        if values is None:
            violations.append(f"{system}: not in this run (was it run with --no-baseline?)")
            continue
        violations += _check_system(system, values, limits)
    return violations


def _check_system(system: str, values: dict, limits: dict) -> list[str]:
    out = []
    for metric, bound in limits.items():
        value = values.get(metric)
        if value is None:
            out.append(f"{system}.{metric}: no value in this run")
        elif "min" in bound and value < bound["min"]:
            out.append(f"{system}.{metric} = {fmt(value)} < min {bound['min']}")
        elif "max" in bound and value > bound["max"]:
            out.append(f"{system}.{metric} = {fmt(value)} > max {bound['max']}")
    return out


# Quality metrics CI holds; latency is left to benchmarks (a timed check would be flaky).
GUARDED = ("citation_precision", "citation_recall", "citation_f1", "doc_f1",
           "hallucinated_citation_rate", "supported_sentence_share", "abstain_f1",
           "false_abstention_rate", "recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10",
           "fact_coverage")


def propose_thresholds(summary: dict, margin: float = 0.03, note: str = "") -> dict:
    """Bounds at the current numbers less `margin` (more, for lower-is-better metrics)."""
    bounds = {}
    for name in GUARDED:
        value = summary.get(name)
        if value is None:
            continue
        if HIGHER_IS_BETTER[name]:
            bounds[name] = {"min": round(max(value - margin, 0.0), 3)}
        else:
            bounds[name] = {"max": round(min(value + margin, 1.0), 3)}
    return {"_note": note, "ours": bounds}


def load_thresholds(path: Path | str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetError(f"cannot read thresholds {path}: {err}") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a JSON object of systems → metric bounds")
    return data


def compare_rows(result: dict) -> Sequence[tuple[str, str, str, str]]:
    return [(name, fmt(d["a"]), fmt(d["b"]), _signed(d["delta"]))
            for name, d in result["metrics"].items()]

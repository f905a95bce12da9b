"""Runs a gold set through the real `Assistant.ask` and through the chunk baseline.

Each question gives one record in the shape `assistant ask --json` prints, plus its id,
gold, facts, latency, the top-10 retrieval ranking and its per-question scores; the run
carries both systems' summaries side by side.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from assistant.answer.evidence import answer_fingerprint
from assistant.answer.judge import get_judge
from assistant.errors import AssistantError
from assistant.evaluation import metrics
from assistant.evaluation.baseline import ChunkBaseline
from assistant.evaluation.dataset import GoldItem, gold_keys
from assistant.evaluation.fit_evidence import (
    collect_rows,
    document_fold,
    document_folds,
    fit_model,
    write_model,
)
from assistant.evaluation.versions import library_scores
from assistant.models import Answer
from assistant.service import Assistant
from assistant.settings import Settings

RETRIEVAL_K = 10
Progress = Callable[[str], None]


def run_eval(items: Sequence[GoldItem], settings: Settings, *, backend: str | None = None,
             baseline: bool = True, progress: Progress | None = None, assistant=None,
             folds: int = 0, judge_holdouts: Sequence[Path] = ()) -> dict:
    """Evaluate every item; `progress(system)` is called once per question and system.

    `assistant` lets a caller reuse an opened index across runs (tuning sweeps).
    folds > 1: cross-validated by document — each fold's questions are answered with an
    evidence model fitted on the other folds' documents only. 0: the shipped model.
    judge_holdouts: with folds, K judge files, the i-th trained without the documents of
    fold i of K (`train_judge --holdout i/K`): each question is judged, and its training
    rows scored, by the one that never saw its document. Without them the settings' judge
    is kept fixed (it may have trained on the questions: not a measurement on them).
    """
    assistant = assistant or Assistant(settings)
    documents = assistant.documents()
    golds = {item.id: gold_keys(item, documents) for item in items}  # fail fast on a bad ref
    known = [d.number for d in documents if d.number]
    if folds > 1:
        ours = _cross_validated(assistant, items, golds, (backend, known, progress), folds,
                                list(judge_holdouts))
    else:
        ours = [_ours(assistant, item, golds[item.id], backend, known, progress) for item in items]
    run = {
        "meta": _meta(settings, backend, len(items), baseline) | {"folds": folds},
        "summary": {"ours": metrics.summarise(ours) | {"errors": sum("error" in r for r in ours)},
                    "library": library_scores(documents)},
        "records": ours,
    }
    if baseline:
        chunks = _baseline(assistant.store, settings)
        base = [_base(chunks, item, golds[item.id], known, progress) for item in items]
        run["summary"]["baseline"] = metrics.summarise(base)
        run["baseline_records"] = base
    return run


def _cross_validated(assistant, items: Sequence[GoldItem], golds: dict, how: tuple,
                     folds: int, holdouts: list[Path]) -> list[dict]:
    """Records of every item, each answered by a model fitted without its fold's documents."""
    backend, known, progress = how
    settings = assistant.settings
    judged = settings.answer.judge != "none"
    # The judge file for a document: the holdout that never saw it, else the settings' one.
    judge_file = ((lambda group: holdouts[document_fold(group, len(holdouts))]) if holdouts
                  else (lambda group: settings.answer.judge_model))
    judge_for = ((lambda group: get_judge(settings.answer.judge, judge_file(group)))
                 if judged else None)
    rows, groups = collect_rows(assistant.store, items, golds, settings.retrieval.top_k,
                                judge_for)
    fold_of = document_folds(groups, folds)
    records: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fold in sorted(set(fold_of.values())):
            train = [r for r in rows if fold_of[r.item_id] != fold]
            # A set too small to leave positives outside this fold (one document) cannot be
            # cross-validated there: that fold is scored with the settings' model and says so.
            fitted = any(r.label for r in train)
            path = Path(tmp) / f"fold-{fold}.json"
            if fitted:
                write_model(fit_model(train, embedder=settings.index.embedder,
                                      judge=settings.answer.judge if judged else None), path)
            for item in (i for i in items if fold_of[i.id] == fold):
                own = {"judge_model": judge_file(groups[item.id])} if judged and holdouts else {}
                assistant.settings = (settings.with_(evidence_model=path, **own)
                                      if fitted else settings.with_(**own))
                records[item.id] = _ours(assistant, item, golds[item.id], backend, known, progress)
                records[item.id]["fold"] = fold
                records[item.id]["fold_fitted"] = fitted
    assistant.settings = settings
    return [records[item.id] for item in items]


def _meta(settings: Settings, backend: str | None, count: int, baseline: bool) -> dict:
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "backend": backend or settings.answer.backend, "embedder": settings.index.embedder,
        "embed_model": settings.index.embed_model, "fusion": settings.retrieval.fusion,
        "dense_weight": settings.fusion_dense_weight, "rrf_k": settings.retrieval.rrf_k,
        "abstain_threshold": settings.answer.abstain_threshold, "top_k": settings.retrieval.top_k,
        "settings_hash": answer_fingerprint(settings), "questions": count, "baseline": baseline,
    }


def _ours(assistant, item: GoldItem, gold, backend, known, progress) -> dict:
    started = time.perf_counter()
    answer, error = _ask(assistant, item.question, backend)
    latency = (time.perf_counter() - started) * 1000
    ranked = assistant.search(item.question, k=RETRIEVAL_K) if error is None else []
    ranking = [[(s.clause.doc_id, tuple(s.clause.path))] for s in ranked]
    record = _record(item, answer, gold, ranking, known, latency)
    if error is not None:
        record["error"] = error
    record["ranked"] = [{"doc_id": s.clause.doc_id, "label": s.clause.label} for s in ranked]
    if progress:
        progress("ours")
    return record


def _ask(assistant, question: str, backend: str | None) -> tuple[Answer, str | None]:
    """The answer, or for a question the assistant refuses with an error, an empty
    abstention carrying that error (one bad question must not sink the run)."""
    options = {"backend": backend} if backend else {}
    try:
        return assistant.ask(question, **options), None
    except AssistantError as err:
        name = backend or assistant.settings.answer.backend
        return Answer(question=question, answer="", abstained=True, backend=name,
                      warnings=[f"error: {err}"]), str(err)


def _baseline(store, settings: Settings):
    # The baseline embeds its own queries (not the store's cached ones) so its latency is fair.
    return ChunkBaseline(store.documents, store.embedder(),
                         cache_path=settings.cache_path / "eval-baseline.sqlite3")


def _base(chunks, item: GoldItem, gold, known, progress) -> dict:
    started = time.perf_counter()
    answer, ranked = chunks.ask(item.question, k=RETRIEVAL_K)
    latency = (time.perf_counter() - started) * 1000
    ranking = [[(c.doc_id, tuple(c.path)) for c in chunk.clauses] for chunk in ranked]
    record = _record(item, answer, gold, ranking, known, latency)
    record["ranked"] = [{"doc_id": c.doc.doc_id, "start": c.start, "end": c.end,
                         "labels": [cl.label for cl in c.clauses]} for c in ranked]
    if progress:
        progress("baseline")
    return record


def _record(item: GoldItem, answer: Answer, gold, ranking, known, latency: float) -> dict:
    """The `ask --json` shape plus the gold and this question's scores."""
    record = {"id": item.id, "answerable": item.answerable,
              "gold": [g.model_dump() for g in item.gold], "facts": item.facts}
    record.update(answer.model_dump(mode="json"))
    record["latency_ms"] = round(latency, 2)
    record["scores"] = score_answer(item, answer, gold, ranking, known)
    return record


def score_answer(item: GoldItem, answer: Answer, gold, ranking, known) -> dict:
    """All per-question scores for one answer (see `metrics`)."""
    cited = [(c.doc_id, tuple(c.path)) for c in answer.citations]
    scores: dict = {}
    if item.answerable:
        scores.update(metrics.citation_scores(cited, gold))
        scores.update(metrics.retrieval_scores(ranking, gold))
        shown = "\n".join([answer.answer, *answer.warnings])
        scores["fact_coverage"] = metrics.fact_coverage(shown, item.facts)
        if not answer.abstained:
            scores["fact_first"] = metrics.fact_first([s.text for s in answer.sentences],
                                                      item.facts)
    scores.update(metrics.hallucinations(
        [c.clause_id for c in answer.citations], [s.clause.clause_id for s in answer.retrieved],
        answer.answer, known, [c.text for c in answer.citations]))
    scores["supported"] = [s.supported for s in answer.sentences]
    return scores


def is_failure(record: dict) -> bool:
    """Answerable but abstained or missing a gold clause; unanswerable but answered."""
    if not record["answerable"]:
        return not record["abstained"]
    return record["abstained"] or (record["scores"].get("recall") or 0.0) < 1.0

"""Retrieval quality on the gold set: Recall@k / MRR@10 per retrieval configuration.

Used to compare hybrid vs dense-only vs BM25-only and RRF vs weighted fusion, and to
pick the fusion defaults. Unanswerable questions are left out (they have no gold clause).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.evaluation.dataset import DEFAULT_DATASET, gold_keys, load_gold
from assistant.evaluation.metrics import retrieval_scores
from assistant.retrieval.hybrid import HybridRetriever
from assistant.stores.faiss.store import IndexStore


@dataclass(frozen=True)
class Config:
    """One retrieval configuration to score."""

    mode: str = "hybrid"
    fusion: str = "rrf"
    dense_weight: float = 0.5
    rrf_k: int = 60

    @property
    def name(self) -> str:
        if self.mode != "hybrid":
            return f"{self.mode}-only"
        extra = f",k={self.rrf_k}" if self.fusion == "rrf" else ""
        return f"hybrid-{self.fusion}(w={self.dense_weight}{extra})"


@dataclass
class Scores:
    config: Config
    questions: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)


def gold_questions(store: IndexStore, path=None):
    """(item, gold keys) for the answerable gold questions."""
    items = load_gold(path or DEFAULT_DATASET)
    return [(item, gold_keys(item, store.documents)) for item in items if item.answerable]


def score(store: IndexStore, config: Config, questions, k: int = 10) -> Scores:
    """Mean retrieval metrics of one configuration over the questions."""
    retriever = HybridRetriever(store, mode=config.mode, fusion=config.fusion,
                                dense_weight=config.dense_weight, rrf_k=config.rrf_k)
    result = Scores(config)
    totals: dict[str, float] = {}
    for item, gold in questions:
        ranked = [
            [(s.doc.doc_id, tuple(s.clause.path))] for s in retriever.search(item.question, k)
        ]
        for name, value in retrieval_scores(ranked, gold).items():
            totals[name] = totals.get(name, 0.0) + value
        if retrieval_scores(ranked, gold)["recall@5"] < 1.0:
            result.misses.append(item.id)
    result.questions = len(questions)
    result.metrics = {name: value / max(len(questions), 1) for name, value in totals.items()}
    return result


def default_grid() -> Iterable[Config]:
    yield Config(mode="dense")
    yield Config(mode="sparse")
    for rrf_k in (5, 10, 60):
        for weight in (0.2, 0.3, 0.5):
            yield Config(fusion="rrf", dense_weight=weight, rrf_k=rrf_k)
    for weight in (0.1, 0.2, 0.3, 0.5):
        yield Config(fusion="weighted", dense_weight=weight)

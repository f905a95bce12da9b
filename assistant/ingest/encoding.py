"""Detect a text file's encoding from its bytes (never assumed) and decode it.

Order: byte-order mark → strict UTF-8 → the encoding the file declares (HTML meta) →
UTF-16 without BOM (NUL bytes, and one byte order reads as ordinary text) → GB18030
(superset of GBK and GB2312) when the result looks like mainland text → charset-normalizer's
best guess. Binary data and text that decodes to nothing are
refused with a `LoadError` whose code says which.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field

from charset_normalizer import from_bytes

from assistant.errors import LoadError

# Longest first: a UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Encodings declared by Chinese web pages that are really subsets of GB18030.
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
            "utf8": "utf-8"}
_WHITESPACE_CONTROLS = set("\t\n\r\f\v")
_JUNK_CATEGORIES = {"Cc", "Co", "Cn", "Cs"}  # controls, private use, unassigned, surrogates
_JUNK_MAX_SHARE = 0.01
_SAMPLE_CHARS = 200_000
_RARE_HAN_MAX_SHARE = 0.2
# ASCII, Latin-1, general and CJK punctuation, CJK ideographs, full-width forms.
_ORDINARY = re.compile("[\t\n\r\x20-\x7e\xa0-\xff\u2000-\u206f\u3000-\u303f"
                       "\u4e00-\u9fff\uff00-\uffef]")
_ORDINARY_MIN_SHARE = 0.8


@dataclass
class Decoded:
    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def decode_text(data: bytes, path: str, declared: str | None = None) -> Decoded:
    """Decode a text file's bytes; `declared` is an encoding the file names itself (HTML meta)."""
    if not data:
        raise LoadError(path, "the file is empty (0 bytes)", "empty")
    # Valid UTF-8 beats a declaration: scrapers re-save pages as UTF-8 and keep the old meta.
    decoded = (_from_bom(data, path) or _strict_utf8(data) or _declared(data, declared)
               or _detect(data, path))
    _refuse_binary(decoded.text, path)
    return _strip_stray_controls(decoded)


def canonical_encoding(name: str | None) -> str | None:
    """A codec name Python knows, with GBK/GB2312 widened to GB18030; None if unknown."""
    if not name:
        return None
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _from_bom(data: bytes, path: str) -> Decoded | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            body = data if codec == "utf-8-sig" else data[len(bom):]
            try:
                return Decoded(body.decode(codec), codec)
            except UnicodeDecodeError as err:
                raise LoadError(path, f"starts with a {codec} byte-order mark but is not "
                                      f"valid {codec} ({err.reason} at byte {err.start})",
                                "undecodable") from None
    return None


def _declared(data: bytes, declared: str | None) -> Decoded | None:
    codec = canonical_encoding(declared)
    if codec is None or b"\x00" in data:
        return None
    try:
        return Decoded(data.decode(codec), codec)
    except UnicodeDecodeError:
        return None  # the declaration lies; detect instead


def _detect(data: bytes, path: str) -> Decoded:
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise LoadError(path, "binary content (NUL bytes) in a text file", "binary")
        return utf16
    for attempt in (_strict_utf8, _plausible_gb18030, _charset_normalizer, _any_gb18030):
        decoded = attempt(data)
        if decoded is not None:
            return decoded
    raise LoadError(path, "cannot tell the text encoding (tried UTF-8, UTF-16, GB18030 and "
                          "charset detection); save the file as UTF-8", "undecodable")


def _utf16_without_bom(data: bytes) -> Decoded | None:
    """NUL bytes but no BOM: UTF-16 if one byte order reads as ordinary text, else None."""
    if len(data) % 2:
        return None
    decoded = (_try_codec(data, codec) for codec in ("utf-16-le", "utf-16-be"))
    candidates = [d for d in decoded if d is not None]
    best = max(candidates, key=lambda d: _ordinary_share(d.text), default=None)
    if best is None or _ordinary_share(best.text) < _ORDINARY_MIN_SHARE:
        return None
    return best


def _try_codec(data: bytes, codec: str) -> Decoded | None:
    try:
        return Decoded(data.decode(codec), codec)
    except UnicodeDecodeError:
        return None


def _ordinary_share(text: str) -> float:
    """Share of characters a Chinese or Western text is made of (binary read as UTF-16 is not)."""
    sample = text[:_SAMPLE_CHARS]
    return len(_ORDINARY.findall(sample)) / len(sample) if sample else 0.0


def _strict_utf8(data: bytes) -> Decoded | None:
    # NUL is valid UTF-8, but text with NULs is UTF-16 or binary: _detect decides.
    return None if b"\x00" in data else _try_codec(data, "utf-8")


def _plausible_gb18030(data: bytes) -> Decoded | None:
    decoded = _any_gb18030(data)
    if decoded is None or _rare_han_share(decoded.text) > _RARE_HAN_MAX_SHARE:
        return None  # decodes, but as rare characters: likely Big5 or another double-byte code
    return decoded


def _any_gb18030(data: bytes) -> Decoded | None:
    return _try_codec(data, "gb18030")


def _charset_normalizer(data: bytes) -> Decoded | None:
    best = from_bytes(data).best()
    if best is None:
        return None
    warning = f"encoding guessed as {best.encoding} by charset detection; check the text"
    return Decoded(str(best), best.encoding, [warning])


def _rare_han_share(text: str) -> float:
    """Share of CJK ideographs outside GB2312 (mainland policy text uses almost none)."""
    han = [c for c in text[:_SAMPLE_CHARS] if "\u4e00" <= c <= "\u9fff"]
    if len(han) < 20:
        return 0.0
    rare = sum(1 for c in han if not _in_gb2312(c))
    return rare / len(han)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _junk_share(text: str) -> float:
    sample = text[:_SAMPLE_CHARS]
    if not sample:
        return 0.0
    junk = sum(1 for c in sample if _is_junk(c))
    return junk / len(sample)


def _is_junk(char: str) -> bool:
    return char not in _WHITESPACE_CONTROLS and unicodedata.category(char) in _JUNK_CATEGORIES


def _refuse_binary(text: str, path: str) -> None:
    if "\x00" in text or _junk_share(text) > _JUNK_MAX_SHARE:
        raise LoadError(path, "binary content (control characters) in a text file", "binary")


_STRAY = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")


def _strip_stray_controls(decoded: Decoded) -> Decoded:
    """A few stray control characters (e.g. DOS end-of-file) are dropped, with a warning."""
    text, count = _STRAY.subn("", decoded.text)
    if count:
        decoded.warnings.append(f"removed {count} stray control character(s)")
    decoded.text = text
    return decoded

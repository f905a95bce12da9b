"""OCR: the text of page images (scanned PDF pages, .png/.jpg/.tif files).

An engine is one `OcrEngine` class registered in `OCR_ENGINES` (the default, rapidocr, runs
PP-OCR models that ship inside its wheel on onnxruntime: no download, no network). The
loaders get an `OcrReader`, which reads one page image at a time, so a 100-page scan never
holds more than one rendered page; it reports each page to a progress callback and keeps
the line scores for the document's confidence.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Protocol

from assistant.errors import RegistryError
from assistant.models import OcrInfo
from assistant.registry import Registry

if TYPE_CHECKING:  # PIL is only needed once a page is read
    from PIL.Image import Image

OFF = "none"


@dataclass(frozen=True)
class OcrLine:
    """One detected text line: its text, the engine's score (0–1) and its box in pixels."""

    text: str
    score: float
    left: float
    top: float
    right: float
    bottom: float


class OcrEngine(Protocol):
    """Reads the text lines of one page image."""

    name: str

    def read(self, image: Image) -> list[OcrLine]:
        ...


OCR_ENGINES: Registry[type[OcrEngine]] = Registry("OCR engine")


@OCR_ENGINES.register("rapidocr")
class RapidOcrEngine:
    """PP-OCR (detection + recognition) through rapidocr on onnxruntime, models in the wheel."""

    name = "rapidocr"
    _shared = None  # loading the models costs ~1 s and ~200 MB: once per process
    _lock = threading.Lock()  # one page at a time: onnxruntime already uses every core

    def read(self, image: Image) -> list[OcrLine]:
        import numpy as np

        with self._lock:
            result = self._engine()(np.asarray(image.convert("RGB")))
        if not result.txts:
            return []
        return [_line(text, score, box)
                for text, score, box in zip(result.txts, result.scores, result.boxes)]

    @classmethod
    def _engine(cls):
        if cls._shared is None:
            from rapidocr import RapidOCR  # optional at import time: onnxruntime is heavy

            cls._shared = RapidOCR(params={"Global.log_level": "error"})
            logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # "empty page" is ours to report
        return cls._shared


def _line(text: str, score: float, box) -> OcrLine:
    xs = [float(point[0]) for point in box]
    ys = [float(point[1]) for point in box]
    return OcrLine(text.strip(), float(score), min(xs), min(ys), max(xs), max(ys))


def page_text(lines: list[OcrLine]) -> str:
    """Lines in reading order: boxes that share a row are joined left to right, rows top down.

    A gap of more than half a line height between two boxes of a row (a name, then a post)
    is kept as a space.
    """
    rows: list[list[OcrLine]] = []
    for line in sorted((ln for ln in lines if ln.text), key=lambda ln: (ln.top, ln.left)):
        row = rows[-1] if rows else None
        if row and _same_row(row[-1], line):
            row.append(line)
        else:
            rows.append([line])
    return "\n".join(_row_text(sorted(row, key=lambda ln: ln.left)) for row in rows)


def _same_row(previous: OcrLine, line: OcrLine) -> bool:
    overlap = min(previous.bottom, line.bottom) - max(previous.top, line.top)
    height = min(previous.bottom - previous.top, line.bottom - line.top)
    return height > 0 and overlap > height / 2


def _row_text(row: list[OcrLine]) -> str:
    text = row[0].text
    for before, line in pairwise(row):
        gap = line.left - before.right
        # Boxes of one row more than half a character apart are separate fields (姓名 职务).
        text += (" " if gap > (line.bottom - line.top) / 2 else "") + line.text
    return text


# Red ink: a seal stamped over the 落款 and its date, or a red letterhead. Read through the red
# channel a seal vanishes and the black text under it comes clear (the date a seal covers is
# otherwise misread: 期兴2025年7月 for 2025年7月29日); the red letterhead vanishes too, so its
# lines are taken from the colour read, where nothing of the clean read overlaps them. Text
# curved round a seal reads poorly there and is left out by its score.
_RED_SHARE = 0.002  # of the page's pixels
_RED_TEXT_MIN_SCORE = 0.8
_SAMPLE_WIDTH = 300


def has_red_ink(image: Image) -> bool:
    """Whether the page carries red ink (a seal or a red letterhead) worth a second read."""
    import numpy as np

    small = image.convert("RGB")
    small = small.resize((_SAMPLE_WIDTH, max(1, small.height * _SAMPLE_WIDTH // small.width)))
    rgb = np.asarray(small).astype(int)
    red = (rgb[..., 0] > 150) & (rgb[..., 0] - rgb[..., 1] > 60) & (rgb[..., 0] - rgb[..., 2] > 60)
    return red.mean() > _RED_SHARE


def without_red_ink(image: Image) -> Image:
    """The page as its red channel: red ink turns white, black ink stays black."""
    return image.convert("RGB").getchannel("R").convert("RGB")


def _merge_red_read(clean: list[OcrLine], colour: list[OcrLine]) -> list[OcrLine]:
    """The clean read, plus the colour read's confident lines where it found nothing (red text)."""
    return clean + [line for line in colour
                    if line.text and line.score >= _RED_TEXT_MIN_SCORE
                    and not any(_overlaps(line, other) for other in clean)]


def _overlaps(one: OcrLine, other: OcrLine) -> bool:
    return (min(one.right, other.right) > max(one.left, other.left)
            and min(one.bottom, other.bottom) > max(one.top, other.top))


@dataclass
class OcrReader:
    """What a loader is given to read page images; collects what the document's OcrInfo says."""

    engine: OcrEngine
    dpi: int = 150
    progress: Callable[[int, int], None] | None = None
    pages: list[int] = field(default_factory=list)
    unread: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    def read(self, image: Image, number: int) -> str:
        """The text of page `number` (1-based); an unreadable page is recorded, returns ""."""
        lines = self.engine.read(image)
        if has_red_ink(image):
            lines = _merge_red_read(self.engine.read(without_red_ink(image)), lines)
        text = page_text(lines)
        self.pages.append(number)
        if text.strip():
            self.scores.extend(line.score for line in lines if line.text)
        else:
            self.unread.append(number)
        return text

    def step(self, done: int, total: int) -> None:
        if self.progress:
            self.progress(done, total)

    def info(self) -> OcrInfo | None:
        if not self.pages:
            return None
        confidence = round(sum(self.scores) / len(self.scores), 3) if self.scores else None
        return OcrInfo(engine=self.engine.name, pages=list(self.pages), unread=list(self.unread),
                       confidence=confidence)

    def fresh(self) -> OcrReader:
        """The same engine and settings with nothing read yet (one per file)."""
        return OcrReader(self.engine, self.dpi, self.progress)


def unread_warnings(info: OcrInfo | None) -> list[str]:
    """One warning per page OCR read no text from: a page is never dropped silently."""
    if info is None:
        return []
    return [f"page {number}: OCR found no text on it (blank, a photo, or too faint)"
            for number in info.unread]


def check_engine(name: str) -> str:
    """The engine name, or a `RegistryError` naming the engines that exist: the service checks
    it at start-up, so an unknown engine stops the server, not its first scan."""
    if name != OFF and name not in OCR_ENGINES.names():
        known = ", ".join([*OCR_ENGINES.names(), OFF])
        raise RegistryError(f"ASSISTANT_INGEST__OCR: unknown OCR engine {name!r}; known: {known}")
    return name


def ocr_reader(engine: str, dpi: int = 150,
               progress: Callable[[int, int], None] | None = None) -> OcrReader | None:
    """A reader for the named engine; None when OCR is off (`none`)."""
    if check_engine(engine) == OFF:
        return None
    return OcrReader(OCR_ENGINES.get(engine)(), dpi, progress)

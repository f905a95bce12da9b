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


def ocr_reader(engine: str, dpi: int = 150,
               progress: Callable[[int, int], None] | None = None) -> OcrReader | None:
    """A reader for the named engine; None when OCR is off (`none`)."""
    if engine == OFF:
        return None
    return OcrReader(OCR_ENGINES.get(engine)(), dpi, progress)

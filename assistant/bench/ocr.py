"""OCR throughput: pages per second and peak memory of ingesting a scan we render ourselves.

The scan is an image-only PDF of known Chinese text (a 通知 with 一、 clauses), drawn with the
Noto CJK font Debian's fonts-noto-cjk installs, so the benchmark (and the tests that reuse
`scan_pages`) never depend on anyone's documents. It is read in a child process, so the peak
RSS is that of the OCR ingest alone.

    python -m assistant.bench.ocr scan.pdf   # prints {"pages", "seconds", "peak_rss_mb"}
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_NAMES = ("NotoSerifCJK-Regular.ttc", "NotoSansCJK-Regular.ttc")
DPI = 150
A4 = (int(8.27 * DPI), int(11.69 * DPI))

NOTICE = [
    "关于做好蚊媒传染病防控工作的通知",
    "各区卫生健康局，各有关单位：",
    "为切实做好蚊媒传染病防控工作，现将有关事项通知如下。",
    "一、加强病例监测",
    "各医疗机构要落实首诊负责制，发现疑似病例及时报告。",
    "二、开展跨省联网核查",
    "疾控机构要在二十四小时内完成流行病学调查。",
    "三、落实灭蚊措施",
    "各街道每周组织一次孳生地清理。",
]


def cjk_font_path() -> Path | None:
    return next((FONT_DIR / n for n in FONT_NAMES if (FONT_DIR / n).is_file()), None)


def scan_pages(lines_per_page: list[list[str]], size: tuple[int, int] = A4):
    """One white page image per entry, its lines drawn in black at ~14 pt (PIL images)."""
    from PIL import Image, ImageDraw, ImageFont

    font_path = cjk_font_path()
    if font_path is None:
        raise FileNotFoundError(f"no CJK font in {FONT_DIR} (Debian: fonts-noto-cjk)")
    font = ImageFont.truetype(str(font_path), size=40)
    pages = []
    for lines in lines_per_page:
        image = Image.new("RGB", size, "white")
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(lines):
            draw.text((150, 200 + row * 80), line, font=font, fill="black")
        pages.append(image)
    return pages


def write_scan_pdf(path: Path, lines_per_page: list[list[str]]) -> Path:
    """An image-only PDF (no text layer), one rendered page per entry."""
    first, *rest = scan_pages(lines_per_page)
    first.save(path, "PDF", resolution=DPI, save_all=True, append_images=rest)
    return path


def bench_ocr(pages: int = 3) -> dict:
    """Ingest a generated `pages`-page scan with the default OCR engine in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        pdf = write_scan_pdf(Path(folder) / "scan.pdf", [NOTICE] * pages)
        return measure_in_child(pdf)


def measure_in_child(pdf: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "assistant.bench.ocr", str(pdf)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(pdf: Path) -> dict:
    from assistant.ingest.loaders import load_file
    from assistant.ingest.ocr import ocr_reader

    reader = ocr_reader("rapidocr", DPI)
    started = time.perf_counter()
    loaded = load_file(pdf, 1 << 30, reader)
    seconds = time.perf_counter() - started
    pages = len(loaded.ocr.pages) if loaded.ocr else 0
    return {"pages": pages, "seconds": round(seconds, 2),
            "pages_per_s": round(pages / seconds, 3) if seconds else None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "confidence": loaded.ocr.confidence if loaded.ocr else None}


if __name__ == "__main__":
    print(json.dumps(_measure(Path(sys.argv[1]))))

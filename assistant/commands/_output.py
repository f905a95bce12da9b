"""Shared output helpers for commands: JSON to stdout, tables with rich.

Tables follow one rule at any terminal width (80 columns included): identifiers and dates
(doc_id, 文号, dates, status, counts) are never cut or wrapped, since a half 文号 is a wrong
文号; the free text (title, issuer, reason) takes the width that is left and wraps between
characters, never inside a number, a Latin word or a 文号 it quotes.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

# Units a line break may not split, besides a 文号 (found by the parser's recogniser): a
# bracketed year, a number or Latin word (2021, DRG, .docx); anything else is one character.
_UNBREAKABLE = (r"[〔\[［(（]\d{4}[〕\]］)）]"
                r"|\.?[A-Za-z0-9][A-Za-z0-9.:/_\-]*"
                r"|\s+|.")
_GAP = 1  # spaces between columns
_MIN_FREE = 8


def print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def console():
    from rich.console import Console

    return Console()


def text_cells(*values) -> list:
    """Plain text cells: a title like 「[2021]」 must not be read as rich markup."""
    from rich.text import Text

    return [value if isinstance(value, Text) else Text(value) for value in values]


def wrap_text(text: str, width: int) -> list[str]:
    """Lines of at most `width` cells, broken between characters but not inside a unit."""
    from rich.cells import cell_len

    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for unit in _units(paragraph, width):
            if line and cell_len(line + unit.rstrip()) > width:
                lines.append(line.rstrip())
                line = unit.lstrip()
            else:
                line += unit
        lines.append(line.rstrip())
    return lines


def _units(paragraph: str, width: int) -> list[str]:
    """The unbreakable units; one wider than the column (a long file name) is cut in pieces."""
    from rich.cells import chop_cells

    from assistant.ingest.metadata import find_doc_numbers

    numbers = [n for n in find_doc_numbers(paragraph) if n in paragraph]
    pattern = "|".join([*map(re.escape, numbers), _UNBREAKABLE])
    units = []
    for unit in re.findall(pattern, paragraph, flags=re.DOTALL):
        units += chop_cells(unit, width) if len(unit) > 1 else [unit]
    return units


class Column:
    """A table column: `keep` (shown whole on one line) or free text that wraps."""

    def __init__(self, header: str, *, keep: bool = False, justify: str = "left",
                 style: str | None = None) -> None:
        self.header, self.keep, self.justify, self.style = header, keep, justify, style


def table(columns: Sequence[Column], rows: Sequence[Sequence[str]], title: str | None = None,
          width: int | None = None):
    """A rich Table: `keep` columns as wide as their longest cell, the rest share the rest."""
    from rich import box
    from rich.table import Table

    widths = _widths(columns, rows, width or console().width)
    out = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                pad_edge=False, padding=0)  # the box puts _GAP spaces between columns
    for column, column_width in zip(columns, widths, strict=True):
        header = column.header if column.keep else "\n".join(wrap_text(column.header,
                                                                        column_width))
        out.add_column(header, width=column_width, no_wrap=True, justify=column.justify,
                       style=column.style, overflow="fold")
    for row in rows:
        out.add_row(*(_cell(column, column_width, value)
                      for column, column_width, value in zip(columns, widths, row, strict=True)))
    return out


def _cell(column: Column, width: int, value: str):
    """Plain text (a title like 「[2021]」 is not rich markup), wrapped unless kept whole."""
    from rich.text import Text

    text = value if column.keep else "\n".join(wrap_text(value, width))
    return Text(text, justify=column.justify)


def _widths(columns: Sequence[Column], rows: Sequence[Sequence[str]], total: int) -> list[int]:
    from rich.cells import cell_len

    def widest(number: int) -> int:
        cells = [columns[number].header, *(str(row[number]) for row in rows)]
        return max(cell_len(line) for cell in cells for line in cell.split("\n"))

    natural = [widest(n) for n in range(len(columns))]
    kept = sum(w for w, c in zip(natural, columns, strict=True) if c.keep)
    free = [n for n, c in enumerate(columns) if not c.keep]
    room = total - kept - _GAP * (len(columns) - 1)
    widths = list(natural)
    if free and sum(natural[n] for n in free) > room:
        share = max(_MIN_FREE, room // len(free))
        for n in free:
            widths[n] = min(natural[n], share)
    return widths

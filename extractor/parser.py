"""The template parser: the offline extractor, and the cheap first pass before any LLM.

It reads 表二, 表三 and 表四 row by row. A row is found by its label, even when the
label is split over lines; its numbers are placed only when their count fits the
row's columns. It never guesses: a cell it cannot place stays null, and the
verifier reports the number it left unread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from extractor.document import Document
from extractor.errors import NianbaoError
from extractor.layout import CACHED_TEXT_LIMIT, Cell, Layout, Line, detect_template, layout
from extractor.meta import read_meta
from extractor.values import MAX_AMOUNT, MAX_COUNT, read_cell
from schemas.flat import build_report, cell_types
from schemas.report import Amount, Count, Report, Template
from schemas.template import T2_ROWS, T3_ROWS, T4_KEYS, TABLE_HEADER, RowSpec

_MAX_LABEL_LINES = 4  # a label is never split over more lines than this


class NotAReport(NianbaoError, ValueError):
    """The document holds none of the template's tables."""


def report_page(document: Document) -> Layout:
    """The document's layout; NotAReport where it holds none of the template's tables."""
    page = layout(document.text)
    if not page.table_lines:
        raise NotAReport("no 表二/表三/表四 found: not a government information disclosure annual report?")
    return page


def parse(document: Document) -> Report:
    page = report_page(document)
    meta = read_meta(page.lines)
    template = detect_template(page.table_lines, year=meta.year)
    types = cell_types(template)
    cells = {}
    for row in document_rows(document.text, template):
        for key, printed in row.placed():
            if cell := _read_value(types[key], printed, document):
                cells[key] = cell
    return build_report(template, meta, cells)


# Template and meta ---------------------------------------------------------------


# Rows ------------------------------------------------------------------------


@dataclass
class _PendingRow:
    """A row being assembled from one or more lines."""

    label: str = ""
    values: list[Cell] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)
    spec: RowSpec | None = None


def _match(label: str, specs: tuple[RowSpec, ...], taken: set[str]) -> RowSpec | None:
    return next((s for s in specs if s.key not in taken and s.pattern.search(label)), None)


@dataclass(frozen=True)
class PrintedRow:
    """A row as printed: the flat keys of its columns, and the value cells found for it."""

    keys: list[str]
    cells: list[Cell]
    lines: list[int]  # the document lines it was read from
    positional: bool = False  # 表二: columns run left to right from the label, so a short row ends in blanks

    def placed(self) -> list[tuple[str, Cell]]:
        """Each column's cell, when the printed cells fit the columns; otherwise nothing (never a guess)."""
        cells = self.cells
        if self.positional and len(cells) < len(self.keys):
            cells = cells + [Cell("", 0, 0)] * (len(self.keys) - len(cells))
        return list(zip(self.keys, cells, strict=True)) if len(cells) == len(self.keys) else []


def document_rows(text: str, template: Template) -> tuple[PrintedRow, ...]:
    """`printed_rows` of a document's text, cached like its layout: the parser, resolver and re-asks read them."""
    if len(text) > CACHED_TEXT_LIMIT:
        return tuple(printed_rows(layout(text), template))
    return _cached_rows(text, template)


@lru_cache(maxsize=32)
def _cached_rows(text: str, template: Template) -> tuple[PrintedRow, ...]:
    return tuple(printed_rows(layout(text), template))


def printed_rows(page: Layout, template: Template) -> list[PrintedRow]:
    """Every row of 表二, 表三 and 表四 found in the document, in print order."""
    short_t2_lines = [line for line in page.sections["t2"] if len(line.label) <= 20]
    return (
        _assemble_rows(short_t2_lines, T2_ROWS[template], positional=True)
        + _assemble_rows(page.sections["t3"], T3_ROWS[template], positional=False)
        + _t4_rows(page.sections["t4"])
    )


def _assemble_rows(lines: Sequence[Line], specs: tuple[RowSpec, ...], positional: bool) -> list[PrintedRow]:
    """Rows found by their labels, each with the value cells printed for it (possibly none)."""
    rows: list[PrintedRow] = []
    taken: set[str] = set()
    pending = _PendingRow()

    def flush() -> None:
        nonlocal pending
        if pending.spec:
            rows.append(PrintedRow(pending.spec.cell_keys(), pending.values, pending.line_numbers, positional))
            taken.add(pending.spec.key)
        pending = _PendingRow()

    for line in lines:
        if line.is_prose:
            continue
        if TABLE_HEADER.search(line.label) and not line.value_cells:
            flush()  # a header row is never part of a row's label
            continue
        spec = _match(line.label, specs, taken)
        if positional:
            values = list(line.cells_after_words(spec.pattern) if spec else line.cells_after_label)
        else:
            values = list(line.value_cells)
        completes_label = pending.spec is None and pending.values and not values
        # A line with a label and numbers of its own starts a row, even one whose label is cut short.
        own_row = bool(line.label) and bool(values) and spec is None and pending.spec is not None
        continues = (
            0 < len(pending.line_numbers) < _MAX_LABEL_LINES
            and not own_row
            and (spec in (None, pending.spec) or completes_label)
        )
        if not continues or (pending.spec and len(pending.values) == len(pending.spec.columns)):
            flush()
        pending.label += line.label
        pending.values += values
        pending.line_numbers.append(line.number)
        pending.spec = pending.spec or spec or _match(pending.label, specs, taken)
    flush()
    return rows


def _t4_rows(lines: Sequence[Line]) -> list[PrintedRow]:
    """表四's fifteen numbers: from one row, or from consecutive rows cut at a page break.

    A row with more numbers than labelled header columns (an unlabelled extra
    column) is read under its labels only where the header has exactly fifteen.
    """
    data = [line for line in lines if not line.label and line.value_cells]
    if not data:
        return []
    values = [cell for line in data for cell in line.value_cells]
    if len(values) > len(T4_KEYS) and len(data) == 1 and _t4_header_columns(lines) == len(T4_KEYS):
        values = values[: len(T4_KEYS)]
    return [PrintedRow(list(T4_KEYS), values, [line.number for line in data])]


def _t4_header_columns(lines: Sequence[Line]) -> int:
    """How many columns the header labels (the rightmost labelled cell, over the header rows)."""
    widest = 0
    for line in lines:
        if line.tabbed and line.label:
            labelled = [i for i, cell in enumerate(line.cells) if cell.text and read_cell(cell.text).kind == "text"]
            widest = max(widest, labelled[-1] + 1)
    return widest


def _read_value(kind: type[Count | Amount], printed: Cell, document: Document) -> dict[str, Any] | None:
    """The cell's number with its provenance (as the cell model's fields), or None where it holds no number."""
    reading = read_cell(printed.text)
    if reading.number is None:
        return None
    if kind is Count and reading.number != reading.number.to_integral_value():
        return None  # a fraction in a count cell is not a count: left for the verifier to report
    if reading.number.copy_abs() >= (MAX_AMOUNT if kind is Amount else MAX_COUNT):
        return None  # beyond any plausible value: never kept as a number (the verifier reports it unread)
    source = {"raw": printed.text, "start": printed.start, "end": printed.end, "page": document.page_at(printed.start)}
    return {"value": int(reading.number) if kind is Count else reading.number, "source": source}

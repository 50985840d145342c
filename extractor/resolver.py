"""Aligning the LLM's values to the source, so each carries its span like the parser's do.

A value is grounded where its row is printed:
- if the row's cells fit its columns, the value must equal the cell in its own column;
- otherwise the row's values, in column order, must appear in the row's printed
  numbers in the same order (blank cells are skipped), so a number moved to
  another column does not ground.
A value that cannot be grounded keeps no source, and the verifier refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from extractor.document import Document
from extractor.layout import Cell
from extractor.parser import PrintedRow, document_rows
from extractor.values import read_cell
from schemas.flat import Value
from schemas.report import Template


def ground(document: Document, template: Template, values: Mapping[str, Value]) -> dict[str, dict[str, Any]]:
    """Each value as the cell model's fields: {"value", "source"}, with "source" None where it is not grounded."""
    rows = {key: row for row in document_rows(document.text, template) for key in row.keys}
    by_row: dict[int, list[str]] = {}
    for key in values:
        if key in rows:
            by_row.setdefault(id(rows[key]), []).append(key)
    spans: dict[str, Cell] = {}
    for keys in by_row.values():
        spans.update(_align(rows[keys[0]], {key: values[key] for key in keys}))
    return {key: _cell(document, value, spans.get(key)) for key, value in values.items()}


def _number(cell: Cell) -> Decimal | None:
    return read_cell(cell.text).number


def _same(value: Value, cell: Cell) -> bool:
    number = _number(cell)
    return value is not None and number is not None and Decimal(value) == number


def _align(row: PrintedRow, values: dict[str, Value]) -> dict[str, Cell]:
    placed = dict(row.placed())
    if placed:
        return {key: placed[key] for key, value in values.items() if _same(value, placed[key])}
    numbers = [cell for cell in row.cells if _number(cell) is not None]
    found: dict[str, Cell] = {}
    position = 0
    for key in row.keys:  # column order
        value = values.get(key)
        if value is None:
            continue
        match = next((i for i in range(position, len(numbers)) if _same(value, numbers[i])), None)
        if match is None:
            continue
        found[key] = numbers[match]
        position = match + 1
    return found


def _cell(document: Document, value: Value, cell: Cell | None) -> dict[str, Any]:
    if value is None:
        return {}
    if cell is None:
        return {"value": value, "source": None}
    page = document.page_at(cell.start)
    return {"value": value, "source": {"raw": cell.text, "start": cell.start, "end": cell.end, "page": page}}

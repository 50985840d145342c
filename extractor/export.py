"""Results as a table: one row per report, one column per contract key, in CSV, XLSX, JSON lines or Parquet.

Every writer streams: it takes any iterable of rows, holds one row (Parquet: one batch) at a time, and
writes to a hidden temporary file next to the target, renamed over it only once the last row is written,
so a crash never leaves a half file under the final name. The writers serve any `Table`: `export` writes the
results, `review.export` the review queue, both through `write`. Report text is untrusted: no writer lets a
cell become a spreadsheet formula, and a value a format cannot hold fails its cell, never the file (`write`).
"""

from __future__ import annotations

import csv
import json
import math
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from extractor.errors import NianbaoError
from schemas.flat import cell_types, contract
from schemas.report import TEMPLATES, Amount
from schemas.result import Result

FORMATS = ("csv", "xlsx", "jsonl", "parquet")
LABELS = ("en", "zh")
SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".parquet": "parquet"}

# The columns before the fields: (key, English header, Chinese header).
META = (
    ("source", "source", "来源文件"),
    ("sha256", "sha256", "SHA256"),
    ("organ", "organ", "机关"),
    ("organ_key", "organ_key", "机关标识"),
    ("year", "year", "年度"),
    ("template", "template", "模板"),
    ("status", "status", "状态"),
    ("error_count", "error_count", "错误数"),
    ("warning_count", "warning_count", "警告数"),
    ("error", "error", "错误信息"),
)
META_KEYS = tuple(key for key, _, _ in META)
STRING_META = ("source", "sha256", "organ", "organ_key", "template", "status", "error")  # the rest are integers

PARQUET_BATCH = 1000
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row
XLSX_MAX_TEXT = 32_767  # Excel's cell limit
XLSX_SHEET = "reports"
XLSX_WIDTHS = {
    "source": 32,
    "sha256": 18,
    "organ": 28,
    "organ_key": 28,
    "year": 8,
    "template": 9,
    "status": 10,
    "error": 40,
}
XLSX_NUMBER_WIDTH = {"en": 14, "zh": 18}
EXCEL_DIGITS = 15  # the significant digits Excel keeps of a number
MAX_DIGITS = 4300  # a number longer than this is not written (Python's own limit for turning an int into digits)
# What a spreadsheet takes for the start of a formula (=, +, -, @), or mangles when it opens a CSV (tab, CR).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = list[Any]
Kind = Literal["text", "int", "amount"]


class ExportError(NianbaoError):
    """The export cannot be made as asked: an unknown format, a missing library, too many rows."""


@dataclass(frozen=True)
class Column:
    """One column of a table: its key, its header, what its cells hold, and how it looks in Excel."""

    key: str
    header: str
    kind: Kind = "text"  # text: strings; int: integers (Parquet int64); amount: decimals (Parquet float64)
    width: float = 14  # in Excel
    wrap: bool = False  # Excel wraps its text, top-aligned
    label: str | None = None  # kept in the Parquet field's metadata


@dataclass(frozen=True)
class Table:
    """What a writer fills: the columns, the Excel sheet's name, and the text column that notes a cell's problem."""

    columns: tuple[Column, ...]
    sheet: str = XLSX_SHEET
    note: str | None = None  # the key of that column; without one, a cell that fails is null with no note

    @cached_property
    def note_index(self) -> int | None:
        keys = [column.key for column in self.columns]
        return keys.index(self.note) if self.note in keys else None


def format_for(path: Path) -> str | None:
    """The format a file name asks for by its suffix (`out.xlsx` → "xlsx"), or None."""
    return SUFFIXES.get(path.suffix.lower())


def _unique(headers: list[str], keys: list[str]) -> list[str]:
    """Headers as given, but a field's header that occurs twice gets its key appended: "label [t3.new.total]".

    The meta columns' headers never change; every field sharing a header is marked, so the result depends on
    nothing but the contract.
    """
    counts = Counter(headers)
    out = [
        f"{header} [{key}]" if counts[header] > 1 and key not in META_KEYS else header
        for header, key in zip(headers, keys, strict=True)
    ]
    if len(set(out)) != len(out):  # only a label like "x [key]" spelled out in the contract could get here
        raise ExportError(f"duplicate column headers: {sorted(h for h, n in Counter(out).items() if n > 1)[:5]}")
    return out


def columns(labels: str = "en") -> list[tuple[str, str]]:
    """(key, header) for every column, in order: the meta columns, then every contract key in fields.json order.

    `labels="en"` heads the field columns with their flat keys, `labels="zh"` with their Chinese labels.
    """
    if labels not in LABELS:
        raise ExportError(f"unknown labels {labels!r}: choose one of {', '.join(LABELS)}")
    fields = contract()
    keys = [*META_KEYS, *fields]
    if labels == "en":
        headers = [english for _, english, _ in META] + list(fields)
    else:
        headers = [chinese for _, _, chinese in META] + [entry["label"] for entry in fields.values()]
    return list(zip(keys, _unique(headers, keys), strict=True))


def amount_keys() -> frozenset[str]:
    """The keys that hold decimal amounts (万元 or 元); every other field is an integer count."""
    return frozenset(key for template in TEMPLATES for key, kind in cell_types(template).items() if kind is Amount)


def _row(result: Result, keys: list[str]) -> Row:
    """The row's values in column order: None for a null or a key the report's template lacks."""
    severities = Counter(finding.severity for finding in result.findings)
    meta = {
        "source": result.source,
        "sha256": result.sha256,
        "organ": result.organ,
        "organ_key": result.organ_key,
        "year": result.year,
        "template": result.template,
        "status": result.status,
        "error_count": severities["error"],
        "warning_count": severities["warning"],
        "error": result.error,
    }
    fields = result.fields
    return [meta[key] if key in meta else fields.get(key) for key in keys]


def _rows(results: Iterable[Result], keys: list[str]) -> Iterator[Row]:
    for result in results:
        yield _row(result, keys)


def results_table(labels: str = "en") -> Table:
    """The table `export` writes: `columns(labels)`, typed, the row's `error` column taking a cell's problem."""
    amounts = amount_keys()
    fields = contract()
    out = []
    for key, header in columns(labels):
        kind: Kind = "text" if key in STRING_META else "amount" if key in amounts else "int"
        width = XLSX_WIDTHS.get(key, XLSX_NUMBER_WIDTH[labels])
        out.append(Column(key, header, kind, width, label=fields[key]["label"] if key in fields else None))
    return Table(tuple(out), sheet=XLSX_SHEET, note="error")


# ----------------------------------------------------------------------------------------------------------------------
# Cells: what each format writes for one value. A value a format cannot hold raises CellError: that cell alone is
# written as null, and the row's note column (if the table has one) says which cell and why.


class CellError(Exception):
    """One cell the format cannot hold: it is written as null, with the reason noted in its row."""


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would take this text for a formula (or, for tab and CR, mangle it) when it opens it."""
    return text.startswith(FORMULA_STARTS)


def _number_text(value: int | float | Decimal) -> str:
    """A number as plain digits, exactly as held: 96171.6 → "96171.6", 1E+3 → "1000"; never an exponent."""
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError as error:  # more digits than Python turns into text
            raise CellError(f"a number of over {MAX_DIGITS} digits: too long to write") from error
    if isinstance(value, float):
        value = Decimal(repr(value))
    if not isinstance(value, Decimal):
        raise CellError(f"not a number: {str(value)[:40]!r}")
    if not value.is_finite():
        raise CellError(f"not a finite number: {value}")
    if value.adjusted() > MAX_DIGITS or value.as_tuple().exponent < -MAX_DIGITS:  # type: ignore[operator]
        raise CellError(f"a number of over {MAX_DIGITS} digits: too long to write")
    return format(value, "f")


def _shown(value: Any) -> str:
    """A number for a note: its digits, or for a very long one, the first few and its size."""
    try:
        text = _number_text(value)
    except CellError:
        text = None
    if text is not None and len(text) <= 40:
        return text
    return f"{Decimal(value):.6e}" if not isinstance(value, Decimal) or value.is_finite() else str(value)


def _cells(row: Row, table: Table, render: Callable[[Any, Column], Any]) -> list[Any]:
    """The row rendered cell by cell; a cell that fails is rendered as null and its problem noted in the row."""
    out: list[Any] = []
    notes = []
    note = table.note_index
    for index, (column, value) in enumerate(zip(table.columns, row, strict=True)):
        if index == note:
            out.append(None)  # rendered last, with every other cell's problems
            continue
        try:
            out.append(render(value, column))
        except CellError as problem:
            out.append(render(None, column))
            notes.append(f"{column.key} left null: {problem}")
    if note is not None:
        text = "; ".join(part for part in (row[note], *notes) if part)
        out[note] = render(text or None, table.columns[note])
    return out


# ----------------------------------------------------------------------------------------------------------------------
# The writers: each gets the rows, the table they fill and a temporary path to write, and returns how many rows it
# wrote. `write` is the only way in: it gives them a temporary next to the target and renames it over the target.


def _csv_text(text: str) -> str:
    """A text cell for CSV: one that would start a formula (or a tab or CR Excel would eat) gets a ' in front.

    Only text gets it: a number, negative or not, is written as its digits. A reader who wants the text as the
    report printed it removes one leading ' where the character after it is one of FORMULA_STARTS.
    """
    return "'" + text if formula_like(text) else text


def _csv_cell(value: Any, column: Column) -> Any:
    if value is None:
        return ""
    return _csv_text(value) if isinstance(value, str) else _number_text(value)


def _write_csv(rows: Iterator[Row], table: Table, target: Path) -> int:
    count = 0
    with target.open("w", encoding="utf-8-sig", newline="") as handle:  # the BOM makes Excel read it as UTF-8
        writer = csv.writer(handle)
        writer.writerow([_csv_text(column.header) for column in table.columns])
        for row in rows:
            writer.writerow(_cells(row, table, _csv_cell))
            count += 1
    return count


def _json_cell(value: Any, column: Column) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return _number_text(value)  # the digits as held, so a reader with parse_float=Decimal gets them back exactly


def _write_jsonl(rows: Iterator[Row], table: Table, target: Path) -> int:
    names = [json.dumps(column.header, ensure_ascii=False) for column in table.columns]
    count = 0
    with target.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            pairs = (f"{name}: {value}" for name, value in zip(names, _cells(row, table, _json_cell), strict=True))
            handle.write("{" + ", ".join(pairs) + "}\n")
            count += 1
    return count


def _xlsx_number(value: int | Decimal) -> int | float | str:
    """A number Excel holds exactly stays a number; one it cannot comes back as its digits, for a text cell.

    Excel keeps 15 significant digits: an integer of 16 digits or more (10**23 would show as 1E+23, its last
    digits lost) and a decimal of more than 15 significant digits are written as text with every digit.
    """
    if isinstance(value, int):
        return value if abs(value) < 10**EXCEL_DIGITS else _number_text(value)
    if not value.is_finite():
        raise CellError(f"not a finite number: {value}")
    digits = "".join(map(str, value.as_tuple().digits)).rstrip("0")
    if len(digits) <= EXCEL_DIGITS and value.adjusted() < EXCEL_DIGITS:
        return float(value)
    return _number_text(value)


def _write_xlsx(rows: Iterator[Row], table: Table, target: Path) -> int:
    try:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter
    except ImportError as error:
        raise ExportError("xlsx export needs openpyxl: pip install openpyxl") from error

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.sheet)
    sheet.freeze_panes = "A2"  # the header row stays in view
    for index, column in enumerate(table.columns, start=1):  # widths must be set before the first row
        sheet.column_dimensions[get_column_letter(index)].width = column.width

    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    bottom = Alignment(vertical="bottom")  # Excel's default look, but a style, so openpyxl writes the cell

    def text(value: str) -> WriteOnlyCell:
        """A string cell, always text: control characters (which Excel refuses) dropped, "=…" never a formula."""
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_TEXT])
        cell.data_type = "s"
        return cell

    def blank() -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet)
        cell.alignment = bottom
        return cell

    def render(value: Any, column: Column) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            value = _xlsx_number(value)
            if not isinstance(value, str):
                return value
        cell = text(value)
        if column.wrap:
            cell.alignment = wrap
        return cell

    header = []
    for column in table.columns:
        cell = text(column.header)
        cell.font, cell.alignment = bold, wrap
        header.append(cell)
    sheet.append(header)

    count = 0
    try:
        for row in rows:
            if count == XLSX_MAX_ROWS:
                raise ExportError(f"xlsx holds at most {XLSX_MAX_ROWS:,} rows a sheet: export csv or parquet instead")
            cells = _cells(row, table, render)
            if cells and cells[-1] is None:  # a blank but present last cell keeps every row full width for readers
                cells[-1] = blank()
            sheet.append(cells)
            count += 1
    except BaseException:
        with suppress(Exception):  # closes and removes openpyxl's own temporary copy of the sheet; write drops ours
            workbook.save(str(target))
        raise
    workbook.save(str(target))
    return count


INT64 = (-(2**63), 2**63 - 1)


def _parquet_int(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int | Decimal):
        raise CellError(f"not an integer: {str(value)[:40]!r}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CellError(f"not a finite number: {value}")
        if value.adjusted() < 19:  # else it is too big anyway, and int() of 1E+999999 would take a while
            if value != value.to_integral_value():
                raise CellError(f"a count holds a fraction: {_shown(value)}")
            value = int(value)
    if isinstance(value, Decimal) or not INT64[0] <= value <= INT64[1]:
        raise CellError(f"{_shown(value)} does not fit a 64-bit integer")
    return value


def _parquet_float(value: Any) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float | Decimal):
        raise CellError(f"not a number: {str(value)[:40]!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise CellError(f"not a finite number: {value}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise CellError(f"{_shown(value)} is beyond a 64-bit float")
    return number


def _parquet_text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else _number_text(value)


PARQUET_CELLS: dict[str, Callable[[Any], Any]] = {"text": _parquet_text, "int": _parquet_int, "amount": _parquet_float}


def _write_parquet(rows: Iterator[Row], table: Table, target: Path) -> int:
    """Typed columns: strings for text, int64 for integers (year, finding counts, counts), float64 for amounts."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ExportError("parquet export needs pyarrow: pip install 'nianbao[parquet]'") from error

    types = {"text": pa.string(), "int": pa.int64(), "amount": pa.float64()}
    schema_fields = []
    for column in table.columns:
        metadata = {"key": column.key}
        if column.label is not None:
            metadata["label"] = column.label
        schema_fields.append(pa.field(column.header, types[column.kind], nullable=True, metadata=metadata))
    schema = pa.schema(schema_fields)

    def render(value: Any, column: Column) -> Any:
        return PARQUET_CELLS[column.kind](value)

    count = 0
    with pq.ParquetWriter(str(target), schema) as writer:
        batch: list[list[Any]] = [[] for _ in table.columns]
        for row in rows:
            for values, value in zip(batch, _cells(row, table, render), strict=True):
                values.append(value)
            count += 1
            if count % PARQUET_BATCH == 0:
                writer.write_batch(pa.record_batch(batch, schema=schema))
                batch = [[] for _ in table.columns]
        if batch[0]:
            writer.write_batch(pa.record_batch(batch, schema=schema))
    return count


WRITERS: dict[str, Callable[[Iterator[Row], Table, Path], int]] = {
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "jsonl": _write_jsonl,
    "parquet": _write_parquet,
}


def write(rows: Iterable[Row], table: Table, path: Path, format: str) -> int:
    """Write `rows` (values in `table`'s column order) to `path` as `format`; returns how many rows it wrote.

    The one way any table leaves nianbao. Text is untrusted and never a formula: CSV puts a ' before a text cell
    that starts with one of FORMULA_STARTS (a number, even a negative one, stays a number), XLSX stores every
    string as a text cell. A value a format cannot hold fails alone, never the batch:

    - Parquet writes an integer too big for its int64 column (10**23), a fraction in it, or an amount beyond a
      float64 as null, and the row's note column (`error` in `export`'s table) names the cell and its value:
      "t3.new.total left null: 100000000000000000000000 does not fit a 64-bit integer";
    - XLSX writes an integer of 16 digits or more, or a decimal of more than 15 significant digits, as text with
      every digit (Excel would round it, and show 10**23 as 1E+23); CSV and JSON lines write every digit;
    - in any format, a non-finite number or one of more than MAX_DIGITS digits is written as null, and noted.

    `path` is replaced only when the whole file is written: a temporary next to it is renamed over it at the end.
    On any error it is left as it was, and no temporary is left behind.
    """
    if format not in FORMATS:
        raise ExportError(f"unknown format {format!r}: choose one of {', '.join(FORMATS)}")
    with replaced(Path(path)) as temporary:
        return WRITERS[format](iter(rows), table, temporary)


@contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """A temporary file next to `path` to write, renamed over `path` only if the block ends without error.

    The one way nianbao replaces a file it writes: a reader never sees half of one, and on any error
    `path` is left as it was, and no temporary is left behind.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.open("xb").close()  # claims the name, with the permissions the user's umask gives
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def export(results: Iterable[Result], path: Path, format: str, labels: str = "en") -> int:
    """Write `results` to `path` as `format`, headed in `labels` ("en" keys or "zh" labels); returns rows written.

    Through `write`: `path` is replaced only when the whole export succeeded; a cell a format cannot hold is
    written as `write` says, its problem added to the row's `error` column.
    """
    if format not in FORMATS:
        raise ExportError(f"unknown format {format!r}: choose one of {', '.join(FORMATS)}")
    table = results_table(labels)
    return write(_rows(results, [column.key for column in table.columns]), table, path, format)

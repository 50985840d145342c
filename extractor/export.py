"""Results as a table: one row per report, one column per contract key, in CSV, XLSX, JSON lines or Parquet.

Every writer streams: it takes any iterable of results, holds one row (Parquet: one batch) at a time, and
writes to a hidden temporary file next to the target, renamed over it only once the last row is written,
so a crash never leaves a half file under the final name.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from decimal import Decimal
from pathlib import Path
from typing import Any

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

Row = list[Any]


class ExportError(Exception):
    """The export cannot be made as asked: an unknown format, a missing library, too many rows."""


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


def _number_text(value: Decimal) -> str:
    """A Decimal as a plain number, exactly as held: 96171.6 → "96171.6", 1E+3 → "1000"; never an exponent."""
    if not value.is_finite():
        raise ExportError(f"not a finite number: {value}")
    return format(value, "f")


def _rows(results: Iterable[Result], keys: list[str]) -> Iterator[Row]:
    for result in results:
        yield _row(result, keys)


# ----------------------------------------------------------------------------------------------------------------------
# The writers: each gets the rows, the headers and a temporary path to write, and returns how many rows it wrote.


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return _number_text(value) if isinstance(value, Decimal) else value


def _write_csv(rows: Iterator[Row], cols: list[tuple[str, str]], target: Path, labels: str) -> int:
    count = 0
    with target.open("w", encoding="utf-8-sig", newline="") as handle:  # the BOM makes Excel read it as UTF-8
        writer = csv.writer(handle)
        writer.writerow([header for _, header in cols])
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
            count += 1
    return count


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    if isinstance(value, Decimal):
        return _number_text(value)  # the digits as held, so a reader with parse_float=Decimal gets them back exactly
    return json.dumps(value, ensure_ascii=False)


def _write_jsonl(rows: Iterator[Row], cols: list[tuple[str, str]], target: Path, labels: str) -> int:
    names = [json.dumps(header, ensure_ascii=False) for _, header in cols]
    count = 0
    with target.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            pairs = (f"{name}: {_json_value(value)}" for name, value in zip(names, row, strict=True))
            handle.write("{" + ", ".join(pairs) + "}\n")
            count += 1
    return count


def _xlsx_number(value: int | Decimal | None) -> int | float | None:
    """Numbers stay numbers: Excel keeps 15 significant digits, which every printed amount fits."""
    return float(value) if isinstance(value, Decimal) else value


def _write_xlsx(rows: Iterator[Row], cols: list[tuple[str, str]], target: Path, labels: str) -> int:
    try:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter
    except ImportError as error:
        raise ExportError("xlsx export needs openpyxl: pip install openpyxl") from error

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(XLSX_SHEET)
    sheet.freeze_panes = "A2"  # the header row stays in view
    for index, (key, _) in enumerate(cols, start=1):  # widths must be set before the first row
        sheet.column_dimensions[get_column_letter(index)].width = XLSX_WIDTHS.get(key, XLSX_NUMBER_WIDTH[labels])

    def text(value: str) -> WriteOnlyCell:
        """A string cell, always text: control characters (which Excel refuses) dropped, "=…" never a formula."""
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_TEXT])
        cell.data_type = "s"
        return cell

    bottom = Alignment(vertical="bottom")  # Excel's default look, but a style, so openpyxl writes the cell

    def blank() -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet)
        cell.alignment = bottom
        return cell

    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header = []
    for _, name in cols:
        cell = text(name)
        cell.font, cell.alignment = bold, wrap
        header.append(cell)
    sheet.append(header)

    count = 0
    try:
        for row in rows:
            if count == XLSX_MAX_ROWS:
                raise ExportError(
                    f"xlsx holds at most {XLSX_MAX_ROWS:,} reports a sheet: export csv or parquet instead"
                )
            cells = [text(value) if isinstance(value, str) else _xlsx_number(value) for value in row]
            if cells[-1] is None:  # a blank but present last cell keeps every row full width for streaming readers
                cells[-1] = blank()
            sheet.append(cells)
            count += 1
    except BaseException:
        with suppress(Exception):  # closes and removes openpyxl's own temporary copy of the sheet; export drops ours
            workbook.save(str(target))
        raise
    workbook.save(str(target))
    return count


def _write_parquet(rows: Iterator[Row], cols: list[tuple[str, str]], target: Path, labels: str) -> int:
    """Typed columns: strings for the text meta, int64 for year, finding counts and counts, float64 for amounts."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ExportError("parquet export needs pyarrow: pip install 'nianbao[parquet]'") from error

    amounts = amount_keys()
    fields_contract = contract()
    schema_fields = []
    for key, header in cols:
        kind = pa.string() if key in STRING_META else pa.float64() if key in amounts else pa.int64()
        metadata = {"key": key}
        if key in fields_contract:
            metadata["label"] = fields_contract[key]["label"]
        schema_fields.append(pa.field(header, kind, nullable=True, metadata=metadata))
    schema = pa.schema(schema_fields)
    converters: list[Callable[[Any], Any]] = [
        _to_float if key in amounts else _to_int if key not in STRING_META else _same for key, _ in cols
    ]

    count = 0
    with pq.ParquetWriter(str(target), schema) as writer:
        batch: list[list[Any]] = [[] for _ in cols]
        for row in rows:
            for column, convert, value in zip(batch, converters, row, strict=True):
                column.append(convert(value))
            count += 1
            if count % PARQUET_BATCH == 0:
                writer.write_batch(pa.record_batch(batch, schema=schema))
                batch = [[] for _ in cols]
        if batch[0]:
            writer.write_batch(pa.record_batch(batch, schema=schema))
    return count


def _same(value: Any) -> Any:
    return value


def _to_float(value: int | Decimal | None) -> float | None:
    return None if value is None else float(value)


def _to_int(value: int | Decimal | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if value == value.to_integral_value():
        return int(value)
    raise ExportError(f"a count holds a fraction: {value}")


WRITERS = {"csv": _write_csv, "xlsx": _write_xlsx, "jsonl": _write_jsonl, "parquet": _write_parquet}


def export(results: Iterable[Result], path: Path, format: str, labels: str = "en") -> int:
    """Write `results` to `path` as `format`, headed in `labels` ("en" keys or "zh" labels); returns rows written.

    `path` is replaced only when the whole export succeeded; on any error it is left as it was.
    """
    if format not in FORMATS:
        raise ExportError(f"unknown format {format!r}: choose one of {', '.join(FORMATS)}")
    cols = columns(labels)
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.open("xb").close()  # claims the name, with the permissions the user's umask gives
    try:
        count = WRITERS[format](_rows(results, [key for key, _ in cols]), cols, temporary, labels)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count

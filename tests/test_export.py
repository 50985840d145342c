"""`extractor.export`: results as CSV, XLSX, JSON lines and Parquet tables, from the real pipeline's results."""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import shared_corpus

from extractor import export as export_module
from extractor.export import FORMATS, ExportError, columns, export, format_for
from extractor.pipeline import extract_file
from schemas.flat import contract, label
from schemas.result import Finding, Result

META_EN = [
    "source",
    "sha256",
    "organ",
    "organ_key",
    "year",
    "template",
    "status",
    "error_count",
    "warning_count",
    "error",
]
META_ZH = ["来源文件", "SHA256", "机关", "机关标识", "年度", "模板", "状态", "错误数", "警告数", "错误信息"]
HUAIAN = "huaian-szf-2024.pdf"
NANGUAN = "000_5e37bbcb16f0abd5.txt"

# Known cells, as text (so one table serves every format): "" is null.
EXPECTED = {
    HUAIAN: {
        "organ": "淮安市人民政府",
        "organ_key": "淮安市人民政府",
        "year": "2024",
        "template": "2021",
        "status": "verified",
        "error_count": "0",
        "t2.fees.amount": "96171.6",
        "t3.new.total": "3119",
        "t2.procurement.amount": "",  # a 2019 key: the 2021 report has no such cell
        "t2.normative.made": "",
        "error": "",
    },
    NANGUAN: {
        "organ": "原州区南关街道办事处",
        "year": "2020",
        "template": "2019",
        "status": "flagged",
        "error_count": "5",
        "warning_count": "0",
        "t2.normative.made": "131",
        "t2.fees.amount": "",  # a 2021 key
        "t3.other_handling.no_correction.total": "",
    },
    "empty.txt": {
        "status": "failed",
        "error": "empty file",
        "sha256": "",
        "organ": "",
        "year": "",
        "template": "",
        "error_count": "0",
        "t3.new.total": "",
    },
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[Result]:
    empty = tmp_path_factory.mktemp("bad") / "empty.txt"
    empty.write_bytes(b"")
    return [extract_file(path) for path in [*shared_corpus(), empty]]


@pytest.fixture(scope="module")
def huaian(results: list[Result]) -> Result:
    return next(result for result in results if result.source == HUAIAN)


def read_back(path: Path, format: str) -> tuple[list[str], list[list[Any]]]:
    """The headers and rows of an exported file, as each format's own reader gives them."""
    if format == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        return header, rows
    if format == "xlsx":
        workbook = openpyxl.load_workbook(path, read_only=True)
        header, *rows = [list(row) for row in workbook["reports"].iter_rows(values_only=True)]
        workbook.close()
        return header, rows
    if format == "jsonl":
        objects = [json.loads(line, parse_float=Decimal) for line in path.read_text("utf-8").splitlines()]
        assert all(list(item) == list(objects[0]) for item in objects)
        return list(objects[0]), [list(item.values()) for item in objects]
    table = pq.read_table(path)
    return table.column_names, [list(row.values()) for row in table.to_pylist()]


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


def as_number(value: Any) -> Decimal | None:
    """A cell's number, whichever way its format gives it back: "0", 0 and 0.0 are all Decimal(0)."""
    return None if value is None or value == "" else Decimal(str(value))


# ----------------------------------------------------------------------------------------------------------------------
# Columns


def test_columns_are_the_meta_then_every_contract_key_in_order() -> None:
    english = columns("en")
    assert [key for key, _ in english] == [*META_EN, *contract()]
    assert len(english) == len(META_EN) + 226
    assert [header for _, header in english] == [*META_EN, *contract()]


def test_chinese_headers_are_the_labels_and_unique() -> None:
    chinese = columns("zh")
    assert [key for key, _ in chinese] == [key for key, _ in columns("en")]
    assert [header for _, header in chinese[: len(META_ZH)]] == META_ZH
    fees = "第二十条第（八）项 行政事业性收费 · 本年收费金额（单位：万元）"
    assert dict(chinese)["t2.fees.amount"] == label("t2.fees.amount") == fees
    headers = [header for _, header in chinese]
    assert len(set(headers)) == len(headers)
    assert all(header == label(key) for key, header in chinese[len(META_ZH) :])  # no label needed disambiguating


def test_repeated_labels_get_their_key_deterministically(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = {
        "t2.a.x": {"label": "同一个", "templates": ["2019"]},
        "t2.b.x": {"label": "不同", "templates": ["2019"]},
        "t2.c.x": {"label": "同一个", "templates": ["2021"]},
        "t2.d.x": {"label": "机关", "templates": ["2021"]},  # the same as a meta column's header
    }
    monkeypatch.setattr(export_module, "contract", lambda: fake)
    headers = [header for _, header in columns("zh")]
    assert headers[len(META_ZH) :] == ["同一个 [t2.a.x]", "不同", "同一个 [t2.c.x]", "机关 [t2.d.x]"]
    assert headers[2] == "机关"  # the meta headers never change
    assert len(set(headers)) == len(headers)
    assert columns("zh") == columns("zh")


def test_bad_arguments(tmp_path: Path, huaian: Result) -> None:
    with pytest.raises(ExportError, match="unknown labels"):
        columns("fr")
    with pytest.raises(ExportError, match="unknown format"):
        export([huaian], tmp_path / "out.xls", "xls")
    assert list(tmp_path.iterdir()) == []
    assert [format_for(Path(f"a/b.{suffix}")) for suffix in ("CSV", "xlsx", "jsonl", "parquet", "json")] == [
        "csv",
        "xlsx",
        "jsonl",
        "parquet",
        None,
    ]


# ----------------------------------------------------------------------------------------------------------------------
# Every format: rows, header order, known values


@pytest.mark.parametrize("labels", ["en", "zh"])
@pytest.mark.parametrize("format", FORMATS)
def test_every_format_round_trips(tmp_path: Path, results: list[Result], format: str, labels: str) -> None:
    path = tmp_path / f"reports.{format}"
    assert export(iter(results), path, format, labels) == len(results) == 7
    header, rows = read_back(path, format)
    assert header == [name for _, name in columns(labels)]
    assert len(header) == 236
    assert len(rows) == 7
    assert [row[0] for row in rows] == [result.source for result in results]
    index = {key: position for position, (key, _) in enumerate(columns(labels))}
    for source, expected in EXPECTED.items():
        row = next(row for row in rows if row[0] == source)
        assert {key: as_text(row[index[key]]) for key in expected} == expected, source
    failed = next(row for row in rows if row[0] == "empty.txt")
    assert all(as_text(value) == "" for value in failed[len(META_EN) :])
    assert list(tmp_path.iterdir()) == [path]  # no temporary left behind


def test_every_field_value_survives(tmp_path: Path, results: list[Result]) -> None:
    """Each exported cell equals the result's value, for every report, key and format."""
    keys = list(contract())
    for format in FORMATS:
        path = tmp_path / f"all.{format}"
        export(results, path, format)
        _, rows = read_back(path, format)
        for result, row in zip(results, rows, strict=True):
            got = [as_number(value) for value in row[len(META_EN) :]]
            want = [as_number(result.fields.get(key)) for key in keys]
            assert got == want, (format, result.source)


# ----------------------------------------------------------------------------------------------------------------------
# Format specifics


def test_xlsx_is_a_plain_frozen_typed_sheet(tmp_path: Path, results: list[Result]) -> None:
    path = tmp_path / "reports.xlsx"
    odd = results[-1].model_copy(update={"source": "=HYPERLINK(1)", "error": "bad\x00byte"})
    export([*results, odd], path, "xlsx", labels="zh")
    workbook = openpyxl.load_workbook(path)  # full mode: frozen panes, fonts and widths
    assert workbook.sheetnames == ["reports"]
    sheet = workbook["reports"]
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 9
    assert sheet.max_column == 236
    assert [cell.value for cell in sheet[1][: len(META_ZH)]] == META_ZH
    assert sheet.cell(1, len(META_ZH) + 1).value == "第二十条第（一）项 规章 · 本年新制作数量"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["A"].width == 32

    position = {key: number for number, (key, _) in enumerate(columns(), start=1)}
    row = next(number for number in range(2, 10) if sheet.cell(number, 1).value == HUAIAN)
    amount = sheet.cell(row, position["t2.fees.amount"])
    assert amount.data_type == "n"
    assert isinstance(amount.value, float)
    assert amount.value == 96171.6
    count = sheet.cell(row, position["t3.new.total"])
    assert count.data_type == "n"
    assert type(count.value) is int
    assert count.value == 3119
    assert sheet.cell(row, position["year"]).value == 2024
    assert sheet.cell(row, position["organ"]).value == "淮安市人民政府"
    assert sheet.cell(row, position["t2.procurement.amount"]).value is None
    numbers = [sheet.cell(row, column).value for column in range(len(META_EN) + 1, sheet.max_column + 1)]
    assert not any(isinstance(value, str) for value in numbers)
    assert sum(isinstance(value, int | float) for value in numbers) == 200

    last = sheet[9]
    assert last[0].value == "=HYPERLINK(1)"
    assert last[0].data_type == "s"  # text, never a formula
    assert last[position["error"] - 1].value == "badbyte"  # a control character Excel would refuse, dropped


def test_csv_has_a_bom_and_plain_numbers(tmp_path: Path, results: list[Result]) -> None:
    path = tmp_path / "reports.csv"
    export(results, path, "csv", labels="zh")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + "来源文件,SHA256,机关".encode())
    assert "淮安市人民政府".encode() in data
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 8
    assert all(len(row) == 236 for row in rows)
    huaian = next(row for row in rows if row[0] == HUAIAN)
    position = {key: number for number, (key, _) in enumerate(columns())}
    assert huaian[position["t2.fees.amount"]] == "96171.6"
    assert huaian[position["t3.new.total"]] == "3119"
    assert huaian[position["t2.procurement.amount"]] == ""


def test_csv_numbers_never_use_exponents(tmp_path: Path, huaian: Result) -> None:
    fields = {**huaian.fields, "t2.fees.amount": Decimal("1E+3"), "t2.procurement.amount": Decimal("0.00001")}
    path = tmp_path / "reports.csv"
    export([huaian.model_copy(update={"fields": fields})], path, "csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, row = list(csv.reader(handle))
    assert row[header.index("t2.fees.amount")] == "1000"
    assert row[header.index("t2.procurement.amount")] == "0.00001"


def test_parquet_columns_are_typed(tmp_path: Path, results: list[Result]) -> None:
    path = tmp_path / "reports.parquet"
    export(results, path, "parquet", labels="zh")
    table = pq.read_table(path)
    schema = table.schema
    for name in ["来源文件", "SHA256", "机关", "模板", "状态", "错误信息"]:
        assert schema.field(name).type == pa.string()
    for name in ["年度", "错误数", "警告数", label("t3.new.total"), label("t2.normative.made")]:
        assert schema.field(name).type == pa.int64()
    assert schema.field(label("t2.fees.amount")).type == pa.float64()
    assert schema.field(label("t2.procurement.amount")).type == pa.float64()
    metadata = schema.field(label("t3.new.total")).metadata
    assert metadata == {b"key": b"t3.new.total", b"label": label("t3.new.total").encode()}

    rows = {row["来源文件"]: row for row in table.to_pylist()}
    assert rows[HUAIAN][label("t2.fees.amount")] == 96171.6
    assert rows[HUAIAN][label("t3.new.total")] == 3119
    assert rows[HUAIAN]["年度"] == 2024
    assert rows[NANGUAN][label("t2.normative.made")] == 131
    assert rows[NANGUAN][label("t2.fees.amount")] is None
    assert rows[NANGUAN]["错误数"] == 5
    assert rows["empty.txt"]["错误信息"] == "empty file"
    assert rows["empty.txt"]["年度"] is None
    assert table.column(label("t3.new.total")).null_count == 2  # 001 prints no number there; the failed read


def test_jsonl_keeps_decimals_exact(tmp_path: Path, huaian: Result) -> None:
    exact = Decimal("12345678901234.56789")  # more digits than a float holds
    fields = {**huaian.fields, "t2.procurement.amount": exact}
    path = tmp_path / "reports.jsonl"
    export([huaian, huaian.model_copy(update={"fields": fields})], path, "jsonl")
    text = path.read_text("utf-8")
    assert "淮安市人民政府" in text  # not \u escapes
    first, second = (json.loads(line, parse_float=Decimal) for line in text.splitlines())
    assert first["t2.fees.amount"] == Decimal("96171.6")
    assert str(first["t2.fees.amount"]) == "96171.6"
    assert json.loads(text.splitlines()[0])["t2.fees.amount"] == 96171.6  # a plain reader gets a number
    assert first["t3.new.total"] == 3119
    assert type(first["t3.new.total"]) is int
    assert first["t2.procurement.amount"] is None
    assert first["error"] is None
    assert second["t2.procurement.amount"] == exact
    assert str(second["t2.procurement.amount"]) == "12345678901234.56789"


def test_finding_counts(tmp_path: Path, huaian: Result) -> None:
    def finding(severity: str) -> Finding:
        return Finding(rule="x", severity=severity, blame="source", zh="", en="")  # type: ignore[arg-type]

    findings = [finding("error"), finding("warning"), finding("warning"), finding("info")]
    path = tmp_path / "reports.jsonl"
    export([huaian.model_copy(update={"findings": findings})], path, "jsonl")
    row = json.loads(path.read_text("utf-8"))
    assert (row["error_count"], row["warning_count"]) == (1, 2)


# ----------------------------------------------------------------------------------------------------------------------
# Streaming and safety


def many(result: Result, count: int, watch: Path | None = None) -> Iterator[Result]:
    """`count` copies of a result; halfway, checks the export is being written, to a temporary, as it goes."""
    for number in range(count):
        if watch is not None and number == count // 2:
            assert not watch.exists()
            assert [path.name.startswith(f".{watch.name}.") for path in watch.parent.iterdir()] == [True]
        yield result.model_copy(update={"source": f"report-{number:05}.pdf"})


@pytest.mark.parametrize("format", ["xlsx", "parquet"])
def test_a_generator_of_5000_streams(tmp_path: Path, huaian: Result, format: str) -> None:
    path = tmp_path / f"big.{format}"
    assert export(many(huaian, 5000, watch=path), path, format) == 5000
    if format == "parquet":
        metadata = pq.ParquetFile(path).metadata
        assert metadata.num_rows == 5000
        assert metadata.num_row_groups == 5  # written a batch of 1,000 at a time
        assert pq.read_table(path, columns=["source"]).column(0)[4999].as_py() == "report-04999.pdf"
    else:  # openpyxl would take seconds to read 1.2 million cells back: count the sheet's rows in its XML
        with zipfile.ZipFile(path) as archive:
            sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
        assert sheet.count("<row ") == 5001
        assert sheet.count("<pane ") == 1
        assert sheet.rindex("report-04999.pdf") > sheet.rindex('<row r="5001"')


@pytest.mark.parametrize("format", FORMATS)
def test_a_crash_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, huaian: Result, format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "system-temp"  # where openpyxl keeps its own copy of the sheet while writing
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / f"reports.{format}"
    path.write_text("the previous export")

    def crashing() -> Iterator[Result]:
        yield from many(huaian, 1100)  # past parquet's first batch
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        export(crashing(), path, format)
    assert path.read_text() == "the previous export"
    assert sorted(tmp_path.iterdir()) == [path, scratch]
    assert list(scratch.iterdir()) == []


def test_missing_pyarrow_says_how_to_get_it(tmp_path: Path, huaian: Result, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` raise ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "reports.parquet"
    with pytest.raises(ExportError) as caught:
        export([huaian], path, "parquet")
    assert str(caught.value) == "parquet export needs pyarrow: pip install 'nianbao[parquet]'"
    assert list(tmp_path.iterdir()) == []


def test_an_empty_export_has_the_header(tmp_path: Path) -> None:
    for format in FORMATS:
        path = tmp_path / f"none.{format}"
        assert export([], path, format) == 0
        if format == "jsonl":
            assert path.read_text("utf-8") == ""
        else:
            header, rows = read_back(path, format)
            assert header == META_EN + list(contract())
            assert rows == []


# ----------------------------------------------------------------------------------------------------------------------
# Untrusted text and numbers no format holds

# What a report's text may start with that a spreadsheet would run as a formula, or mangle (tab, CR).
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
HOSTILE_SOURCE = '=HYPERLINK("http://x","y").pdf'


@pytest.fixture(scope="module")
def nanguan(results: list[Result]) -> Result:
    return next(result for result in results if result.source == NANGUAN)


def hostile(result: Result) -> list[Result]:
    """A copy of `result` per hostile organ, its file name a formula too, and a count of -3 in 本年增/减."""
    assert result.template == "2019"  # t2.licensing.change is a 2019 cell
    fields = {**result.fields, "t2.licensing.change": -3}
    return [result.model_copy(update={"organ": organ, "source": HOSTILE_SOURCE, "fields": fields}) for organ in HOSTILE]


def test_csv_text_that_starts_a_formula_gets_a_quote(tmp_path: Path, nanguan: Result) -> None:
    path = tmp_path / "reports.csv"
    export(hostile(nanguan), path, "csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert [row[header.index("organ")] for row in rows] == ["'" + organ for organ in HOSTILE]
    assert {row[header.index("source")] for row in rows} == {"'" + HOSTILE_SOURCE}
    assert {row[header.index("t2.licensing.change")] for row in rows} == {"-3"}  # a number: no quote
    assert {row[header.index("organ_key")] for row in rows} == {nanguan.organ_key}  # plain text is untouched
    assert {row[header.index("t2.normative.made")] for row in rows} == {"131"}


def test_xlsx_text_that_starts_a_formula_is_text(tmp_path: Path, nanguan: Result) -> None:
    path = tmp_path / "reports.xlsx"
    export(hostile(nanguan), path, "xlsx")
    sheet = openpyxl.load_workbook(path)["reports"]
    position = {key: number for number, (key, _) in enumerate(columns(), start=1)}
    organs = [sheet.cell(row, position["organ"]) for row in range(2, 2 + len(HOSTILE))]
    assert [cell.data_type for cell in organs] == ["s"] * len(HOSTILE)
    assert [cell.value for cell in organs] == HOSTILE  # as printed: no quote in a text cell
    for row in range(2, 2 + len(HOSTILE)):
        source = sheet.cell(row, position["source"])
        assert (source.data_type, source.value) == ("s", HOSTILE_SOURCE)
        change = sheet.cell(row, position["t2.licensing.change"])
        assert (change.data_type, change.value) == ("n", -3)


HUGE = 10**23  # more than int64 (about 9.2e18) holds, and more digits than Excel keeps


def test_a_huge_integer_fails_its_cell_not_the_export(tmp_path: Path, huaian: Result) -> None:
    """Every format writes the batch: CSV and JSON lines every digit, XLSX the digits as text, Parquet a null
    with the row's error naming the cell; the other cells and rows as they are."""
    fields = {
        **huaian.fields,
        "t3.new.total": HUGE,
        "t3.granted.total": 999_999_999_999_999,  # 15 digits: Excel holds it, a number
        "t2.fees.amount": Decimal("1E+23"),  # an amount float64 holds, but not Excel
        "t2.procurement.amount": Decimal("1E+400"),  # beyond a float
    }
    big = huaian.model_copy(update={"source": "big.pdf", "fields": fields})
    batch = [huaian, big, huaian]
    for format in FORMATS:
        path = tmp_path / f"reports.{format}"
        assert export(batch, path, format) == 3
        header, rows = read_back(path, format)
        new, granted = header.index("t3.new.total"), header.index("t3.granted.total")
        fees, procurement = header.index("t2.fees.amount"), header.index("t2.procurement.amount")
        error, organ = header.index("error"), header.index("organ")
        assert [as_text(row[new]) for row in (rows[0], rows[2])] == ["3119", "3119"], format
        assert as_text(rows[1][organ]) == "淮安市人民政府", format
        if format in ("csv", "jsonl"):
            assert as_number(rows[1][new]) == HUGE
            assert as_text(rows[1][new]) == str(HUGE)  # every digit, no exponent
            assert as_number(rows[1][fees]) == Decimal("1E+23")
            assert as_number(rows[1][procurement]) == Decimal("1E+400")
            assert as_text(rows[1][error]) == ""
        elif format == "xlsx":
            assert rows[1][new] == str(HUGE)  # text, with every digit: never 1E+23
            assert rows[1][granted] == 999_999_999_999_999
            assert rows[1][fees] == str(10**23)
            assert rows[1][procurement] == "1" + "0" * 400
            assert rows[1][error] is None
        else:
            assert rows[1][new] is None
            assert rows[1][fees] == 1e23
            assert rows[1][procurement] is None
            assert rows[1][granted] == 999_999_999_999_999
            assert rows[1][error] == (  # in column order
                "t2.procurement.amount left null: 1.000000e+400 is beyond a 64-bit float; "
                f"t3.new.total left null: {HUGE} does not fit a 64-bit integer"
            )
            assert rows[0][error] is None and rows[2][error] is None


def test_xlsx_writes_a_huge_integer_as_its_digits(tmp_path: Path, huaian: Result) -> None:
    fields = {**huaian.fields, "t3.new.total": HUGE, "t3.granted.total": -HUGE, "t3.partial.total": 10**15}
    path = tmp_path / "reports.xlsx"
    export([huaian.model_copy(update={"fields": fields})], path, "xlsx")
    sheet = openpyxl.load_workbook(path)["reports"]
    position = {key: number for number, (key, _) in enumerate(columns(), start=1)}
    for key, value in [("t3.new.total", HUGE), ("t3.granted.total", -HUGE), ("t3.partial.total", 10**15)]:
        cell = sheet.cell(2, position[key])
        assert (cell.data_type, cell.value) == ("s", str(value)), key  # 16 digits or more: text, every digit
    carried = sheet.cell(2, position["t3.carried_over.total"])
    assert (carried.data_type, type(carried.value)) == ("n", int)  # an ordinary count stays a number
    with zipfile.ZipFile(path) as archive:
        assert b"e+22" not in archive.read("xl/worksheets/sheet1.xml")


def test_a_failing_cell_adds_to_the_rows_error(tmp_path: Path, results: list[Result]) -> None:
    failed = next(result for result in results if result.source == "empty.txt")
    fields = {"t2.fees.amount": Decimal("NaN"), "t3.new.total": Decimal("1.5"), "t3.granted.total": Decimal("7")}
    odd = failed.model_copy(update={"year": -HUGE, "fields": fields})
    path = tmp_path / "reports.parquet"
    export([odd], path, "parquet")
    [row] = pq.read_table(path).to_pylist()
    assert row["year"] is None and row["t2.fees.amount"] is None and row["t3.new.total"] is None
    assert row["t3.granted.total"] == 7
    assert row["error"] == (  # the row's own error first, then each failed cell in column order
        f"empty file; year left null: {-HUGE} does not fit a 64-bit integer; "
        "t3.new.total left null: a count holds a fraction: 1.5; "
        "t2.fees.amount left null: not a finite number: NaN"  # a 2021 key, after the 2019 ones
    )
    for format in ("csv", "jsonl", "xlsx"):  # the NaN fails there too, alone
        export([odd], tmp_path / f"reports.{format}", format)
        header, [written] = read_back(tmp_path / f"reports.{format}", format)
        assert as_text(written[header.index("t2.fees.amount")]) == "", format
        assert as_text(written[header.index("t3.new.total")]) == "1.5", format
        assert as_text(written[header.index("error")]) == (
            "empty file; t2.fees.amount left null: not a finite number: NaN"
        ), format

"""The review queue and the store's exports, as a reviewer uses them."""

from __future__ import annotations

import csv
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

import pytest
from helpers import shared_corpus
from openpyxl import load_workbook
from typer.testing import CliRunner

from extractor import export as export_module
from extractor import jobs, review
from extractor.cli import app
from extractor.settings import Settings
from extractor.store import Store
from schemas.result import dump_line, load_line

ROOT = Path(__file__).parent.parent
CASES = Path(__file__).parent / "cases"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for report in shared_corpus():
        shutil.copy(report, folder)
    for case in CASES.glob("*.txt"):
        shutil.copy(case, folder)
    path = tmp_path / "store.db"
    jobs.run(sorted(folder.iterdir()), Store(path), Settings(), workers=1)
    return path


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_the_queue_holds_flagged_reports_worst_first(store: Path) -> None:
    queue = review.queue(Store(store))
    assert [item.result.source for item in queue] == [
        "cut-off-2021.txt",  # 16 errors
        "000_5e37bbcb16f0abd5.txt",  # 5
        "bad-totals-2019.txt",  # 3
        "002_665b31d60e6fc78f.txt",  # 1
    ]
    assert queue[2].reasons == "t3.row_total.granted, t3.handled_sum.total, t4.block_total.reconsideration"
    listed = run("review", "list", "--store", store)
    assert listed.exit_code == 0 and "cut-off-2021.txt" in listed.output


def test_the_queue_lists_each_report_as_its_stored_result_says(store: Path) -> None:
    for item in review.queue(Store(store)):
        result = item.result  # read only now, from the store
        assert (item.source, item.organ, item.year, item.template) == (
            result.source,
            result.organ,
            result.year,
            result.template,
        )
        assert item.findings == [(finding.rule, finding.severity) for finding in result.findings]


def test_the_queue_and_its_progress_open_without_parsing_a_single_result(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk run leaves thousands flagged: listing them parsed every stored result, seconds per page."""

    def parse(line: str) -> None:
        raise AssertionError("a stored result was parsed")

    monkeypatch.setattr("extractor.store.load_line", parse)
    opened = Store(store)
    assert [item.source for item in review.pending(opened, {"rule": "row_total"})] == ["bad-totals-2019.txt"]
    assert review.progress(opened) == (0, 4)
    with pytest.raises(AssertionError, match="parsed"):
        _ = review.queue(opened)[0].result  # the whole result, once a person opens the report


def test_show_puts_each_finding_beside_its_source_lines(store: Path) -> None:
    bad = next(item for item in review.queue(Store(store)) if item.result.source == "bad-totals-2019.txt")
    shown = dict((f.rule, lines) for f, lines in bad.with_source_lines())
    assert any("予以公开" in text for _, text in shown["t3.row_total.granted"])
    output = run("review", "show", bad.result_id, "--store", store).output
    assert "t4.block_total.reconsideration" in output and "予以公开" in output


def test_the_exported_queue_is_a_spreadsheet_with_room_for_decisions(store: Path, tmp_path: Path) -> None:
    assert run("review", "export", "-o", tmp_path / "queue.xlsx", "--store", store).exit_code == 0
    sheet = load_workbook(tmp_path / "queue.xlsx").active
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:2] == ["result id", "source"] and "decision (accept/reject/correct)" in header
    assert sheet.max_row == 1 + 16 + 5 + 3 + 1


def test_decisions_and_corrections_are_kept_with_who_and_when(store: Path) -> None:
    item = review.queue(Store(store))[2]
    ok = run(
        "review",
        "decide",
        item.result_id,
        "--reviewer",
        "王芳",
        "--decision",
        "correct",
        "--key",
        "t3.granted.total",
        "--value",
        "64",
        "--note",
        "原表合计笔误",
        "--store",
        store,
    )
    assert ok.exit_code == 0
    [decision] = Store(store).reviews(item.result_id)
    assert (decision["reviewer"], decision["key"], decision["old_value"], decision["new_value"]) == (
        "王芳",
        "t3.granted.total",
        "46",
        "64",
    )
    assert decision["created"] > 0
    assert (
        run("review", "decide", item.result_id, "--reviewer", "x", "--decision", "maybe", "--store", store).exit_code
        == 2
    )
    assert (
        run(
            "review",
            "decide",
            item.result_id,
            "--reviewer",
            "x",
            "--decision",
            "correct",
            "--key",
            "t9.x",
            "--value",
            "1",
            "--store",
            store,
        ).exit_code
        == 2
    )


def test_export_writes_each_documents_newest_result(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports.xlsx"
    assert run("export", out, "--labels", "zh", "--store", store).exit_code == 0
    sheet = load_workbook(out).active
    assert sheet.max_row == 1 + 9
    assert sheet.cell(1, 1).value == "来源文件"
    assert run("export", tmp_path / "reports.unknown", "--store", store).exit_code == 2


# What a report's text may start with that a spreadsheet would run as a formula, or mangle (tab, CR).
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
HOSTILE_SOURCE = "=1+2.txt"


def rewrite(store: Path, result_id: int, **update: object) -> None:
    """Change a stored result as a hostile report's extraction would have made it."""
    with closing(sqlite3.connect(store)) as db, db:
        [line] = db.execute("SELECT result FROM results WHERE id = ?", (result_id,)).fetchone()
        result = load_line(line).model_copy(update=update)
        db.execute(  # the columns the queue lists it by too, as the store writes them with the result
            "UPDATE results SET result = ?, source = ?, organ = ?, year = ? WHERE id = ?",
            (dump_line(result), result.source, result.organ, result.year, result_id),
        )


def test_the_exported_queue_never_holds_a_formula(store: Path, tmp_path: Path) -> None:
    first = review.queue(Store(store))[0]
    findings, year = len(first.result.findings), first.result.year
    assert findings and year
    for organ in HOSTILE:
        rewrite(store, first.result_id, organ=organ, source=HOSTILE_SOURCE)
        assert run("review", "export", "-o", tmp_path / "queue.csv", "--store", store).exit_code == 0
        with (tmp_path / "queue.csv").open(encoding="utf-8-sig", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        assert header == list(review.COLUMNS)
        mine = [row for row in rows if row[0] == str(first.result_id)]
        assert len(mine) == findings
        assert {(row[1], row[2], row[3]) for row in mine} == {("'" + HOSTILE_SOURCE, "'" + organ, str(year))}
        assert all(row[-4:] == ["", "", "", ""] for row in rows)  # the reviewer's columns, empty

        assert run("review", "export", "-o", tmp_path / "queue.xlsx", "--store", store).exit_code == 0
        sheet = load_workbook(tmp_path / "queue.xlsx")["review"]
        mine = [row for row in sheet.iter_rows(min_row=2) if row[0].value == first.result_id]
        assert len(mine) == findings
        for row in mine:
            assert (row[1].data_type, row[1].value) == ("s", HOSTILE_SOURCE)
            assert (row[2].data_type, row[2].value) == ("s", organ)  # text as printed, never a formula
            assert (row[0].data_type, row[3].data_type, row[3].value) == ("n", "n", year)  # numbers stay numbers
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]  # no temporary left behind


@pytest.mark.parametrize("format", ["csv", "xlsx"])
@pytest.mark.parametrize("old", ["the previous queue", None])
def test_a_failed_review_export_leaves_the_old_file(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, format: str, old: str | None
) -> None:
    scratch = tmp_path / "system-temp"  # where openpyxl keeps its own copy of the sheet while writing
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = tmp_path / "out"
    out.mkdir()
    path = out / f"queue.{format}"
    if old is not None:
        path.write_text(old)
    real = export_module._cells
    written = []

    def failing(*args: object) -> list[object]:  # the writer dies on its third row, two already written
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(True)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(export_module, "_cells", failing)
    with pytest.raises(OSError, match="No space left"):
        review.export(Store(store), path)
    assert len(written) == 2
    assert list(out.iterdir()) == ([path] if old is not None else [])  # no half file, no temporary
    if old is not None:
        assert path.read_text() == old
    assert list(scratch.iterdir()) == []


def test_the_queue_goes_to_csv_or_xlsx_only(store: Path, tmp_path: Path) -> None:
    result = run("review", "export", "-o", tmp_path / "queue.txt", "--store", store)
    assert result.exit_code == 2
    assert "queue.txt" in result.output and ".xlsx or .csv" in result.output
    assert not (tmp_path / "queue.txt").exists()

"""The review queue and the store's exports, as a reviewer uses them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import shared_corpus
from openpyxl import load_workbook
from typer.testing import CliRunner

from extractor import jobs, review
from extractor.cli import app
from extractor.settings import Settings
from extractor.store import Store

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

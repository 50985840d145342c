"""`nianbao extract`, `verify` and `eval`, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "eval" / "corpus"
GOLD = ROOT / "eval" / "gold"
VERIFIED = CORPUS / "003_bca12cc4fb8d9f2c.txt"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_extract_writes_one_json_line_per_report(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    result = run("extract", CORPUS, "-o", out, "--quiet")
    rows = lines_of(out)
    assert [row["source"] for row in rows] == sorted(p.name for p in CORPUS.iterdir())
    for row in rows:
        assert {"source", "organ", "year", "template", "status", "fields", "findings"} <= set(row)
        assert row["template"] in ("2019", "2021")
    by_source = {row["source"]: row for row in rows}
    assert by_source["huaian-szf-2024.pdf"]["fields"]["t2.fees.amount"] == 96171.6
    assert by_source["000_5e37bbcb16f0abd5.txt"]["status"] == "flagged"
    assert result.exit_code == 1  # some flagged, none failed


def test_extract_writes_to_stdout_and_exits_0_when_all_verified() -> None:
    result = run("extract", VERIFIED, "--quiet")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "verified"


def test_a_file_that_cannot_be_read_fails_alone_and_exits_3(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    shutil.copy(VERIFIED, tmp_path)
    out = tmp_path / "out.jsonl"
    result = run("extract", tmp_path / "empty.txt", tmp_path / VERIFIED.name, "-o", out)
    rows = lines_of(out)
    assert [row["status"] for row in rows] == ["failed", "verified"]
    assert "empty" in rows[0]["error"]
    assert result.exit_code == 3


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert run("extract").exit_code == 2
    assert run("extract", tmp_path).exit_code == 2  # a folder with no reports
    assert run("extract", VERIFIED, "--no-such-option").exit_code == 2


@pytest.mark.parametrize("command", ["extract", "verify", "eval", "schema"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_verify_rechecks_saved_results_and_catches_an_edited_number(tmp_path: Path) -> None:
    saved = tmp_path / "saved.jsonl"
    run("extract", CORPUS, "-o", saved, "--quiet")
    rechecked = tmp_path / "rechecked.jsonl"
    run("verify", saved, "--sources", CORPUS, "-o", rechecked, "--quiet")
    assert [r["status"] for r in lines_of(rechecked)] == [r["status"] for r in lines_of(saved)]

    rows = lines_of(saved)
    huaian = next(r for r in rows if r["source"] == "huaian-szf-2024.pdf")
    huaian["fields"]["t3.new.natural"] = 3002
    edited = tmp_path / "edited.jsonl"
    edited.write_text(json.dumps(huaian, ensure_ascii=False) + "\n", "utf-8")
    result = run("verify", edited, "--sources", CORPUS, "-o", rechecked, "--quiet")
    row = lines_of(rechecked)[0]
    assert row["status"] == "flagged"
    assert {"grounding.span", "t3.row_total.new"} <= {f["rule"] for f in row["findings"]}
    assert result.exit_code == 1


def test_verify_fails_a_result_whose_source_changed(tmp_path: Path) -> None:
    source = tmp_path / VERIFIED.name
    shutil.copy(VERIFIED, source)
    saved = tmp_path / "saved.jsonl"
    run("extract", source, "-o", saved, "--quiet")
    source.write_text(source.read_text("utf-8").replace("2913", "2914"), "utf-8")
    result = run("verify", saved, "--sources", tmp_path, "--quiet")
    assert "changed" in json.loads(result.stdout)["error"]
    assert result.exit_code == 3


def test_eval_scores_the_gold_set_with_nothing_verified_wrong() -> None:
    """The parser reads the shared corpus exactly; the real reports in other layouts it may only flag."""
    result = run("eval", "--gold", GOLD, "--json")
    card = json.loads(result.stdout)
    assert card["outcomes"]["verified-wrong"] == 0
    assert len(card["reports"]) == len(list(GOLD.glob("*.json")))
    for report in card["reports"]:
        if not report["source"].startswith("real-"):
            assert report["right"] == report["total"], report["source"]
        elif report["right"] < report["total"]:
            assert report["status"] == "flagged", report["source"]
    assert result.exit_code == 0


def test_eval_exits_1_when_a_verified_report_holds_a_wrong_number(tmp_path: Path) -> None:
    saved = tmp_path / "saved.jsonl"
    run("extract", CORPUS, "-o", saved, "--quiet")
    rows = lines_of(saved)
    for row in rows:
        if row["source"] == VERIFIED.name:
            row["fields"]["t2.procurement.items"] = 9  # a wrong number, still marked verified
    saved.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    result = run("eval", "--gold", GOLD, "--results", saved, "--json")
    card = json.loads(result.stdout)
    assert card["outcomes"]["verified-wrong"] == 1
    assert card["field_accuracy"] < 1.0
    assert result.exit_code == 1


def test_eval_scores_organ_and_year_apart_and_a_wrong_organ_is_verified_wrong(tmp_path: Path) -> None:
    saved = tmp_path / "saved.jsonl"
    run("extract", CORPUS, "-o", saved, "--quiet")
    card = json.loads(run("eval", "--gold", GOLD, "--results", saved, "--json").stdout)
    assert (card["organ_accuracy"], card["year_accuracy"]) == (1.0, 1.0)
    rows = lines_of(saved)
    for row in rows:
        if row["source"] == VERIFIED.name:
            row["organ"] = "人民政府"  # every number right, the organ cut to its tail, still marked verified
    saved.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    result = run("eval", "--gold", GOLD, "--results", saved, "--json")
    card = json.loads(result.stdout)
    assert card["organ_accuracy"] < 1.0 and card["year_accuracy"] == 1.0
    assert card["outcomes"]["verified-wrong"] == 1
    assert result.exit_code == 1


def test_the_installed_command_runs() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "extractor", "extract", str(VERIFIED), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["organ"] == "泉州市鲤城区人民政府海滨街道办事处"


def test_eval_on_the_synthetic_cases_finds_exactly_the_gold_source_inconsistencies() -> None:
    cases = Path(__file__).parent / "cases"
    card = json.loads(run("eval", "--gold", cases, "--sources", cases, "--json").stdout)
    assert card["field_accuracy"] == 1.0
    for report in card["reports"]:
        assert report["inconsistencies_flagged"] == report["inconsistencies_expected"]
    assert any(report["inconsistencies_expected"] for report in card["reports"])

"""`nianbao extract`, `verify` and `eval`, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor import cli, jobs
from extractor.cli import app
from extractor.pipeline import failed
from extractor.settings import Settings

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


def one_line(result) -> str:
    """The command's stderr, which must be one line and no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_o_naming_an_input_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    source = tmp_path / VERIFIED.name
    shutil.copy(VERIFIED, source)
    before = source.read_bytes()
    result = run("extract", source, "-o", source)
    assert result.exit_code == 2
    assert "is an input too" in one_line(result)
    assert source.read_bytes() == before

    saved = tmp_path / "saved.jsonl"
    run("extract", source, "-o", saved, "--quiet")
    kept = saved.read_bytes()
    (tmp_path / "link.jsonl").symlink_to(saved)
    for target in (saved, tmp_path / "link.jsonl"):
        result = run("verify", saved, "--sources", tmp_path, "-o", target)
        assert result.exit_code == 2 and "is an input too" in one_line(result)
    assert saved.read_bytes() == kept


def test_o_into_a_missing_folder_and_a_missing_list_are_one_line_usage_errors(tmp_path: Path) -> None:
    result = run("extract", VERIFIED, "-o", tmp_path / "no" / "such" / "out.jsonl")
    assert result.exit_code == 2 and "no such folder" in one_line(result)
    result = run("export", tmp_path / "no" / "out.csv", "--store", tmp_path / "store.db")
    assert result.exit_code == 2 and "no such folder" in one_line(result)
    result = run("run", f"@{tmp_path / 'missing.txt'}", "--store", tmp_path / "store.db")
    assert result.exit_code == 2 and "cannot read the list: no such file" in one_line(result)
    result = run("run", VERIFIED, "--store", tmp_path / "store.db", "--log", tmp_path / "no" / "run.jsonl")
    assert result.exit_code == 2 and "no such folder" in one_line(result)


def test_an_internal_error_exits_4_in_one_line_with_the_traceback_behind_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli.jobs, "run", broken)
    result = run("run", VERIFIED, "--store", tmp_path / "store.db")
    assert result.exit_code == 4
    assert "internal error: ZeroDivisionError: a bug" in one_line(result) and "--debug" in result.stderr

    debugged = run("run", VERIFIED, "--store", tmp_path / "store.db", "--debug")
    assert debugged.exit_code == 4
    assert "Traceback" in debugged.stderr and "in broken" in debugged.stderr
    monkeypatch.setenv("NIANBAO_DEBUG", "1")
    assert "Traceback" in run("run", VERIFIED, "--store", tmp_path / "store.db").stderr

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.delenv("NIANBAO_DEBUG")
    monkeypatch.setattr(cli.jobs, "run", interrupted)
    result = run("run", VERIFIED, "--store", tmp_path / "store.db")
    assert result.exit_code == 130 and "interrupted" in one_line(result)


def test_a_crash_in_the_installed_command_exits_4_not_1(tmp_path: Path) -> None:
    """Through the real entry point (`cli.app()`, as the `nianbao` script calls it): a bug in a command."""
    crash = "import sys; from extractor import cli; cli.review.queue = lambda store: 1 / 0; cli.app()"
    store = tmp_path / "store.db"
    run("run", VERIFIED, "--store", store, "--quiet")
    completed = subprocess.run(
        [sys.executable, "-c", crash, "review", "list", "--store", str(store)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert completed.returncode == 4
    assert completed.stderr.strip().startswith("error: internal error: ZeroDivisionError")
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    "command", [["extract"], ["run"], ["verify"], ["eval"], ["export"], ["schema"], ["review", "list"]]
)
def test_every_command_takes_debug(command: list[str]) -> None:
    assert "--debug" in run(*command, "--help").stdout


def test_the_shared_settings_flags_reach_settings_in_extract_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert set(cli.SETTINGS_OPTIONS) <= set(Settings.model_fields)
    flags = {
        "backend": "llm",
        "model": "m-1",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key_env": "SOME_KEY",
        "mode": "json_schema",
        "max_attempts": 2,
        "store": tmp_path / "store.db",
    }
    arguments = [item for name, value in flags.items() for item in (f"--{name.replace('_', '-')}", value)]
    seen: list[Settings] = []

    def recorder(settings: Settings) -> None:
        seen.append(settings)

    monkeypatch.setattr(cli, "llm_for", recorder)
    monkeypatch.setattr(cli, "extract_safely", lambda path, llm: failed(path.name, "not read"))
    assert run("extract", VERIFIED, *arguments, "--quiet").exit_code == 3

    def fake_run(files: object, store: object, settings: Settings, *args: object) -> jobs.Tally:
        seen.append(settings)
        return jobs.Tally()

    monkeypatch.setattr(cli.jobs, "run", fake_run)
    extra = {"concurrency": 3, "requests_per_minute": 60, "tokens_per_minute": 9000}
    more = [item for name, value in extra.items() for item in (f"--{name.replace('_', '-')}", value)]
    assert run("run", VERIFIED, *arguments, *more, "--quiet").exit_code == 0
    for settings in seen:
        assert {name: getattr(settings, name) for name in flags} == flags
    assert {name: getattr(seen[1], name) for name in extra} == extra

"""Evaluation: every measure checked against hand-computed values, runs kept and compared, gold linted,
and the HTML report opened in a real headless Chromium with no network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import CORPUS, GOLD
from typer.testing import CliRunner

from extractor.cli import app
from extractor.eval_report import render, write_html
from extractor.evaluate import ReportScore, Scorecard
from extractor.measures import (
    CurvePoint,
    by_group,
    by_table,
    measure,
    percentile,
    risk_coverage,
    wilson,
    worst_fields,
)

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def report(source: str, status: str, cells: dict[str, str], **more: object) -> ReportScore:
    fields: dict[str, object] = {
        "source": source,
        "status": status,
        "template": "2019",
        "format": "txt",
        "cells": cells,
        "got": {},
        "template_right": True,
        "organ_right": True,
        "year_right": True,
        "inconsistencies_expected": [],
        "inconsistencies_flagged": [],
    }
    return ReportScore(**(fields | more))  # type: ignore[arg-type]


VR, NR, WV, VN, NV = "value_right", "null_right", "wrong_value", "value_where_null", "null_where_value"


@pytest.fixture
def card() -> Scorecard:
    """Five reports with outcomes chosen by hand; the expected measures below are worked out on paper."""
    return Scorecard(
        [
            report("A.txt", "verified", {"t2.x": VR, "t3.y": VR, "t3.z": NR, "t4.w": VR},
                   attempts=1, tokens_in=100, tokens_out=20, cost=0.01, call_latencies_ms=[100.0], seconds=1.0),
            report("B.txt", "verified", {"t2.x": VR, "t3.y": WV, "t3.z": NR, "t4.w": VR}, warnings=2,
                   attempts=3, tokens_in=300, tokens_out=60, cost=0.03, call_latencies_ms=[200.0, 300.0, 400.0],
                   seconds=3.0, inconsistencies_flagged=["t3.row_total.new"], ocr_confidence=0.6),
            report("C.pdf", "flagged", {"t2.x": NV, "t3.y": VR, "t3.z": NR, "t4.w": VN}, format="pdf",
                   attempts=2, cache_hits=1, tokens_in=50, tokens_out=10, call_latencies_ms=[150.0], seconds=2.0,
                   inconsistencies_expected=["t3.balance.natural"]),
            report("D.pdf", "flagged", {"t2.x": VR, "t3.y": VR, "t3.z": NR, "t4.w": NR}, format="pdf", seconds=0.5,
                   inconsistencies_expected=["t3.balance.total"], inconsistencies_flagged=["t3.balance.total"]),
            report("E.html", "failed", {"t2.x": NV, "t3.y": NV, "t3.z": NR, "t4.w": NV}, format="html",
                   template="2021"),
        ]
    )  # fmt: skip


def test_cells_are_split_by_outcome_and_reports_count_right_only_when_every_cell_is(card: Scorecard) -> None:
    m = measure(card.reports)
    assert m.cells.outcomes == {VR: 8, NR: 6, WV: 1, VN: 1, NV: 4}
    assert (m.cells.accuracy.k, m.cells.accuracy.n) == (14, 20)
    assert (m.report_accuracy.k, m.report_accuracy.n) == (2, 5)  # A and D


def test_precision_is_over_verified_reports_with_a_wilson_interval(card: Scorecard) -> None:
    m = measure(card.reports)
    assert (m.precision.k, m.precision.n) == (1, 2)  # A right, B verified but wrong
    assert m.precision.interval == pytest.approx((0.094531, 0.905469), abs=1e-6)
    assert (m.coverage.k, m.coverage.n) == (2, 5)
    assert m.coverage.interval == pytest.approx((0.117621, 0.769276), abs=1e-6)


def test_the_wilson_interval_matches_an_independent_implementation() -> None:
    """Reference values from scipy.stats.binomtest(k, n).proportion_ci(method="wilson"), rounded to 6 places."""
    assert wilson(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-6)
    assert wilson(10, 10) == pytest.approx((0.722467, 1.0), abs=1e-6)
    assert wilson(81, 263) == pytest.approx((0.255289, 0.36621), abs=1e-6)
    with pytest.raises(ValueError):
        wilson(0, 0)


def test_flag_recall_is_the_share_of_wrong_reports_not_verified(card: Scorecard) -> None:
    m = measure(card.reports)
    assert (m.flag_recall.k, m.flag_recall.n) == (2, 3)  # B, C, E wrong; C and E not verified


def test_source_inconsistencies_are_scored_per_report_and_relation(card: Scorecard) -> None:
    m = measure(card.reports)
    assert (m.inconsistency_recall.k, m.inconsistency_recall.n) == (1, 2)  # D found, C missed
    assert (m.inconsistency_precision.k, m.inconsistency_precision.n) == (1, 2)  # B's is not in gold


def test_cost_sums_tokens_and_usd_and_takes_nearest_rank_percentiles(card: Scorecard) -> None:
    cost = measure(card.reports).cost
    assert (cost.tokens_in, cost.tokens_out, cost.calls, cost.cache_hits) == (450, 90, 6, 1)
    assert cost.usd == pytest.approx(0.04)
    assert cost.attempts == {0: 2, 1: 1, 2: 1, 3: 1}
    assert (cost.call_ms_p50, cost.call_ms_p95) == (200.0, 400.0)  # of 100, 150, 200, 300, 400
    assert (cost.report_seconds_p50, cost.report_seconds_p95) == (1.0, 3.0)  # of 0.5, 1, 2, 3
    assert percentile([], 50) is None


def test_measures_are_split_by_table_template_and_format(card: Scorecard) -> None:
    tables = by_table(card)
    assert {name: (m.accuracy.k, m.accuracy.n) for name, m in tables.items()} == {
        "t2": (3, 5),
        "t3": (8, 10),
        "t4": (3, 5),
    }
    groups = by_group(card)
    assert {name: m.reports for name, m in groups["format"].items()} == {"html": 1, "pdf": 2, "txt": 2}
    assert {name: m.reports for name, m in groups["template"].items()} == {"2019": 4, "2021": 1}
    assert (groups["format"]["txt"].precision.k, groups["format"]["txt"].precision.n) == (1, 2)
    assert groups["format"]["pdf"].precision.n == 0 and groups["format"]["pdf"].precision.value is None


def test_the_risk_coverage_curve_tightens_the_acceptance_rule(card: Scorecard) -> None:
    assert risk_coverage(card)["warnings"] == [
        CurvePoint(threshold=2, coverage=0.4, precision=0.5, accepted=2),  # A and B
        CurvePoint(threshold=0, coverage=0.2, precision=1.0, accepted=1),  # A alone
        CurvePoint(threshold=-1, coverage=0.0, precision=None, accepted=0),
    ]


def test_ocr_doubt_is_a_knob_of_the_curve(card: Scorecard) -> None:
    """B's least sure OCR cell read at 0.6 confidence: accepting only reports with no doubt leaves A alone."""
    points = risk_coverage(card)["OCR doubt"]
    assert [(p.accepted, p.precision) for p in points] == [(2, 0.5), (1, 1.0), (0, None)]
    assert points[0].threshold == pytest.approx(0.4)


def test_the_worst_fields_are_those_most_often_wrong(card: Scorecard) -> None:
    assert worst_fields(card) == [("t2.x", 2, 5), ("t3.y", 2, 5), ("t4.w", 2, 5)]


# Runs kept, listed and compared -----------------------------------------------------------------


def saved_results(tmp_path: Path, name: str, change: dict[str, object] | None = None) -> Path:
    path = tmp_path / name
    run("extract", CORPUS, "-o", path, "--quiet")
    if change:
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
        for row in rows:
            if row["source"] == "004_e2933871b57d250b.txt":
                row["fields"].update(change)  # still marked verified: a regression only gold can see
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_eval_compare_finds_an_injected_regression_and_exits_non_zero(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    good = saved_results(tmp_path, "good.jsonl")
    bad = saved_results(tmp_path, "bad.jsonl", {"t3.new.natural": 7})
    assert run("eval", "--gold", GOLD, "--results", good, "--store", store, "--label", "baseline").exit_code == 0
    assert run("eval", "--gold", GOLD, "--results", bad, "--store", store).exit_code == 1

    listing = json.loads(run("eval", "list", "--store", store, "--json").stdout)
    assert [(r["id"], r["label"], r["backend"]) for r in listing] == [(1, "baseline", "rules"), (2, None, "rules")]
    assert listing[1]["measures"]["precision"]["k"] == listing[0]["measures"]["precision"]["k"] - 1

    compared = run("eval", "compare", 1, 2, "--store", store)
    assert compared.exit_code == 1
    assert "004_e2933871b57d250b.txt  t3.new.natural: value_right → wrong_value" in compared.stderr
    assert "1 reports newly verified but wrong: 004_e2933871b57d250b.txt" in compared.stderr
    assert "verified-but-wrong reports rose from 0 to 1" in compared.stderr

    fixed = run("eval", "compare", 2, 1, "--store", store)
    assert fixed.exit_code == 0
    assert "1 cells fixed" in fixed.stderr


def test_eval_compare_names_a_run_that_is_not_there(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    run("eval", "--gold", GOLD, "--results", saved_results(tmp_path, "r.jsonl"), "--store", store)
    result = run("eval", "compare", 1, 9, "--store", store)
    assert result.exit_code == 2
    assert "no eval run 9" in result.stderr


def test_a_kept_run_scores_as_it_was_scored(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    printed = json.loads(run("eval", "--gold", GOLD, "--store", store, "--json").stdout)
    listing = json.loads(run("eval", "list", "--store", store, "--json").stdout)
    assert listing[0]["id"] == printed["run"]
    assert listing[0]["measures"] == printed["measures"]
    assert listing[0]["schema_version"] and listing[0]["nianbao"]


# Gold lint ----------------------------------------------------------------------------------------


def test_gold_check_passes_the_project_gold() -> None:
    result = run("gold", "check", GOLD)
    assert result.exit_code == 0, result.stderr
    assert "all fine" in result.stderr
    cases = Path(__file__).parent / "cases"
    assert run("gold", "check", cases, "--sources", cases).exit_code == 0


def test_generated_gold_passes_gold_check(tmp_path: Path) -> None:
    """The generator records each source's sha256, and its declared inconsistencies are the ones its numbers break."""
    from generate import generate, write_text

    for index in range(4):
        write_text(generate(11, index), tmp_path)
    result = run("gold", "check", tmp_path, "--sources", tmp_path)
    assert result.exit_code == 0, result.stderr


def test_gold_check_names_every_problem_and_its_file(tmp_path: Path) -> None:
    gold, corpus = tmp_path / "gold", tmp_path / "corpus"
    shutil.copytree(GOLD, gold)
    shutil.copytree(CORPUS, corpus)
    edit(gold / "000_5e37bbcb16f0abd5.json", lambda g: g["fields"].pop("t2.rules.made"))
    edit(gold / "001_90f1788eec4cf7e7.json", lambda g: g.update(sha256="0" * 64))
    edit(gold / "003_bca12cc4fb8d9f2c.json", lambda g: g["source_inconsistencies"].append("t9.nonsense"))
    edit(gold / "004_e2933871b57d250b.json", lambda g: g["fields"].update({"t3.new.total": 1}))
    (corpus / "002_665b31d60e6fc78f.txt").unlink()
    (gold / "notes.json").write_text("{not json", "utf-8")

    result = run("gold", "check", gold)
    assert result.exit_code == 1
    said = result.stderr.replace("\n", " ")
    assert "000_5e37bbcb16f0abd5.json: fields do not match the 2019 template's keys (missing t2.rules.made" in said
    assert "001_90f1788eec4cf7e7.json: 001_90f1788eec4cf7e7.txt has changed" in said
    assert "002_665b31d60e6fc78f.json: source 002_665b31d60e6fc78f.txt not found" in said
    assert "003_bca12cc4fb8d9f2c.json: source_inconsistencies names t9.nonsense, not a relation" in said
    assert "004_e2933871b57d250b.json: the gold numbers break t3.row_total.new, which source_inconsistencies" in said
    assert "notes.json: not a gold file" in said


def edit(path: Path, change) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")


# The HTML report ----------------------------------------------------------------------------------


def test_the_html_report_escapes_report_text(card: Scorecard) -> None:
    card.reports[0].source = "<script>alert(1)</script>.txt"
    card.reports[0].findings = [{"rule": "x", "severity": "error", "blame": "source", "cells": [], "en": "<b>=1+1"}]
    page = render(card, "t")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in page
    assert "&lt;b&gt;=1+1" in page
    assert page.count("<svg") == 3


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install chromium (CI installs it)")
def test_the_html_report_opens_offline_in_chromium_with_its_charts(card: Scorecard, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    write_html(card, page_file, "nianbao eval: hand-made run")
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", lambda route: (requested.append(route.request.url), route.continue_()))
        page.goto(page_file.as_uri())
        charts = page.locator("figure svg")
        assert charts.count() == 3
        assert all(charts.nth(i).bounding_box()["width"] > 200 for i in range(3))  # type: ignore[index]
        assert "50.00%" in page.locator("#precision").inner_text()
        assert "[9.5%, 90.5%]" in page.locator("#precision").inner_text()
        page.locator("a[href='#report-1']").click()
        assert page.locator("#report-1").is_visible()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert requested == [page_file.as_uri()]  # the page itself, and nothing else


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip

"""The synthetic report generator (eval/generate.py): deterministic, true to the contract, and read back by the parser.

The parser must read every kind of damage the generator prints, including the two that
were gaps when the generator was written (now fixed in `extractor/parser.py`):

- a 表二 label split over two lines right under the group's header row ("行政事" / "业性收费");
- a 表三 label split with the numbers on the first line ("4、无正" / "当理由大量反复申请") right
  after a row printed blank, whose numbers used to go to the row above.
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from extractor.evaluate import Gold, load_gold, score
from extractor.pipeline import extract_file
from extractor.relations import relations
from extractor.template import T3_ROWS
from schemas.flat import flat_keys

sys.path.insert(0, str(Path(__file__).parent.parent / "eval"))

import generate

SEED = 7


def broken_relations(template: str, fields: dict) -> set[str]:
    """Recomputed here, not taken from the generator: relations whose terms are all printed and disagree."""
    broken = set()
    for relation in relations(template):
        if any(fields[key] is None for key in relation.keys):
            continue
        left = sum(Decimal(str(fields[key])) for key in relation.left)
        right = sum(Decimal(str(fields[key])) for key in relation.right)
        if left != right:
            broken.add(relation.id)
    return broken


def split_after_open_row(s: generate.Synthetic) -> bool:
    """A split 表三 or 表二 label of the kinds that were parser gaps (see the module docstring)."""
    plan = s.plan
    assert plan is not None
    if any(row.startswith("t2.") for row in plan.split_rows):
        return True
    order = [spec.key for spec in T3_ROWS[plan.template]]
    return any(
        order[order.index(row) - 1] in plan.blank_rows | set(plan.split_rows)
        for row in plan.split_rows
        if row.startswith("t3.")
    )


def load(path: Path) -> Gold:
    return Gold.model_validate(json.loads(path.read_text("utf-8"), parse_float=Decimal))


# Determinism and the contract -----------------------------------------------------------


def test_the_same_seed_and_index_give_the_same_report() -> None:
    for index in (0, 1, 57, 1234):
        first, again = generate.generate(SEED, index), generate.generate(SEED, index)
        assert (first.name, first.text, first.gold, first.damage) == (again.name, again.text, again.gold, again.damage)
    assert generate.generate(SEED, 3).text != generate.generate(SEED + 1, 3).text
    assert generate.generate(SEED, 3).text != generate.generate(SEED, 4).text


def test_both_templates_appear_and_fit_the_year() -> None:
    reports = [generate.generate(SEED, index) for index in range(200)]
    assert {s.gold["template"] for s in reports} == {"2019", "2021"}
    for s in reports:
        if s.gold["year"] < 2021:
            assert s.gold["template"] == "2019", s.name
    late = sum(s.gold["template"] == "2019" and s.gold["year"] >= 2021 for s in reports)
    assert late <= 10  # a late organ on the old table is rare


def test_gold_holds_exactly_the_templates_keys_and_validates() -> None:
    for index in range(200):
        s = generate.generate(SEED, index)
        assert list(s.gold["fields"]) == flat_keys(s.gold["template"]), s.name
        assert s.gold["source"] == s.name + ".txt"
        gold = Gold.model_validate(s.gold)
        assert gold.organ and gold.organ in s.text
        assert f"{gold.year}" in s.text.split("一、总体情况")[0]


def test_gold_passes_every_relation_but_the_listed_ones_which_really_break() -> None:
    deliberate = 0
    for index in range(600):
        s = generate.generate(SEED, index)
        broken = broken_relations(s.gold["template"], s.gold["fields"])
        assert set(s.gold["source_inconsistencies"]) == broken, s.name
        if "inconsistent" in s.damage:
            deliberate += 1
            assert broken, f"{s.name}: a misprint that breaks nothing"
        else:
            assert not broken, f"{s.name}: {sorted(broken)} break without a deliberate misprint"
    assert deliberate >= 10


def test_every_kind_of_damage_appears_and_some_reports_are_clean() -> None:
    reports = [generate.generate(SEED, index) for index in range(1000)]
    seen = {kind for s in reports for kind in s.damage}
    assert seen == set(generate.DAMAGE_RATES)
    assert sum(not s.damage for s in reports) >= 250


def test_damage_shows_in_the_text_and_nulls_in_the_gold() -> None:
    checked = set()
    for index in range(1000):
        s = generate.generate(SEED, index)
        fields = s.gold["fields"]
        t4 = [value for key, value in fields.items() if key.startswith("t4.")]
        if "misprint_header" in s.damage:
            assert "本年度止件数" in s.text
            checked.add("misprint_header")
        if "cut_off" in s.damage:
            assert all(value is None for value in t4) and "行政复议\t" not in s.text
            assert fields["t3.carried_forward.total"] is None
            checked.add("cut_off")
        if "note_cell" in s.damage:
            assert "（含" in s.text
            checked.add("note_cell")
        if "page_break" in s.damage and "- " in s.text:
            checked.add("page_break")
        if "blank_table" in s.damage:
            assert s.plan is not None
            for table in s.plan.blank_tables:
                assert all(value is None for key, value in fields.items() if key.startswith(table + "."))
            checked.add("blank_table")
        if not s.damage:
            assert None not in fields.values(), f"{s.name}: a clean report prints every cell"
    assert checked == {"misprint_header", "cut_off", "note_cell", "page_break", "blank_table"}


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    for index in range(1000):
        generate.generate(SEED, index)
    assert time.perf_counter() - started < 10  # about 0.6 s; 10,000 reports must take well under a minute


# The parser reads them back ----------------------------------------------------------------


def extract_all(reports: list[generate.Synthetic], folder: Path, writer=generate.write_text):
    golds, results = [], {}
    for s in reports:
        path = writer(s, folder)
        gold = load(folder / f"{s.name}.gold.json")
        assert gold.source == path.name
        golds.append(gold)
        results[gold.source] = extract_file(path)
    return golds, results


def test_the_parser_reads_generated_text_reports_to_their_gold(tmp_path: Path) -> None:
    reports = [generate.generate(SEED, index) for index in range(300)]
    golds, results = extract_all(reports, tmp_path)
    card = score(golds, results)
    by_source = {f"{s.name}.txt": s for s in reports}
    for report in card.reports:
        s = by_source[report.source]
        assert report.wrong_keys == [], (report.source, s.damage, report.wrong_keys[:7])
        assert report.template_right and report.meta_right, report.source
        assert report.inconsistencies_flagged == report.inconsistencies_expected, report.source
    assert card.field_accuracy == 1.0
    assert card.outcomes()["verified-wrong"] == 0
    assert card.outcomes()["verified-right"] >= 200


def test_the_parser_reads_split_labels_after_a_blank_row(tmp_path: Path) -> None:
    cases = [s for s in map(lambda i: generate.generate(SEED, i), range(3000)) if split_after_open_row(s)]
    assert len(cases) >= 20
    golds, results = extract_all(cases, tmp_path)
    card = score(golds, results)
    assert [report.source for report in card.reports if report.wrong_keys] == []
    assert card.outcomes()["verified-wrong"] == 0


def test_generated_pdfs_read_to_their_gold(tmp_path: Path) -> None:
    pytest.importorskip("reportlab", reason="PDFs are drawn with reportlab")
    wanted = ["inconsistent", "cut_off", "blank_row", "null_marks", "note_cell", "missing_t4"]
    chosen: dict[str, generate.Synthetic] = {}
    for index in range(2000):
        s = generate.generate(SEED, index)
        for kind in wanted:
            if kind in s.damage and kind not in chosen and s.name not in {c.name for c in chosen.values()}:
                chosen[kind] = s
        if s.plan and s.plan.profile == "large" and "large" not in chosen and not s.damage:
            chosen["large"] = s  # tables over more than one page
        if len(chosen) == len(wanted) + 1:
            break
    reports = list(chosen.values())
    assert {s.gold["template"] for s in reports} == {"2019", "2021"}
    golds, results = extract_all(reports, tmp_path, generate.write_pdf)
    assert all(gold.source.endswith(".pdf") for gold in golds)
    card = score(golds, results)
    for report in card.reports:
        assert report.wrong_keys == [], (report.source, report.wrong_keys[:7])
        assert report.template_right and report.meta_right, report.source
        assert report.inconsistencies_flagged == report.inconsistencies_expected, report.source
    assert card.field_accuracy == 1.0
    assert (tmp_path / f"{chosen['large'].name}.pdf").read_bytes().startswith(b"%PDF")


def test_the_script_writes_reports_that_load_as_gold(tmp_path: Path) -> None:
    generate.main(["--count", "12", "--out", str(tmp_path), "--seed", "3"])
    assert len(list(tmp_path.glob("*.txt"))) == 12
    golds = load_gold(tmp_path)  # the project's own loader checks every key
    assert len(golds) == 12
    assert all((tmp_path / gold.source).exists() for gold in golds)

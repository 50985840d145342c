"""The evidence layer: every number is proven from the document itself, in any layout, by any backend.

A right answer from any model must be provable; a number nobody can account for must block `verified`.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import generate
import pytest
from helpers import CORPUS, GOLD

from extractor.document import Document
from extractor.evaluate import load_gold, same_value
from extractor.evidence import evidence, prove
from extractor.ingest import read_document
from extractor.parser import parse
from extractor.pipeline import extract_file, status_of
from extractor.resolver import ground
from extractor.verifier import verify
from schemas.flat import build_report, iter_cells
from schemas.report import Meta

CASES = Path(__file__).parent / "cases"
LAYOUTS = ("text", *generate.RENDERINGS)
PER_LAYOUT = 16  # reports per layout: both templates, most kinds of damage


def document(text: str, name: str = "case.txt") -> Document:
    return Document(name, text, hashlib.sha256(text.encode()).hexdigest(), "txt")


def rendered(layout_name: str, index: int, folder: Path) -> tuple[Path, dict[str, Any]]:
    s = generate.generate(7, index)
    path = generate.write_text(s, folder) if layout_name == "text" else generate.write_rendering(s, folder, layout_name)
    return path, s.gold


def oracle(path: Path, gold: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """What a perfect model's answer becomes: the gold values, grounded by the resolver, then verified."""
    doc = read_document(path)
    template = gold["template"]
    cells = ground(doc, template, gold["fields"])
    report = build_report(template, Meta(organ=gold["organ"], year=gold["year"]), cells)
    findings = verify(report, doc)
    kept = {key: cell.get("value") if cell.get("source") else None for key, cell in cells.items()}
    return kept, findings


# A perfect model's answer is provable in every layout ----------------------------------------------


@pytest.mark.parametrize("layout_name", LAYOUTS)
def test_a_perfect_answer_is_proven_in_every_layout(layout_name: str, tmp_path: Path) -> None:
    for index in range(PER_LAYOUT):
        path, gold = rendered(layout_name, index, tmp_path)
        kept, findings = oracle(path, gold)
        ambiguous = {key for f in findings if f.rule == "grounding.ambiguous" for key in f.cells}
        wrong = [k for k, v in gold["fields"].items() if not same_value(kept[k], v) and k not in ambiguous]
        assert wrong == [], (path.name, wrong[:5])
        refused = [f.en for f in findings if f.rule in ("grounding.unproven", "grounding.unread", "grounding.span")]
        assert refused == [], (path.name, refused[:3])
        if ambiguous:
            assert status_of(findings) == "flagged", path.name


def test_a_perfect_answer_is_proven_on_every_gold_report() -> None:
    for gold in load_gold(GOLD) + load_gold(CASES):
        source = CORPUS / gold.source if (CORPUS / gold.source).exists() else CASES / gold.source
        kept, findings = oracle(source, gold.model_dump())
        assert all(same_value(kept[k], v) for k, v in gold.fields.items()), gold.source
        assert not [f for f in findings if f.rule.startswith("grounding.") and f.rule != "grounding.unread"]


# The parser alone never passes off a wrong or missing number ---------------------------------------


@pytest.mark.parametrize("layout_name", LAYOUTS)
def test_the_parser_alone_is_never_verified_wrong(layout_name: str, tmp_path: Path) -> None:
    for index in range(PER_LAYOUT):
        path, gold = rendered(layout_name, index, tmp_path)
        result = extract_file(path)
        right = all(same_value(result.fields.get(k), v) for k, v in gold["fields"].items())
        assert result.status != "verified" or right, path.name
        if not right:
            assert any(f.severity == "error" for f in result.findings), path.name


def test_the_parser_alone_is_never_verified_wrong_on_the_real_reports() -> None:
    for gold in load_gold(GOLD):
        result = extract_file(CORPUS / gold.source)
        right = all(same_value(result.fields.get(k), v) for k, v in gold.fields.items())
        assert result.status != "verified" or right, gold.source


TABLES_PRINTED_ROW_BY_ROW = """某某县农业农村局2022年政府信息公开工作年度报告

二、主动公开政府信息情况

### 规章
| 类别 | 数据1 | 数据2 | 数据3 |
| --- | --- | --- | --- |
| 数值 | 0 | 0 | 3 |

三、收到和处理政府信息公开申请情况

### 一、本年新收政府信息公开申请数量
| 类别 | 数据1 | 数据2 | 数据3 | 数据4 | 数据5 | 数据6 | 总计 |
| --- | --- | --- | --- | --- | --- | --- | --- |
| 数值 | 12 | 1 | 0 | 0 | 0 | 0 | 13 |

四、政府信息公开行政复议、行政诉讼情况

### 行政复议
| 类别 | 数据1 | 数据2 | 数据3 | 数据4 | 总计 |
| --- | --- | --- | --- | --- | --- |
| 数值 | 1 | 0 | 0 | 0 | 1 |
"""


def test_tables_printed_but_unread_are_never_verified() -> None:
    doc = document(TABLES_PRINTED_ROW_BY_ROW, "row-tables.md")
    nothing_read = build_report("2021", Meta(organ="某某县农业农村局", year=2022), {})
    findings = verify(nothing_read, doc)
    assert status_of(findings) == "flagged"
    blank = [f for f in findings if f.rule == "structure.blank_table"]
    assert {(f.severity, f.blame) for f in blank} == {("error", "extraction")}
    unread = {n for f in findings if f.rule == "grounding.unread" for n in f.lines}
    assert len(unread) == 3  # the three 数值 rows, each named by its line


def test_a_table_printed_blank_is_only_a_warning() -> None:
    blank = TABLES_PRINTED_ROW_BY_ROW.replace("| 数值 | 1 | 0 | 0 | 0 | 1 |", "| 数值 |  |  |  |  |  |")
    findings = verify(parse(document(blank, "row-tables.md")), document(blank, "row-tables.md"))
    t4 = [f for f in findings if f.rule == "structure.blank_table" and f.cells[0].startswith("t4.")]
    assert [(f.severity, f.blame) for f in t4] == [("warning", "source")]


# Placement: a number in its own row, at its own column --------------------------------------------

FULL_2021 = (CASES / "full-2021.txt").read_text("utf-8")


def proven_with(changes: dict[str, Any], text: str = FULL_2021) -> tuple[Any, Any]:
    report = parse(document(text))
    values = {key: cell.value for key, cell in iter_cells(report)}
    values.update(changes)
    return prove(evidence(text, report.template), values), values


@pytest.mark.parametrize(
    "first, second",
    [
        ("t2.licensing.decisions", "t2.penalty.decisions"),  # 表二 处理决定数量 rows: no relation covers them
        ("t2.rules.issued", "t2.normative.issued"),  # the 2021 表二 rows
        ("t4.reconsideration.other", "t4.reconsideration.pending"),  # 表四: its total cannot tell
        ("t4.litigation_direct.upheld", "t4.litigation_after.upheld"),
    ],
)
def test_two_values_swapped_are_caught_where_no_relation_covers_them(first: str, second: str) -> None:
    _, values = proven_with({})
    assert values[first] != values[second], "the case needs two different numbers"
    swapped, _ = proven_with({first: values[second], second: values[first]})
    assert {first, second} <= set(swapped.unproven)


def test_a_number_printed_under_no_column_is_left_unread_not_dropped() -> None:
    """002 prints a sixteenth 0 in 表四's row: fifteen under the header's columns, one under none."""
    doc = read_document(CORPUS / "002_665b31d60e6fc78f.txt")
    row = evidence(doc.text, "2019").regions["t4"].rows["t4"]
    assert len(row.readings) == 1 and [p.text for p in row.extra] == ["0"]
    findings = verify(parse(doc), doc)
    assert any(f.rule == "grounding.unread" and f.lines == [row.extra[0].line] for f in findings)


# Digits glued together: split only where the split is unique -----------------------------------


def row_of(text: str, template: str, key: str) -> Any:
    found = evidence(text, template).row(key)
    assert found is not None
    return found


def numbers(reading: Any) -> list[Decimal | None]:
    return [cell.number if cell else None for cell in reading]


GLUED_T3 = (
    "三、收到和处理政府信息公开申请情况\n"
    "一、本年新收政府信息公开申请数量801000081二、上年结转政府信息公开申请数量0000000\n"
)


def test_a_glued_row_splits_where_its_total_makes_the_split_unique() -> None:
    row = row_of(GLUED_T3, "2021", "t3.new.natural")
    assert [numbers(r) for r in row.readings] == [[80, 1, 0, 0, 0, 0, 81]]
    assert numbers(row_of(GLUED_T3, "2021", "t3.carried_over.total").readings[0]) == [0] * 7


def test_a_glued_row_that_splits_two_ways_is_flagged_with_both() -> None:
    text = "二、主动公开政府信息情况\n规章0118\n"
    row = row_of(text, "2021", "t2.rules.issued")
    assert sorted(numbers(r) for r in row.readings) == [[0, 1, 18], [0, 11, 8]]
    proof = prove(evidence(text, "2021"), {"t2.rules.issued": 0, "t2.rules.repealed": 1, "t2.rules.in_force": 18})
    assert proof.ambiguous["t2.rules.repealed"] == [1, 11]
    assert "t2.rules.issued" in proof.spans  # 0 in every reading: proven all the same


def test_a_minus_sign_glued_to_its_neighbours_belongs_to_the_change_column() -> None:
    row = row_of("二、主动公开政府信息情况\n行政许可12-35\n", "2019", "t2.licensing.change")
    assert [numbers(r) for r in row.readings] == [[12, -3, 5]]


def test_table_four_as_one_run_of_digits() -> None:
    text = (
        "四、政府信息公开行政复议、行政诉讼情况\n"
        "行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计18361280095191141630019\n"
    )
    row = row_of(text, "2021", "t4.reconsideration.total")
    assert [numbers(r) for r in row.readings] == [[18, 3, 6, 1, 28, 0, 0, 95, 19, 114, 16, 3, 0, 0, 19]]


def test_rows_the_row_sums_leave_open_are_settled_by_the_balance_and_handled_sums() -> None:
    s = generate.generate(7, 3)  # a crawler dump whose 本年新收 row "75331006115" splits several ways alone
    text = generate.render(s, "crawler")
    row = row_of(text, s.gold["template"], "t3.new.natural")
    assert [numbers(r) for r in row.readings] == [[75, 33, 1, 0, 0, 6, 115]]


# Numbers that are not cells: explained, never silently dropped ----------------------------------


def test_page_numbers_ordinals_years_and_notes_are_explained() -> None:
    text = (
        "二、主动公开政府信息情况\n"
        "| 第二十条第（一）项 | | | |\n"
        "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n"
        "| 规章 | 1 | 0 | 55（含自然失效29件） |\n"
        "| — 5 — | | | |\n"
        "| 行政规范性文件 | 2 | 0 | 7 |\n"
        "三、收到和处理政府信息公开申请情况\n"
        "2023年度 申请人情况\n"
        "| 1.属于国家秘密 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |\n"
    )
    found = evidence(text, "2021")
    reasons = {e.why for region in found.regions.values() for e in region.explained}
    assert reasons == {"a page number", "an ordinal", "a year or date"}
    proof = prove(found, {"t2.rules.issued": 1, "t2.rules.repealed": 0, "t2.rules.in_force": 55})
    assert [p.text for p in proof.unread if p.line == 6] == ["2", "0", "7"]  # the row nobody read
    assert not [p for p in proof.unread if p.line in (2, 3, 4, 5, 7)]


def test_a_number_outside_any_row_blocks_verified() -> None:
    text = FULL_2021.replace("三、收到和处理政府信息公开申请情况", "三、收到和处理政府信息公开申请情况\n另有 17", 1)
    doc = document(text)
    findings = verify(parse(doc), doc)
    assert any(f.rule == "grounding.unread" and "17" in f.en for f in findings)
    assert status_of(findings) == "flagged"

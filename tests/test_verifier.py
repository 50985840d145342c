"""Every verifier rule, each with a report that passes it and one that fails it.

The clean report is `tests/cases/full-2021.txt`: 2021 template, non-zero in
every block, every relation holding, narrative agreeing with the tables.
Each failing case changes that report in one way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from extractor.document import Document
from extractor.parser import parse
from extractor.pipeline import reverify, status_of, to_result
from extractor.verifier import RULES, rule_family, verify
from schemas.flat import get_cell, iter_cells
from schemas.report import Report, Report2019
from schemas.result import Finding

CLEAN = (Path(__file__).parent / "cases" / "full-2021.txt").read_text("utf-8")


def document(text: str) -> Document:
    return Document("case.txt", text, hashlib.sha256(text.encode()).hexdigest(), "txt")


def replace_once(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert text.count(old) == 1, f"{old!r} must occur once in the clean report"
        return text.replace(old, new)

    return edit


def cut_from(marker: str, keep_from: str | None = None) -> Callable[[str], str]:
    """Drop the text from `marker` up to `keep_from` (or to the end)."""

    def edit(text: str) -> str:
        start = text.index(marker)
        end = text.index(keep_from) if keep_from else len(text)
        return text[:start] + text[end:]

    return edit


def misread(key: str, value: int) -> Callable[[Report], Report]:
    """An extractor that wrote the wrong number but kept the true span."""

    def edit(report: Report) -> Report:
        get_cell(report, key).value = value
        return report

    return edit


def give_span_of(key: str, other: str) -> Callable[[Report], Report]:
    """An extractor that read another cell's number into `key`, with that number's true span."""

    def edit(report: Report) -> Report:
        get_cell(report, key).value = get_cell(report, other).value
        get_cell(report, key).source = get_cell(report, other).source
        return report

    return edit


def swap_spans(key: str, other: str) -> Callable[[Report], Report]:
    """Two cells of equal value whose spans were swapped: every value right, every span elsewhere."""

    def edit(report: Report) -> Report:
        first, second = get_cell(report, key), get_cell(report, other)
        first.source, second.source = second.source, first.source
        return report

    return edit


def drop_table(table: str) -> Callable[[Report], Report]:
    def edit(report: Report) -> Report:
        for key, cell in iter_cells(report):
            if key.startswith(table + "."):
                cell.value, cell.source = None, None
        return report

    return edit


def both(first: Callable[[str], str], second: Callable[[str], str]) -> Callable[[str], str]:
    return lambda text: second(first(text))


def set_meta(**changes: object) -> Callable[[Report], Report]:
    def edit(report: Report) -> Report:
        report.meta = report.meta.model_copy(update=changes)
        return report

    return edit


def read_as_2019(report: Report) -> Report:
    return Report2019(meta=report.meta)


@dataclass(frozen=True)
class Case:
    rule: str  # the finding's rule id (or its start)
    blame: str
    severity: str
    edit_text: Callable[[str], str] | None = None
    edit_report: Callable[[Report], Report] | None = None


FAILING = {
    "a number that is not what its span shows": Case(
        "grounding.span", "extraction", "error", edit_report=misread("t3.granted.natural", 59)
    ),
    "a number printed in another row, given with its true span": Case(
        "grounding.unproven", "extraction", "error", edit_report=give_span_of("t3.granted.natural", "t3.new.natural")
    ),
    "two equal numbers of a row with their spans swapped": Case(
        "grounding.placement",
        "extraction",
        "error",
        edit_report=swap_spans("t4.reconsideration.corrected", "t4.reconsideration.pending"),
    ),
    "a row glued into one run of digits that splits two ways": Case(
        "grounding.ambiguous",
        "extraction",
        "error",
        replace_once("2.重复申请\t6\t1\t0\t0\t1\t0\t8", "2.重复申请111000012"),
    ),
    "a table whose printed numbers were not read at all": Case(
        "structure.blank_table", "extraction", "error", edit_report=drop_table("t4")
    ),
    "a word where a number should be": Case(
        "grounding.not_a_number", "source", "error", replace_once("行政强制\t96\t\t", "行政强制\tNaN\t\t")
    ),
    "a count printed negative": Case(
        "value.out_of_bounds", "source", "error", replace_once("行政强制\t96\t\t", "行政强制\t-96\t\t")
    ),
    "a count beyond any plausible count, misread": Case(
        "value.out_of_bounds", "extraction", "error", edit_report=misread("t2.coercion.decisions", 10**9)
    ),
    "a row with one number too few cannot be placed, so its numbers are unread": Case(
        "grounding.unread",
        "extraction",
        "error",
        replace_once("2.重复申请\t6\t1\t0\t0\t1\t0\t8", "2.重复申请\t6\t1\t0\t0\t1\t0"),
    ),
    "a printed row total that is not the sum of its row": Case(
        "t3.row_total.granted", "source", "error", replace_once("3\t77\t", "3\t78\t")
    ),
    "a misread cell breaks the row total, and is blamed on extraction": Case(
        "t3.row_total.granted", "extraction", "error", edit_report=misread("t3.granted.natural", 59)
    ),
    "(七)总计 that is not the sum of the outcomes": Case(
        "t3.handled_sum.natural", "source", "error", replace_once("\t58\t9\t2\t1\t4\t3\t77", "\t59\t9\t2\t1\t4\t3\t78")
    ),
    "new + carried over ≠ handled + carried forward": Case(
        "t3.balance.natural",
        "source",
        "error",
        replace_once("\t198\t41\t10\t8\t18\t13\t288", "\t199\t41\t10\t8\t18\t13\t289"),
    ),
    "a 表四 block total that is not the sum of its outcomes": Case(
        "t4.block_total.reconsideration", "source", "error", replace_once("3\t1\t2\t1\t7\t", "3\t1\t2\t1\t8\t")
    ),
    "2021 headers read as the 2019 template": Case("template.headers", "extraction", "error", edit_report=read_as_2019),
    "headers that mix in the other template's words": Case(
        "template.headers",
        "source",
        "warning",
        replace_once("信息内容\t本年处理决定数量\t\t\n行政处罚", "信息内容\t采购总金额\t\t\n行政处罚"),
    ),
    "a 2020 report on the 2021 template": Case(
        "template.year",
        "source",
        "warning",
        both(
            replace_once("办公室 2022 年政府信息公开", "办公室 2020 年政府信息公开"),
            replace_once("统计期限自 2022 年 1 月 1 日起至 2022 年", "统计期限自 2020 年 1 月 1 日起至 2020 年"),
        ),
    ),
    "a report without its organ": Case("meta.missing", "extraction", "error", edit_report=set_meta(organ=None)),
    "an organ the document does not state": Case(
        "meta.unstated", "extraction", "error", edit_report=set_meta(organ="青山市人民政府")
    ),
    "a title year the statistics period contradicts": Case(
        "meta.year_conflict",
        "source",
        "error",
        replace_once("办公室 2022 年政府信息公开", "办公室 2021 年政府信息公开"),
    ),
    "a report published before its statistics year ends": Case(
        "meta.year_after_publication",
        "source",
        "error",
        replace_once(
            "本年度，本机关未收取信息处理费。",
            "本年度，本机关未收取信息处理费。\n\n青山市临江区人民政府办公室\n\n2021年1月20日",
        ),
    ),
    "an organ that is only a suffix": Case(
        "meta.organ_suffix", "source", "warning", replace_once("青山市临江区人民政府办公室 2022", "办公室 2022")
    ),
    "表四 missing": Case(
        "structure.missing_table", "source", "error", cut_from("四、政府信息公开行政复议", "五、存在的主要问题")
    ),
    "表四 printed with headers only": Case(
        "structure.blank_table", "source", "warning", replace_once("3\t1\t2\t1\t7\t2\t1\t1\t1\t5\t1\t1\t1\t1\t4", "")
    ),
    "表三 cut off before its last rows": Case(
        "structure.missing_row", "source", "error", cut_from("(七) 总计", "四、政府信息公开行政复议")
    ),
    "a 表三 row printed blank": Case(
        "structure.blank_row",
        "source",
        "warning",
        replace_once("2.重复申请\t6\t1\t0\t0\t1\t0\t8", "2.重复申请\t\t\t\t\t\t\t"),
    ),
    "a 表二 row printed blank": Case(
        "structure.blank_row", "source", "warning", replace_once("行政强制\t96\t\t", "行政强制\t\t\t")
    ),
    "the text's count of new applications differs from the table": Case(
        "narrative.t3.new", "source", "warning", replace_once("申请288件", "申请286件")
    ),
    "the text's carried-over count differs": Case(
        "narrative.t3.carried_over", "source", "warning", replace_once("上年结转8件", "上年结转9件")
    ),
    "the text's carried-forward count differs": Case(
        "narrative.t3.carried_forward", "source", "warning", replace_once("继续办理14件", "继续办理15件")
    ),
    "the text's reconsideration count differs": Case(
        "narrative.t4.reconsideration", "source", "warning", replace_once("行政复议7件", "行政复议6件")
    ),
    "the text's litigation count differs": Case(
        "narrative.t4.litigation", "source", "warning", replace_once("行政诉讼9件", "行政诉讼10件")
    ),
}


def run(case: Case) -> list[Finding]:
    text = case.edit_text(CLEAN) if case.edit_text else CLEAN
    doc = document(text)
    report = parse(doc)
    if case.edit_report:
        report = case.edit_report(report)
    return verify(report, doc)


def test_the_clean_report_passes_every_rule() -> None:
    doc = document(CLEAN)
    assert verify(parse(doc), doc) == []


@pytest.mark.parametrize("name", FAILING)
def test_each_rule_fails_on_its_case(name: str) -> None:
    case = FAILING[name]
    findings = [f for f in run(case) if f.rule == case.rule or f.rule.startswith(case.rule + ".")]
    assert findings, f"expected a {case.rule} finding"
    assert {(f.blame, f.severity) for f in findings} == {(case.blame, case.severity)}
    assert all(f.zh and f.en for f in findings)


def test_every_rule_has_a_failing_case() -> None:
    """structure.keys is exercised on saved results (below), ocr.* in test_ocr.py; every other rule by FAILING."""
    covered = {rule_family(case.rule) for case in FAILING.values()} | {"structure.keys"}
    covered |= {"ocr.read", "ocr.unsure", "ocr.low_confidence", "ocr.blank"}
    assert covered == set(RULES)


def test_a_source_inconsistency_flags_the_report_but_is_not_our_error() -> None:
    findings = run(FAILING["a printed row total that is not the sum of its row"])
    assert status_of(findings) == "flagged"
    assert not [f for f in findings if f.blame == "extraction"]


def test_warnings_alone_leave_a_report_verified() -> None:
    assert status_of(run(FAILING["the text's count of new applications differs from the table"])) == "verified"


def test_a_relation_with_a_null_term_is_not_checked() -> None:
    findings = run(FAILING["表三 cut off before its last rows"])
    assert not [f for f in findings if f.rule.startswith(("t3.handled_sum", "t3.balance"))]


def test_verify_does_not_change_the_report() -> None:
    doc = document(CLEAN)
    report = parse(doc)
    before = report.model_dump()
    verify(report, doc)
    assert report.model_dump() == before


def test_a_saved_result_with_missing_keys_fails_structure_keys() -> None:
    doc = document(CLEAN)
    report = parse(doc)
    result = to_result(report, doc, verify(report, doc))
    assert reverify(result, doc).status == "verified"
    broken = result.model_copy(update={"fields": {k: v for k, v in result.fields.items() if k != "t3.new.total"}})
    rechecked = reverify(broken, doc)
    assert rechecked.status == "flagged"
    assert [f.rule for f in rechecked.findings] == ["structure.keys"]


def test_a_saved_result_whose_number_was_edited_is_caught() -> None:
    doc = document(CLEAN)
    report = parse(doc)
    result = to_result(report, doc, [])
    tampered = result.model_copy(update={"fields": {**result.fields, "t4.reconsideration.total": 70}})
    rules = {f.rule for f in reverify(tampered, doc).findings}
    assert {"grounding.span", "t4.block_total.reconsideration"} <= rules


def test_a_blank_row_is_not_mistaken_for_a_missing_one() -> None:
    for name in ("a 表二 row printed blank", "a 表三 row printed blank"):
        rules = {f.rule for f in run(FAILING[name])}
        assert "structure.blank_row" in rules and "structure.missing_row" not in rules, name

"""Tokens in a number's place, implausible and negative values: never a wrong number kept as verified."""

from __future__ import annotations

import hashlib

import pytest
from helpers import CORPUS

from extractor.document import Document
from extractor.parser import parse
from extractor.pipeline import status_of
from extractor.verifier import verify
from schemas.flat import flatten

REPORT = (CORPUS / "003_bca12cc4fb8d9f2c.txt").read_text("utf-8")  # 2019 template, verified as it is
LICENSING = "行政许可\t0\t2\t236"  # prev_items, change, decisions
NORMATIVE = "规范性文件\t1\t1\t4"


def read(old: str, new: str) -> tuple[dict, list]:
    assert REPORT.count(old) == 1
    text = REPORT.replace(old, new)
    document = Document("case.txt", text, hashlib.sha256(text.encode()).hexdigest(), "txt")
    report = parse(document)
    return flatten(report), verify(report, document)


def licensing(fields: dict) -> list:
    return [fields[f"t2.licensing.{column}"] for column in ("prev_items", "change", "decisions")]


def test_the_report_is_verified_as_it_is() -> None:
    fields, findings = read(LICENSING, LICENSING)
    assert status_of(findings) == "verified" and licensing(fields) == [0, 2, 236]


@pytest.mark.parametrize("row", ["行政许可\t暂无\t2\t236", "行政许可 暂无 2 236", "行政许可\tN/A\t2\t236"])
def test_none_yet_and_not_applicable_are_no_number_and_neighbours_keep_their_columns(row: str) -> None:
    fields, findings = read(LICENSING, row)
    assert licensing(fields) == [None, 2, 236]
    assert status_of(findings) == "verified"


@pytest.mark.parametrize("word", ["NaN", "见附件", "未统计", "TBD"])
def test_a_word_in_a_numbers_place_never_lets_its_neighbours_slide(word: str) -> None:
    fields, findings = read(LICENSING, f"行政许可\t{word}\t2\t236")
    assert status_of(findings) == "flagged"
    assert licensing(fields) in ([None, 2, 236], [None, None, None])  # never [2, 236, None]
    assert any(f.rule == "grounding.not_a_number" for f in findings) or licensing(fields) == [None] * 3


@pytest.mark.parametrize("printed", ["1e309", "99999999999", "1000000000"])
def test_a_value_beyond_any_plausible_count_is_a_finding_not_a_number(printed: str) -> None:
    fields, findings = read(NORMATIVE, f"规范性文件\t1\t1\t{printed}")
    assert status_of(findings) == "flagged"
    assert fields["t2.normative.total_published"] is None


def test_a_negative_count_is_a_finding() -> None:
    fields, findings = read(NORMATIVE, "规范性文件\t-1\t1\t4")
    assert fields["t2.normative.made"] == -1  # kept as printed, and flagged: the report's own fault
    [finding] = [f for f in findings if f.rule == "value.out_of_bounds"]
    assert (finding.severity, finding.blame, finding.cells) == ("error", "source", ["t2.normative.made"])


def test_the_2019_change_column_may_be_negative() -> None:
    fields, findings = read(LICENSING, "行政许可\t0\t-2\t236")
    assert licensing(fields) == [0, -2, 236]
    assert status_of(findings) == "verified"

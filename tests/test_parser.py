"""The template parser reads both templates from broken text, and never guesses."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from extractor.document import Document
from extractor.ingest import read_document
from extractor.parser import NotAReport, parse
from schemas.flat import flatten, iter_cells

ROOT = Path(__file__).parent.parent
CASES = Path(__file__).parent / "cases"
FULL_2021 = (CASES / "full-2021.txt").read_text("utf-8")
BAD_TOTALS_2019 = (CASES / "bad-totals-2019.txt").read_text("utf-8")

# The layouts the parser knows. The real reports in other layouts (eval/gold/real-*) need not be read
# by it; that it never passes one off as verified is tested in test_evidence.py.
GOLD = [p for p in sorted((ROOT / "eval" / "gold").glob("*.json")) if not p.name.startswith("real-")]
GOLD += sorted(CASES.glob("*.gold.json"))


def source_of(gold_path: Path, name: str) -> Path:
    return gold_path.parent / name if gold_path.parent == CASES else ROOT / "eval" / "corpus" / name


def text_document(text: str) -> Document:
    return Document("case.txt", text, hashlib.sha256(text.encode()).hexdigest(), "txt")


def fields_of(text: str) -> dict:
    return flatten(parse(text_document(text)))


@pytest.mark.parametrize("gold_path", GOLD, ids=lambda p: p.name)
def test_reads_every_gold_report_exactly(gold_path: Path) -> None:
    gold = json.loads(gold_path.read_text("utf-8"), parse_float=Decimal)
    report = parse(read_document(source_of(gold_path, gold["source"])))
    assert (report.template, report.meta.organ, report.meta.year) == (gold["template"], gold["organ"], gold["year"])
    got = flatten(report)
    wrong = {key: (got[key], want) for key, want in gold["fields"].items() if got[key] != want}
    assert wrong == {}


def test_every_number_carries_its_span_and_raw_text() -> None:
    document = read_document(ROOT / "eval" / "corpus" / "huaian-szf-2024.pdf")
    report = parse(document)
    cells = [(key, cell) for key, cell in iter_cells(report) if cell.value is not None]
    assert len(cells) == 200
    for _key, cell in cells:
        assert document.text[cell.source.start : cell.source.end] == cell.source.raw
    assert report.t4.reconsideration.total.source.page == 5
    assert report.t2.fees.amount.value == Decimal("96171.6")


def test_the_template_comes_from_the_headers_not_the_year() -> None:
    old_table_in_new_year = BAD_TOTALS_2019.replace("2020 年政府信息公开", "2022 年政府信息公开")
    assert parse(text_document(old_table_in_new_year)).template == "2019"
    assert parse(text_document(FULL_2021)).template == "2021"


def test_a_misprinted_header_still_reads_as_2021() -> None:
    assert "本年废止件数" in FULL_2021
    assert parse(text_document(FULL_2021.replace("本年废止件数", "本年度止件数"))).template == "2021"


def test_old_table_two_has_items_changes_and_procurement() -> None:
    fields = fields_of(BAD_TOTALS_2019)
    assert fields["t2.licensing.change"] == 3  # printed "+3"
    assert fields["t2.other_services.change"] == -2
    assert fields["t2.procurement.amount"] == Decimal("1835.62")


def test_a_cell_with_a_note_keeps_its_number() -> None:
    assert fields_of(FULL_2021)["t2.normative.repealed"] == 55  # "55（含自然失效29件）"


def test_a_label_split_over_lines_with_numbers_on_the_first() -> None:
    assert "4.保护第三方合\t\t7\t2\t0\t0\t1\t1\t11\t\n\n\t\t法权益" in FULL_2021
    assert fields_of(FULL_2021)["t3.denied.third_party.total"] == 11


def test_a_label_split_over_lines_with_numbers_on_the_second() -> None:
    text = FULL_2021.replace("\t\t8.属于行政查询事项\t9", "\t\t8.属于行\n\t\t政查询事项\t9")
    assert fields_of(text)["t3.denied.admin_query.natural"] == 9


def test_a_label_cut_at_a_page_break_with_its_numbers_before() -> None:
    text = FULL_2021.replace(
        "\t\t8.属于行政查询事项\t9\t3\t0\t1\t0\t1\t14", "\t\t8.属于行\t9\t3\t0\t1\t0\t1\t14\n- 5 -\n政查询事项"
    )
    fields = fields_of(text)
    assert fields["t3.denied.admin_query.total"] == 14
    assert fields["t3.unavailable.not_held.total"] == 43


def test_vertical_text_in_labels() -> None:
    text = FULL_2021.replace("5.属于三类内部事务信息", "5.属 于 三 类 内 部 事 务 信 息")
    assert fields_of(text)["t3.denied.internal_affairs.total"] == 6


def test_page_numbers_between_rows_are_not_read() -> None:
    assert "\n- 4 -\n" in FULL_2021
    fields = fields_of(FULL_2021)
    assert fields["t3.unavailable.not_held.total"] == 43
    assert fields["t3.unavailable.needs_creation.total"] == 12


def test_table_four_fifteen_numbers_in_one_row() -> None:
    fields = fields_of(FULL_2021)
    assert [fields[f"t4.reconsideration.{c}"] for c in ("upheld", "corrected", "other", "pending", "total")] == [
        3,
        1,
        2,
        1,
        7,
    ]
    assert fields["t4.litigation_after.total"] == 4


def test_table_four_row_cut_at_a_page_break() -> None:
    text = FULL_2021.replace("3\t1\t2\t1\t7\t2\t1\t1\t1\t5\t", "3\t1\t2\t1\t7\n- 6 -\n2\t1\t1\t1\t5\t")
    assert fields_of(text)["t4.litigation_direct.total"] == 5


def test_table_four_extra_numbers_without_labelled_columns_are_not_placed() -> None:
    header_cut = FULL_2021.replace(
        "\t\t\t\t\t结果 维持\t结果 纠正\t其他 结果\t尚未 审结\t总计\t结果 维持", "\t\t\t\t\t结果 维持"
    )
    text = header_cut.replace("1\t1\t1\t1\t4\n", "1\t1\t1\t1\t4\t9\n")
    assert all(value is None for key, value in fields_of(text).items() if key.startswith("t4."))


def test_blank_cells_and_slashes_are_null() -> None:
    text = FULL_2021.replace("规章\t2\t1\t15", "规章\t/\t\t15").replace(
        "2.重复申请\t6\t1\t0\t0\t1\t0\t8", "2.重复申请\t6\t—\t0\t0\t1\t0\t8"
    )
    fields = fields_of(text)
    assert (fields["t2.rules.issued"], fields["t2.rules.repealed"], fields["t2.rules.in_force"]) == (None, None, 15)
    assert fields["t3.not_processed.duplicate.commercial"] is None
    assert fields["t3.not_processed.duplicate.natural"] == 6
    assert fields["t3.not_processed.duplicate.total"] == 8


def test_a_row_whose_numbers_do_not_fit_its_columns_is_left_null() -> None:
    text = FULL_2021.replace("2.重复申请\t6\t1\t0\t0\t1\t0\t8", "2.重复申请\t6\t1\t0\t1\t0\t8")
    fields = fields_of(text)
    assert all(fields[f"t3.not_processed.duplicate.{c}"] is None for c in ("natural", "commercial", "total"))
    assert fields["t3.not_processed.publication.total"] == 4  # the next row is unaffected


def test_a_table_cut_off_leaves_the_rest_null() -> None:
    fields = fields_of(FULL_2021.split("\t\t4.无正当理由大量反复申请")[0])
    assert fields["t3.not_processed.publication.total"] == 4
    assert fields["t3.not_processed.excessive.total"] is None
    assert all(value is None for key, value in fields.items() if key.startswith("t4."))


def test_meta_reads_organ_year_document_number_and_date() -> None:
    report = parse(read_document(ROOT / "eval" / "corpus" / "003_bca12cc4fb8d9f2c.txt"))
    assert report.meta.organ == "泉州市鲤城区人民政府海滨街道办事处"
    assert report.meta.year == 2020
    assert report.meta.doc_number == "泉鲤海办〔2021〕3号"
    assert str(report.meta.date) == "2021-01-12"


def test_a_document_without_the_tables_is_not_a_report() -> None:
    with pytest.raises(NotAReport):
        parse(text_document("关于做好防汛工作的通知\n\n各单位：请做好防汛准备。\n"))


@pytest.mark.parametrize("name", ["sample.html", "sample.docx"])
def test_reads_html_and_docx_tables_as_tables(name: str) -> None:
    fields = flatten(parse(read_document(Path(__file__).parent / "fixtures" / "ingest" / name)))
    assert all(value is not None for value in fields.values())
    assert (fields["t2.normative.issued"], fields["t2.normative.repealed"], fields["t2.normative.in_force"]) == (
        8,
        2,
        45,
    )
    assert fields["t2.fees.amount"] == Decimal("12.5")
    assert [fields[f"t3.denied.third_party.{c}"] for c in ("natural", "other", "total")] == [61, 66, 381]
    assert fields["t3.new.total"] == 14292

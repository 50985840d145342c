"""How one printed cell is read."""

from decimal import Decimal

import pytest

from extractor.values import read_cell


@pytest.mark.parametrize(
    ("printed", "kind", "number"),
    [
        ("0", "number", 0),
        ("131", "number", 131),
        ("-3", "number", -3),
        ("+12", "number", 12),
        ("96171.6", "number", Decimal("96171.6")),
        ("1,234", "number", 1234),
        ("２０", "number", 20),  # full-width digits
        ("55（含自然失效29件）", "number", 55),  # a note keeps its number
        ("5件", "number", 5),
        ("", "blank", None),
        ("/", "null", None),
        ("—", "null", None),
        ("无", "null", None),
        ("不适用", "null", None),
        ("1.属于国家秘密", "text", None),
        ("2020 年度", "text", None),
        ("12,34", "text", None),  # not a thousands grouping
    ],
)
def test_read_cell(printed: str, kind: str, number: object) -> None:
    reading = read_cell(printed)
    assert reading.kind == kind
    assert reading.number == (None if number is None else Decimal(number))

"""Reading one printed cell: a number, an explicit "no number", or text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

# What the spec says means "the report gives no number": blank, "/", "—", "无", "不适用".
NULL_MARKS = frozenset({"/", "\\", "—", "——", "-", "--", "–", "无", "不适用", "空"})

_NUMBER = re.compile(
    r"""^(?P<sign>[+-])?
        (?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?P<fraction>\.\d+)?
        \s*(?:件|条|个|项|次|万元|元)?      # a unit printed in the cell
        \s*(?:\([^()]*\))?$                # a note: "55(含自然失效29件)"
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class CellReading:
    kind: str  # "number", "null" (an explicit no-number mark), "blank" or "text"
    number: Decimal | None = None


@lru_cache(maxsize=8192)
def read_cell(raw: str) -> CellReading:
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return CellReading("blank")
    if text in NULL_MARKS:
        return CellReading("null")
    match = _NUMBER.match(text)
    if not match:
        return CellReading("text")
    digits = match["digits"].replace(",", "") + (match["fraction"] or "")
    number = Decimal(digits)
    return CellReading("number", -number if match["sign"] == "-" else number)

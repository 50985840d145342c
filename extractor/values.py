"""Reading one printed cell: a number, an explicit "no number", or text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

# What the spec says means "the report gives no number": blank, "/", "—", "无", "不适用" (and 暂无, "none yet",
# and N/A, "not applicable").
NULL_MARKS = frozenset({"/", "\\", "—", "——", "-", "--", "–", "无", "暂无", "不适用", "空", "N/A", "n/a"})

# The bounds of a value a report can print, per cell kind. A value outside them is a finding, never a number.
MAX_COUNT = 10**9  # counts are whole numbers from 0 to below 10⁹; only 表二's 本年增/减 may be negative
MAX_AMOUNT = Decimal(10) ** 12  # amounts (万元, or 元 in some reports) are decimals from 0 to below 10¹²

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


def out_of_bounds(value: Decimal | int, *, amount: bool, signed: bool) -> str | None:
    """Why a value cannot be what a cell of that kind holds, or None where it can."""
    number = Decimal(value)
    if number < 0 and not signed:
        return "a negative number where only a count or amount can stand"
    if abs(number) >= (MAX_AMOUNT if amount else MAX_COUNT):
        return "beyond any plausible " + ("amount (10¹²)" if amount else "count (10⁹)")
    return None

"""Positioned text: what a PDF page is read into, from pdfium's text layer or from OCR of its image.

Both sources give the same shape, so lines, columns and table cells are rebuilt from positions
the same way whichever read the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points; origin top-left of the page as shown


class Glyph(NamedTuple):  # a tuple: a page builds thousands, and a tuple is the cheapest to build
    text: str  # one character
    box: Box
    # The y that rows are grouped by, so that glyphs of one row share it whatever their fonts' ascents: the text
    # layer's baseline, or for OCR the box's middle (`middle_y`: OCR's boxes differ in height from one text line
    # to the next, and cells centre their text).
    row_y: float
    confidence: float | None = None  # OCR's, 0..1; None for a character from the text layer


def middle_y(box: Box) -> float:
    return (box[1] + box[3]) / 2


@dataclass(frozen=True)
class Rule:
    """A ruling line of the page (a stroked path or a thin filled rectangle): table cell borders."""

    box: Box

    @property
    def horizontal(self) -> bool:
        x0, top, x1, bottom = self.box
        return (x1 - x0) >= (bottom - top)


def is_cjk(char: str) -> bool:
    """True for Chinese characters and CJK / full-width punctuation."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK symbols and punctuation, kana, ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F  # CJK compatibility forms
        or 0xFF00 <= code <= 0xFFEF  # full-width forms: （），：；
        or 0x20000 <= code <= 0x3FFFF  # rare ideographs
        or char in "‘’“”—…·"
    )

"""Positioned text: what a PDF page is read into, from pdfium's text layer or from OCR of its image.

Both sources give the same shape, so lines, columns and table cells are rebuilt from positions
the same way whichever read the page.
"""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points; origin top-left of the page as shown


@dataclass(frozen=True)
class Glyph:
    text: str  # one character
    box: Box
    confidence: float | None = None  # OCR's, 0..1; None for a character from the text layer


@dataclass(frozen=True)
class Rule:
    """A ruling line of the page (a stroked path or a thin filled rectangle): table cell borders."""

    box: Box

    @property
    def horizontal(self) -> bool:
        x0, top, x1, bottom = self.box
        return (x1 - x0) >= (bottom - top)

"""The one shape every input format is read into.

`text` is the coordinate system of the whole project: every extracted cell
records a character span into it. Tables are linearised into `text` as one
line per table row with cells separated by a tab, so the template parser reads
table cells and broken plain text the same way.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from extractor.errors import NianbaoError
from extractor.glyphs import Box


class IngestError(NianbaoError):
    """A file that cannot be read as a report. The message names the file and the problem."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True)
class Document:
    source: str  # the input's file name, as written in results and gold files
    text: str
    sha256: str  # of the raw file bytes
    format: str  # "txt", "md", "html", "pdf" or "docx"
    page_starts: tuple[int, ...] = field(default=())  # offset in `text` where page 1, 2, ... begins
    # For a PDF, the box each character of `text` was printed in on its page (None for a tab,
    # space or line end put in when the page was laid out); empty for formats without pages.
    char_boxes: tuple[Box | None, ...] = field(default=(), repr=False, compare=False)
    # The OCR's confidence (0..1) in each character of `text` read from a page image; None elsewhere.
    # Empty when no page was read by OCR.
    char_confidences: tuple[float | None, ...] = field(default=(), repr=False, compare=False)
    ocr_pages: frozenset[int] = frozenset()  # 1-based pages read by OCR

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding `offset`, or None for formats without pages."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))

    def boxes_at(self, start: int, end: int) -> list[tuple[int, Box]]:
        """Where `text[start:end]` was printed: (page, box) per line of the span, the union of its characters' boxes."""
        places: list[tuple[int, Box]] = []
        line_start = True
        page, next_page_start = 1, 0
        for offset in range(start, min(end, len(self.char_boxes))):
            box = self.char_boxes[offset]
            if self.text[offset] == "\n":
                line_start = True
            if box is None:
                continue
            if offset >= next_page_start:  # the span's first box, or one on a page after the one before
                page = self.page_at(offset) or 1
                next_page_start = self.page_starts[page] if page < len(self.page_starts) else len(self.text)
            if line_start or places[-1][0] != page:
                places.append((page, box))
                line_start = False
                continue
            x0, top, x1, bottom = places[-1][1]
            places[-1] = (page, (min(x0, box[0]), min(top, box[1]), max(x1, box[2]), max(bottom, box[3])))
        return places

    def confidence_at(self, start: int, end: int) -> float | None:
        """The OCR's lowest confidence in a character of `text[start:end]`; None if no character was read by OCR."""
        values = [value for value in self.char_confidences[start:end] if value is not None]
        return min(values) if values else None

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

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding `offset`, or None for formats without pages."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))

"""Cutting a document's text into lines of cells, and lines into the report's sections.

A line holding a tab is a table row (cells split on tabs), and so is a markdown
pipe row (`| a | b |`, cells split on the pipes; the `|---|` rule under a header
is no line at all). Any other line is split on runs of spaces, which is how table
rows look in a PDF's text layer. Every cell keeps its span in the document text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from extractor.values import read_cell
from schemas.report import Template
from schemas.template import SECTION_ANCHORS, SECTION_HEADINGS, TEMPLATE_SIGNALS, normalise

PAGE_NUMBER = re.compile(r"^[-—–－]\s*\d+\s*[-—–－]$|^第\s*\d+\s*页(\s*共\s*\d+\s*页)?$")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|(\s*:?-{2,}:?\s*\|)+\s*$")
_CELL = re.compile(r"[^\t]+")
_TOKEN = re.compile(r"\S+")
_LONGEST_HEADING = 80  # characters; a longer line without tabs is prose


@dataclass(frozen=True)
class Cell:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Line:
    number: int  # 1-based line number in the document text
    start: int
    end: int
    tabbed: bool  # cells are a table's (split on tabs or pipes), not runs of words
    cells: tuple[Cell, ...]  # tabbed lines keep their empty cells, as "" at the cell's position

    @cached_property
    def label_end(self) -> int:
        """Index of the first cell after the last label (non-value) cell."""
        for index in range(len(self.cells) - 1, -1, -1):
            if read_cell(self.cells[index].text).kind == "text":
                return index + 1
        return 0

    @cached_property
    def label(self) -> str:
        return normalise("".join(cell.text for cell in self.cells[: self.label_end]))

    @cached_property
    def cells_after_label(self) -> tuple[Cell, ...]:
        """The cells after the label, in print order, with empty cells at the end dropped."""
        cells = list(self.cells[self.label_end :])
        while cells and not cells[-1].text:
            cells.pop()
        return tuple(cells)

    def cells_after_words(self, words: re.Pattern[str]) -> tuple[Cell, ...]:
        """The cells after the one the row's label words end in, empty cells at the end dropped: a word
        printed where a number should be ("NaN") then keeps its column. `cells_after_label` where no one
        cell holds the words (a label split over cells)."""
        for index in range(len(self.cells) - 1, -1, -1):
            if words.search(normalise(self.cells[index].text)):
                cells = list(self.cells[index + 1 :])
                while cells and not cells[-1].text:
                    cells.pop()
                return tuple(cells)
        return self.cells_after_label

    @cached_property
    def value_cells(self) -> tuple[Cell, ...]:
        """`cells_after_label` without empty cells at the start either (spacers of merged label columns)."""
        cells = list(self.cells_after_label)
        while cells and not cells[0].text:
            cells.pop(0)
        return tuple(cells)

    @property
    def is_prose(self) -> bool:
        """A sentence of the narrative, not a table row."""
        return not self.tabbed and self.end - self.start > 15 and self.cells[-1].text.endswith(("。", ";", "；"))


def _tab_cells(text: str, start: int, separator: str = "\t") -> tuple[Cell, ...]:
    cells: list[Cell] = []
    position = start
    for part in text.split(separator):
        stripped = part.strip()
        offset = position + len(part) - len(part.lstrip())
        cells.append(Cell(stripped, offset, offset + len(stripped)))
        position += len(part) + 1
    return tuple(cells)


def _pipe_cells(text: str, start: int) -> tuple[Cell, ...]:
    """The cells between a markdown row's outer pipes."""
    first = text.index("|")
    last = text.rindex("|")
    return _tab_cells(text[first + 1 : last], start + first + 1, separator="|")


def _space_cells(text: str, start: int) -> tuple[Cell, ...]:
    return tuple(Cell(m.group(), start + m.start(), start + m.end()) for m in _TOKEN.finditer(text))


def split_lines(text: str) -> list[Line]:
    """Non-empty lines, page numbers ("- 4 -") left out."""
    lines: list[Line] = []
    start = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        end = start + len(raw)
        stripped = raw.strip().lstrip("#").strip()
        if stripped and not PAGE_NUMBER.match(stripped) and not _PIPE_RULE.match(raw):
            lines.append(_line(number, raw, start, end))
        start = end + 1
    return lines


def _line(number: int, raw: str, start: int, end: int) -> Line:
    if _PIPE_ROW.match(raw) and raw.count("|") >= 3:
        return Line(number, start, end, True, _pipe_cells(raw, start))
    if "\t" in raw:
        return Line(number, start, end, True, _tab_cells(raw, start))
    return Line(number, start, end, False, _space_cells(raw, start))


def _section_change(line: Line) -> str | None:
    if line.is_prose or (not line.tabbed and line.end - line.start > _LONGEST_HEADING):
        return None
    label = line.label.lstrip("#")
    if len(label) <= 40:
        for section, pattern in SECTION_HEADINGS:
            if pattern.search(label):
                return section
    for section, pattern in SECTION_ANCHORS:
        if pattern.search(label):
            return section
    return None


@dataclass(frozen=True)
class Layout:
    lines: tuple[Line, ...]
    sections: dict[str, tuple[Line, ...]]

    @property
    def table_lines(self) -> tuple[Line, ...]:
        return self.sections["t2"] + self.sections["t3"] + self.sections["t4"]


CACHED_TEXT_LIMIT = 1_000_000  # characters: bigger documents are laid out afresh rather than kept


def layout(text: str) -> Layout:
    """The document's lines and sections. Cached for reports of ordinary size: the parser,
    resolver and verifier all read them, from several threads at once in a bulk run."""
    return _cached_layout(text) if len(text) <= CACHED_TEXT_LIMIT else _layout(text)


def _layout(text: str) -> Layout:
    lines = split_lines(text)
    return Layout(tuple(lines), {name: tuple(group) for name, group in sections(lines).items()})


_cached_layout = lru_cache(maxsize=32)(_layout)


def sections(lines: list[Line]) -> dict[str, list[Line]]:
    """Lines grouped by section: "t2", "t3", "t4", and "prose" for everything outside the tables."""
    grouped: dict[str, list[Line]] = {"prose": [], "t2": [], "t3": [], "t4": []}
    current = "prose"
    for line in lines:
        change = _section_change(line)
        if change:
            current = "prose" if change == "end" else change
        grouped[current].append(line)
    return grouped


def template_votes(table_lines: Sequence[Line]) -> Counter[Template]:
    """How many header words of each template version the table sections hold."""
    votes: Counter[Template] = Counter()
    for line in table_lines:
        if line.is_prose:
            continue
        for template, pattern in TEMPLATE_SIGNALS.items():
            votes[template] += len(pattern.findall(line.label))
    return votes


def detect_template(table_lines: Sequence[Line], year: int | None) -> Template:
    """By the table headers; by the year only where the headers say nothing."""
    votes = template_votes(table_lines)
    if votes["2019"] != votes["2021"]:
        return "2019" if votes["2019"] > votes["2021"] else "2021"
    return "2021" if year is not None and year >= 2021 else "2019"

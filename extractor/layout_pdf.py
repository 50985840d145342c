"""A page's positioned glyphs and ruling lines as lines of text, in the conventions of extractor/document.py.

- Ruled tables: cells are the grid the ruling lines draw (a cell merged across a missing
  line is one cell, its text in its first slot, as pdfplumber's table finder gives it);
  each row becomes one tab-joined line, the table framed by empty lines. A one-column
  "table" is a framed paragraph and stays plain text.
- Text outside tables: rows by their top edge, words by the gaps between glyphs.
- Two columns of text beside each other are read one after the other, not interleaved.

Every character of the lines keeps the glyph it was printed as (None for a tab or a space put
in here), so a span of the document text maps back to boxes on the page.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from extractor.glyphs import Box, Glyph, Rule, is_cjk

PlacedChar = tuple[str, Glyph | None]  # a character and the glyph it was printed as
PlacedLine = list[PlacedChar]
_TAB: PlacedChar = ("\t", None)  # between a table row's cells

_Y_TOLERANCE = 3.0  # points: glyphs whose baselines are this close are one row
_WORD_GAP = 3.0  # points: a wider gap between glyphs is a space
_CROSSING = 3.0  # points: ruling lines this close to each other's ends cross
_GUTTER = 10.0  # points: the narrowest gap between two columns of text
_COLUMN_LINE_CHARS = 8  # characters each side of the gutter in a row of two columns of text (cells are shorter)
_MIN_COLUMN_ROWS = 3  # rows that must be split by the gutter for a page region to be two columns
_SAME_COLUMN_PITCH = 1.3  # a row further below the one before than this many times the columns' leading ends a column


def page_lines(glyphs: Sequence[Glyph], rules: Sequence[Rule], width: float) -> list[PlacedLine]:
    """One page's lines: tables and text, ordered by their top edge."""
    glyphs = _deduplicated(glyphs)
    tables = [table for table in find_tables(rules) if table.column_count >= 2]
    in_cells, outside = _sorted_into_cells(tables, glyphs)
    blocks = [(table.box[1], table.lines(cells)) for table, cells in zip(tables, in_cells, strict=True)]
    blocks += _text_blocks(outside, width, tables)
    blocks.sort(key=lambda block: block[0])
    return [line for _, lines in blocks for line in lines]


def _sorted_into_cells(tables: Sequence[Table], glyphs: Sequence[Glyph]) -> tuple[list[list[list[Glyph]]], list[Glyph]]:
    """Each table's glyphs, cell by cell, and the glyphs outside every table. A glyph belongs to the first table
    whose frame holds its centre, and in it to the cell whose slot does."""
    in_cells: list[list[list[Glyph]]] = [[[] for _ in table.cells] for table in tables]
    outside: list[Glyph] = []
    frames = [
        (table.box, table.xs, table.ys, table.owner, cells) for table, cells in zip(tables, in_cells, strict=True)
    ]
    for glyph in glyphs:
        x0, top, x1, bottom = glyph.box
        x, y = (x0 + x1) / 2, (top + bottom) / 2
        for (left, up, right, down), xs, ys, owner, cells in frames:
            if left <= x < right and up <= y < down:
                cells[owner[bisect.bisect_right(ys, y) - 1, bisect.bisect_right(xs, x) - 1]].append(glyph)
                break
        else:
            outside.append(glyph)
    return in_cells, outside


def _deduplicated(glyphs: Sequence[Glyph]) -> Sequence[Glyph]:
    """Without the second copy of a glyph drawn twice in the same place (some PDFs fake bold that way)."""
    keys = [(glyph.text, round(glyph.box[0]), round(glyph.box[1])) for glyph in glyphs]
    if len(set(keys)) == len(keys):  # most pages: nothing drawn twice
        return glyphs
    seen: set[tuple[str, int, int]] = set()
    kept = []
    for key, glyph in zip(keys, glyphs, strict=True):
        if key not in seen:
            seen.add(key)
            kept.append(glyph)
    return kept


# ---------------------------------------------------------------- text rows


def rows_of(glyphs: Iterable[Glyph]) -> list[list[Glyph]]:
    """Glyphs grouped into rows by baseline (chained within _Y_TOLERANCE), each row left to right."""
    by_y = sorted(glyphs, key=_by_row_y)
    if by_y and by_y[-1].row_y - by_y[0].row_y <= _Y_TOLERANCE:  # one row: most table cells
        return [sorted(by_y, key=_by_left_edge)]
    rows: list[list[Glyph]] = []
    last_y = -math.inf
    for glyph in by_y:
        if glyph.row_y - last_y > _Y_TOLERANCE:
            rows.append([])
        rows[-1].append(glyph)
        last_y = glyph.row_y
    return [sorted(row, key=_by_left_edge) for row in rows]


_by_row_y = operator.attrgetter("row_y")


_by_left_edge = operator.attrgetter("box")  # the left edge first; ties (glyphs drawn on top of another) by the rest


def placed_row(row: Sequence[Glyph]) -> PlacedLine:
    """A row's glyphs as characters: one space for a gap wider than _WORD_GAP or for blank glyphs, none at the ends."""
    line: PlacedLine = []
    gap = False
    last_right = None
    for glyph in row:
        if glyph.text.isspace():
            gap = True
            continue
        if last_right is not None and (gap or glyph.box[0] > last_right + _WORD_GAP):
            line.append((" ", None))
        line.append((glyph.text, glyph))
        gap, last_right = False, glyph.box[2]
    return line


def _text_blocks(glyphs: list[Glyph], width: float, tables: Sequence[Table]) -> list[tuple[float, list[PlacedLine]]]:
    """Text rows as blocks by their top; rows split by one gutter are read left column first.

    A row across the gutter, or a table, ends a run of rows that may hold two columns.
    """
    rows = [row for row in rows_of(glyphs) if any(not glyph.text.isspace() for glyph in row)]
    gutter = _gutter(rows, width)
    if gutter is None:
        return _row_blocks(rows)
    blocks: list[tuple[float, list[PlacedLine]]] = []
    run: list[list[Glyph]] = []
    for row in rows:
        if run and any(run[-1][0].box[1] < table.box[1] < row[0].box[1] for table in tables):
            blocks += _column_blocks(run, gutter)
            run = []
        if _crosses(row, gutter):
            blocks += _column_blocks(run, gutter) + _row_blocks([row])
            run = []
        else:
            run.append(row)
    return blocks + _column_blocks(run, gutter)


def _row_blocks(rows: list[list[Glyph]]) -> list[tuple[float, list[PlacedLine]]]:
    return [(row[0].box[1], [placed_row(row)]) for row in rows]


def _column_blocks(run: list[list[Glyph]], gutter: float) -> list[tuple[float, list[PlacedLine]]]:
    """The rows of the run that hold two columns, left column then right, as one block; the rest row by row.

    The columns begin at the first row split by the gutter and end at the right column's last row, or
    below it at the last row that continues the left column at about its leading.
    """
    split = [index for index, row in enumerate(run) if _split_by(row, gutter)]
    if len(split) < _MIN_COLUMN_ROWS:
        return _row_blocks(run)
    first = split[0]
    end = max(index for index, row in enumerate(run) if any(_centre_x(glyph) >= gutter for glyph in row)) + 1
    usual = min((b[0].row_y - a[0].row_y for a, b in itertools.pairwise(run[first:end])), default=0.0)  # leading
    while end < len(run) and _continues_left_column(run[end - 1], run[end], gutter, _SAME_COLUMN_PITCH * usual):
        end += 1
    columns = run[first:end]
    left = [[glyph for glyph in row if _centre_x(glyph) < gutter] for row in columns]
    right = [[glyph for glyph in row if _centre_x(glyph) >= gutter] for row in columns]
    lines = [placed_row(row) for row in left + right if row]
    return [*_row_blocks(run[:first]), (columns[0][0].box[1], lines), *_row_blocks(run[end:])]


def _continues_left_column(previous: list[Glyph], row: list[Glyph], gutter: float, pitch: float) -> bool:
    """The row is the next line of a left column still running on the row above (the right one has ended)."""
    running = any(_centre_x(glyph) < gutter for glyph in previous)
    return running and row[0].row_y - previous[0].row_y <= pitch


def _gutter(rows: list[list[Glyph]], width: float) -> float | None:
    """An x in the page's middle that falls in a gap at least _GUTTER wide in the most rows (at least 3), if any:
    the middle of the widest run of such x."""
    gaps = [
        (left.box[2], right.box[0])
        for row in rows
        for index, (left, right) in enumerate(itertools.pairwise(row))
        if right.box[0] - left.box[2] >= _GUTTER and _prose(row[: index + 1]) and _prose(row[index + 1 :])
    ]
    if not gaps:
        return None
    candidates = range(int(0.3 * width), int(0.7 * width) + 1)
    counts = [sum(1 for start, end in gaps if start < x < end) for x in candidates]
    best = max(counts)
    if best < _MIN_COLUMN_ROWS:
        return None
    run = [x for x, count in zip(candidates, counts, strict=True) if count == best]
    return float(run[len(run) // 2])


def _prose(glyphs: Sequence[Glyph]) -> bool:
    """A line's worth of words, not a table's cells: the sides of a gap between two columns of text.
    (A scanned table has no ruling lines to find it by, and its numbers stand apart like columns.)"""
    visible = [glyph.text for glyph in glyphs if not glyph.text.isspace()]
    digits = sum(1 for char in visible if char.isdigit())
    return len(visible) >= _COLUMN_LINE_CHARS and digits <= 0.3 * len(visible)


def _centre_x(glyph: Glyph) -> float:
    return (glyph.box[0] + glyph.box[2]) / 2


def _crosses(row: list[Glyph], gutter: float) -> bool:
    return any(glyph.box[0] < gutter < glyph.box[2] for glyph in row)


def _split_by(row: list[Glyph], gutter: float) -> bool:
    return any(glyph.box[2] <= gutter for glyph in row) and any(glyph.box[0] >= gutter for glyph in row)


# ---------------------------------------------------------------- ruled tables


@dataclass(frozen=True)
class Table:
    xs: tuple[float, ...]  # the column boundaries, left to right
    ys: tuple[float, ...]  # the row boundaries, top to bottom
    cells: tuple[tuple[int, int, int, int], ...]  # (first row, first column, last row, last column) of the slots

    @property
    def box(self) -> Box:
        return (self.xs[0], self.ys[0], self.xs[-1], self.ys[-1])

    @property
    def column_count(self) -> int:
        return len({cell[1] for cell in self.cells})

    @cached_property
    def owner(self) -> dict[tuple[int, int], int]:
        """The cell (its index in `cells`) that each slot (row, column) of the grid belongs to."""
        return {
            (row, column): index
            for index, (first_row, first_column, last_row, last_column) in enumerate(self.cells)
            for row in range(first_row, last_row + 1)
            for column in range(first_column, last_column + 1)
        }

    def lines(self, in_cells: list[list[Glyph]]) -> list[PlacedLine]:
        """The table's lines from the glyphs of each of its cells: "", then one tab-joined line per row that has
        a cell starting in it, then ""."""
        rows = {row: index for index, row in enumerate(sorted({cell[0] for cell in self.cells}))}
        columns = {column: index for index, column in enumerate(sorted({cell[1] for cell in self.cells}))}
        grid: list[list[PlacedLine]] = [[[] for _ in columns] for _ in rows]
        for cell, cell_glyphs in zip(self.cells, in_cells, strict=True):
            grid[rows[cell[0]]][columns[cell[1]]] = cell_text(cell_glyphs)
        return [[], *(_tab_joined(row) for row in grid), []]


def cell_text(glyphs: Sequence[Glyph]) -> PlacedLine:
    """A cell's rows joined as one line: no space between two CJK characters, else one ("商业企\\n业" -> "商业企业")."""
    if len(glyphs) <= 1:  # an empty cell or a one-digit number: most cells of a report's tables
        return placed_row(glyphs)
    joined: PlacedLine = []
    for row in rows_of(glyphs):
        line = placed_row(row)
        if not line:
            continue
        if joined and not (is_cjk(joined[-1][0]) and is_cjk(line[0][0])):
            joined.append((" ", None))
        joined += line
    return joined


def _tab_joined(cells: list[PlacedLine]) -> PlacedLine:
    line: PlacedLine = []
    for index, cell in enumerate(cells):
        if index:
            line.append(_TAB)
        line += cell
    return line


@dataclass(frozen=True)
class _Line:
    at: float  # y of a horizontal line, x of a vertical one
    start: float
    end: float


def find_tables(rules: Sequence[Rule]) -> list[Table]:
    """The ruled tables: groups of crossing lines, with at least two lines each way."""
    horizontal = [_Line(rule.box[1], rule.box[0], rule.box[2]) for rule in rules if rule.horizontal]
    vertical = [_Line(rule.box[0], rule.box[1], rule.box[3]) for rule in rules if not rule.horizontal]
    tables = []
    for group_h, group_v in _crossing_groups(horizontal, vertical):
        if len(group_h) >= 2 and len(group_v) >= 2:
            tables.append(_grid(group_h, group_v))
    return [table for table in tables if table.cells]


def _crossing_groups(horizontal: list[_Line], vertical: list[_Line]) -> list[tuple[list[_Line], list[_Line]]]:
    parent = list(range(len(horizontal) + len(vertical)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    reaches = [(v.at, v.start - _CROSSING, v.end + _CROSSING) for v in vertical]
    for i, h in enumerate(horizontal):
        left, right = h.start - _CROSSING, h.end + _CROSSING
        for j, (x, top, bottom) in enumerate(reaches):
            if left <= x <= right and top <= h.at <= bottom:  # the two lines cross, or nearly meet
                parent[root(i)] = root(len(horizontal) + j)
    groups: dict[int, tuple[list[_Line], list[_Line]]] = {}
    for i, h in enumerate(horizontal):
        groups.setdefault(root(i), ([], []))[0].append(h)
    for j, v in enumerate(vertical):
        groups.setdefault(root(len(horizontal) + j), ([], []))[1].append(v)
    return list(groups.values())


def _grid(horizontal: list[_Line], vertical: list[_Line]) -> Table:
    """The grid's slots merged into cells wherever the line between two slots is missing."""
    xs = tuple(sorted({line.at for line in vertical}))
    ys = tuple(sorted({line.at for line in horizontal}))
    rows, columns = len(ys) - 1, len(xs) - 1
    walls, floors = _ruled(vertical, xs, ys), _ruled(horizontal, ys, xs)  # walls[c][r]: xs[c] is ruled beside row r
    parent = list(range(rows * columns))  # slot (r, c) is r * columns + c

    def root(slot: int) -> int:
        while parent[slot] != slot:
            slot = parent[slot]
        return slot

    def join(a: int, b: int) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for r in range(rows):
        for c in range(columns):
            if c + 1 < columns and not walls[c + 1][r]:
                join(r * columns + c, r * columns + c + 1)
            if r + 1 < rows and not floors[r + 1][c]:
                join(r * columns + c, (r + 1) * columns + c)
    spans: dict[int, list[int]] = {}
    for slot in range(rows * columns):
        r, c = divmod(slot, columns)
        span = spans.setdefault(root(slot), [r, c, r, c])
        span[2], span[3] = max(span[2], r), max(span[3], c)
    return Table(xs, ys, tuple(tuple(span) for span in spans.values()))  # type: ignore[misc]


def _ruled(lines: list[_Line], positions: tuple[float, ...], across: tuple[float, ...]) -> list[list[bool]]:
    """ruled[i][k]: a line at positions[i] covers the slot from across[k] to across[k + 1]."""
    ruled = [[False] * (len(across) - 1) for _ in positions]
    index = {at: i for i, at in enumerate(positions)}
    for line in lines:
        slots = ruled[index[line.at]]
        reach_start, reach_end = line.start - _CROSSING, line.end + _CROSSING
        for k, (start, end) in enumerate(itertools.pairwise(across)):
            if reach_start <= start and end <= reach_end:  # the line reaches both ends of the slot
                slots[k] = True
    return ruled


# ---------------------------------------------------------------- tables continued across pages


def drop_repeated_headers(pages: Sequence[list[PlacedLine]]) -> None:
    """Where a page's first table continues the previous page's last one and repeats its header rows, drop
    the repeated rows (in place), so that the rows read once. Header rows hold no number-only cell."""
    for previous, page in itertools.pairwise(pages):
        before, after = _tables_in(previous), _tables_in(page)
        if not before or not after:
            continue
        start, end = after[0]
        repeated = _repeated_header_length(previous[before[-1][0] : before[-1][1]], page[start:end])
        del page[start : start + repeated]


def _repeated_header_length(header: list[PlacedLine], rows: list[PlacedLine]) -> int:
    """How many of `rows` repeat `header`'s first rows: the same cells, whatever the empty cells between them
    (a label drawn over three columns on one page may be one column on a page without the lines that split it)."""
    count = 0
    while (
        count < min(len(header), len(rows) - 1)
        and _cells(_text(rows[count])) == _cells(_text(header[count]))
        and not _has_number_cell(_text(rows[count]))
    ):
        count += 1
    return count


def _cells(row: str) -> list[str]:
    return [cell for cell in row.split("\t") if cell]


def _has_number_cell(row: str) -> bool:
    return any(cell.strip().replace(",", "").replace(".", "").lstrip("+-").isdigit() for cell in row.split("\t"))


def _tables_in(lines: list[PlacedLine]) -> list[tuple[int, int]]:
    """(first row, end) of each table: the runs of lines between the empty lines that frame a table."""
    tables, start = [], None
    for index, line in enumerate(lines):
        if not line:
            if start is not None and index > start:
                tables.append((start, index))
                start = None
            else:
                start = index + 1
    return tables


def _text(line: PlacedLine) -> str:
    return "".join(char for char, _ in line)


# ---------------------------------------------------------------- running headers and footers

_RUNNING_PAGES = 3
_PAGE_NUMBER_PARTS = re.compile(r"[\d\s\-—–－第页共/]+")


def drop_running_lines(pages: Sequence[list[PlacedLine]]) -> None:
    """Drop (in place) a header or footer printed on every page: a first (or last) line of text whose words,
    digits aside, are the first (or last) line of at least half the pages, three at least (the organ's name
    is the title's first line and may also open the last page, above its signature). Page numbers stay:
    the parser knows them, and they tell where a page ends."""
    ends = [_end_lines(lines) for lines in pages]
    seen: dict[tuple[int, str], int] = {}
    for places, lines in zip(ends, pages, strict=True):
        for place, index in places:
            key = (place, _running_key(lines[index]))
            seen[key] = seen.get(key, 0) + 1
    enough = max(_RUNNING_PAGES, (len(pages) + 1) // 2)
    running = {key for key, count in seen.items() if count >= enough and not _PAGE_NUMBER_PARTS.fullmatch(key[1])}
    for places, lines in zip(ends, pages, strict=True):
        for place, index in sorted(places, key=lambda item: -item[1]):
            if (place, _running_key(lines[index])) in running:
                del lines[index]


_PAGE_NUMBER_DASHES_LOST = re.compile(r"[-—–－]\s*(\d{1,4})|(\d{1,4})\s*[-—–－]|(\d{1,4})")
_FOOTER_GAP = 2.0  # bare digits of a footer stand at least this many of their heights below all above them


def drop_misread_page_numbers(pages: Sequence[list[PlacedLine]]) -> None:
    """Drop (in place) a page's last line where it is the page's own number with its dashes lost: "1-", "-1"
    or "1" on page 1 where "- 1 -" was printed (OCR misses a thin dash now and then).

    It must be the page's lowest line, text (not a table's), and print that page's number; bare digits
    must also stand apart, twice their height below everything above them (a value wrapped onto a line
    of its own does not). Kept, such a line reads as a stray number amid a table continued across the page
    break. A page number read whole stays (see drop_running_lines), and so does one that is not this
    page's number.
    """
    for number, lines in enumerate(pages, start=1):
        last = [index for place, index in _end_lines(lines) if place == 1]
        if not last:
            continue
        found = _PAGE_NUMBER_DASHES_LOST.fullmatch(_text(lines[last[0]]).strip())
        if found is None or int(next(group for group in found.groups() if group)) != number:
            continue
        if found.group(3) and not _stands_apart(lines, last[0]):
            continue
        del lines[last[0]]


def _stands_apart(lines: list[PlacedLine], index: int) -> bool:
    """Whether the line's top lies at least _FOOTER_GAP of its heights below the lowest box of the lines above it
    (a table's glyphs included, whose boxes may reach below a later line's top)."""
    boxes = [glyph.box for _, glyph in lines[index] if glyph is not None]
    above = [glyph.box for line in lines[:index] for _, glyph in line if glyph is not None]
    if not boxes or not above:
        return bool(boxes)
    top, bottom = min(box[1] for box in boxes), max(box[3] for box in boxes)
    return top - max(box[3] for box in above) >= _FOOTER_GAP * (bottom - top)


def _end_lines(lines: list[PlacedLine]) -> list[tuple[int, int]]:
    """(0, index) of the page's first line and (1, index) of its last, where they are text, not a table's."""
    text = [index for index, line in enumerate(lines) if line and _TAB not in line]
    places = []
    if text and text[0] == 0:
        places.append((0, 0))
    if text and text[-1] == len(lines) - 1 and text[-1] != 0:
        places.append((1, text[-1]))
    return places


def _running_key(line: PlacedLine) -> str:
    return re.sub(r"\d+", "0", _text(line)).strip()

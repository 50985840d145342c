"""What the document itself proves about each cell: the evidence layer.

Given a document and a template, and nothing from any extractor, this module finds:

- each table's **region**: the non-prose lines of its section (see `layout.sections`);
- every **piece** printed there: a number, or a no-number mark ("/", "—"); and every
  digit that is **explained** instead: a page number, an ordinal ("1.", "（2）"), a
  year or date, a header's numbering ("数据3"), a note's count ("含自然失效29件");
- each row's **anchor**: its label, matched by the template's row words, on the
  pieces' line or the nearest label before them in reading order (a label split
  over lines, or printed in another fragment than its numbers, still anchors);
- each row's **readings**: the ways its pieces fill its columns in order. Where a
  line is a table grid the cell positions decide; where cells are glued into one
  digit run ("801000081") the run is split, and a split is accepted only where
  the no-leading-zero rule, the signs and the row's own sums make it unique.

`prove` then checks values from any backend against that evidence: a value is
proven only where the row has one reading (or all readings agree on that cell) and
the reading prints that value in that column. Every piece that no cell accounts
for is reported, so a number nobody read blocks `verified`.

The verifier and the LLM resolver both use this module; neither uses the parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache
from itertools import pairwise

from extractor.layout import CACHED_TEXT_LIMIT, PAGE_NUMBER, Line, layout
from extractor.relations import relations
from extractor.values import MAX_COUNT, read_cell
from schemas.flat import TABLES, Value, cell_types
from schemas.report import Amount, Template
from schemas.template import T2_ROWS, T3_ROWS, T4_KEYS, normalise

# Digits inside text that are not a cell's number, and why (first match wins).
EXPLANATIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "a year or date",
        re.compile(r"(?:19|20)\d{2}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?|\d{1,2}\s*月\s*\d{1,2}\s*日"),
    ),
    ("a date", re.compile(r"(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}")),
    ("an ordinal", re.compile(r"[(（]\s*\d{1,2}\s*[)）]|(?<![\d.])\d{1,2}\s*[.、．](?=\s*[^\d\s.、．]|\s*$)")),
    # A crawler dump glues a list item's number to the numbers before it: "…禁止公开00000003.危及…".
    ("an ordinal", re.compile(r"(?<=\d)[1-9][.、．](?=\s*[\u4e00-\u9fff“\"]|\s*$)")),
    ("a footnote mark", re.compile(r"\[\d{1,2}\]|［\d{1,2}］")),
    ("a header's numbering", re.compile(r"(?:数据|列|栏|第)\s*\d{1,2}(?:\s*[项条款页栏列])?")),
    ("a note's count", re.compile(r"[(（][^()（）]*?[\u4e00-\u9fff][^()（）]*?[)）]")),
)
# A number or a no-number mark inside text: digits glued to words or to each other.
_GLUED = re.compile(r"[+\-−－]?\d[\d,.]*|/|／")
_MAX_COUNT_DIGITS = len(str(MAX_COUNT))  # a run this long is no one count: several glued together
_SPLIT_BUDGET = 200_000  # partial splits tried for one row before it is called ambiguous
_MAX_READINGS = 64  # readings kept per row, to be resolved by the relations; more is as ambiguous as two


@dataclass(frozen=True)
class Piece:
    """A printed number, or an explicit no-number mark, in a table's region."""

    text: str
    start: int
    end: int
    line: int
    kind: str  # "number" or "null"
    glued: bool = False  # digits glued to words or other digits: may hold several cells
    column: int | None = None  # its cell's index on a grid line


@dataclass(frozen=True)
class Span:
    """One cell's printed text, as a reading places it: `text` is `document.text[start:end]`."""

    text: str
    start: int
    end: int
    line: int

    @cached_property  # read again and again while the readings of a glued row are weighed by its sums
    def number(self) -> Decimal | None:
        return read_cell(self.text).number


Reading = tuple[Span | None, ...]  # one entry per column; None where the cell is blank or marked "no number"


@dataclass(frozen=True)
class Explained:
    text: str
    start: int
    line: int
    why: str


@dataclass
class RowEvidence:
    """One row of a table as the document prints it."""

    key: str  # the template row, e.g. "t3.denied.state_secret"; "t4" for 表四's fifteen cells
    keys: tuple[str, ...]
    label_lines: list[int] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    readings: tuple[Reading, ...] = ()
    problem: str | None = None  # why there is no reading
    extra: list[Piece] = field(default_factory=list)  # printed under no column of the header
    not_numbers: list[Span] = field(default_factory=list)  # words in a number's place ("NaN"): read as no number
    words: re.Pattern[str] | None = None  # the row's label words, where the row has a label
    complete: bool = True  # False where not every reading could be enumerated: never resolved to one

    @property
    def lines(self) -> list[int]:
        return sorted(set(self.label_lines) | {piece.line for piece in self.pieces})

    @property
    def numbers(self) -> list[Piece]:
        return [piece for piece in self.pieces if piece.kind == "number"]


@dataclass
class Region:
    table: str
    lines: tuple[Line, ...]
    rows: dict[str, RowEvidence] = field(default_factory=dict)
    stray: list[Piece] = field(default_factory=list)  # numbers before any row label
    explained: list[Explained] = field(default_factory=list)

    @property
    def has_numbers(self) -> bool:
        return bool(self.stray) or any(row.numbers for row in self.rows.values())


@dataclass(frozen=True)
class Evidence:
    template: Template
    regions: dict[str, Region]

    def row(self, key: str) -> RowEvidence | None:
        """The printed row holding a flat key's cell, if the document prints it."""
        table = key.split(".")[0]
        if table == "t4":
            return self.regions[table].rows.get("t4")
        return self._rows_by_key[table].get(key)

    @cached_property
    def _rows_by_key(self) -> dict[str, dict[str, RowEvidence]]:
        """Per table, each flat key's printed row: the first row, in print order, whose columns hold it."""
        found: dict[str, dict[str, RowEvidence]] = {}
        for table, region in self.regions.items():
            rows = found[table] = {}
            for row in region.rows.values():
                for key in row.keys:
                    rows.setdefault(key, row)
        return found


def evidence(text: str, template: Template) -> Evidence:
    """The evidence of a document's text, cached for reports of ordinary size (the resolver, the
    verifier and the re-asks all read it)."""
    return _cached(text, template) if len(text) <= CACHED_TEXT_LIMIT else _evidence(text, template)


def _evidence(text: str, template: Template) -> Evidence:
    sections = layout(text).sections
    regions = {}
    for table in TABLES:
        lines = tuple(line for line in sections[table] if not line.is_prose)
        regions[table] = _read_region(table, lines, template)
    return Evidence(template, regions)


_cached = lru_cache(maxsize=32)(_evidence)


# Pieces --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    text: str
    line: int


_Item = _Text | Piece


def _items(line: Line, explained: list[Explained]) -> Iterator[_Item]:
    """A line as label text and pieces, in reading order (blank grid cells are not pieces)."""
    for index, cell in enumerate(line.cells):
        if not cell.text:
            continue
        reading = read_cell(cell.text)
        if reading.kind in ("number", "null"):
            column = index if line.tabbed else None
            glued = reading.kind == "number" and _glued_digits(cell.text)
            yield Piece(cell.text, cell.start, cell.end, line.number, reading.kind, glued, None if glued else column)
        elif PAGE_NUMBER.match(cell.text):
            explained.append(Explained(cell.text, cell.start, line.number, "a page number"))
        else:
            yield from _text_items(cell.text, cell.start, line.number, explained)


def _text_items(text: str, start: int, line: int, explained: list[Explained]) -> Iterator[_Item]:
    """Words with digits in them: the explained digits stay words, the rest are glued pieces."""
    covered = _explained_spans(text)
    masked = list(text)
    for begin, end, why in covered:
        explained.append(Explained(text[begin:end], start + begin, line, why))
        masked[begin:end] = "\0" * (end - begin)  # an explained "3." is not part of the digits before it
    position = 0
    for match in _GLUED.finditer("".join(masked)):
        piece_text = match.group().rstrip(",.")
        begin, end = match.start(), match.start() + len(piece_text)
        if piece_text in ("/", "／") and _between_words(text, begin):
            continue  # "本年增/减": part of a header
        if not piece_text or (piece_text not in ("/", "／") and not any(ch.isdigit() for ch in piece_text)):
            continue
        if begin > position:
            yield _Text(text[position:begin], line)
        kind = "null" if piece_text in ("/", "／") else "number"
        yield Piece(piece_text, start + begin, start + end, line, kind, glued=True)
        position = end
    if position < len(text):
        yield _Text(text[position:], line)


def _glued_digits(text: str) -> bool:
    """A run of digits that cannot be one count: a leading zero, or more digits than any count has."""
    return text.isdigit() and ((len(text) > 1 and text[0] == "0") or len(text) >= _MAX_COUNT_DIGITS)


def _explained_spans(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    if not any(map(str.isdigit, text)):  # every span explains digits: most labels have none to explain
        return spans
    for why, pattern in EXPLANATIONS:
        for match in pattern.finditer(text):
            begin, end = match.span()
            if any(ch.isdigit() for ch in match.group()) and not any(b < end and begin < e for b, e, _ in spans):
                spans.append((begin, end, why))
    return spans


def _between_words(text: str, index: int) -> bool:
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return _is_word(before) and _is_word(after)


def _is_word(ch: str) -> bool:
    return bool(ch) and ("\u4e00" <= ch <= "\u9fff")


# Rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RowWords:
    key: str
    keys: tuple[str, ...]
    pattern: re.Pattern[str]


@lru_cache(maxsize=4)
def _row_words(table: str, template: Template) -> tuple[_RowWords, ...]:
    specs = T2_ROWS[template] if table == "t2" else T3_ROWS[template]
    # Anywhere in the label, not only at its start: a header may run into the first label.
    return tuple(
        _RowWords(spec.key, tuple(spec.cell_keys()), re.compile(spec.pattern.pattern.lstrip("^"))) for spec in specs
    )


def _anchor(label: str, words: Sequence[_RowWords]) -> _RowWords | None:
    """The row whose words stand last in the label: the label that directly precedes the numbers."""
    best: tuple[int, _RowWords] | None = None
    for row in words:
        for match in row.pattern.finditer(label):
            if best is None or match.end() > best[0]:
                best = (match.end(), row)
    return best[1] if best else None


def _read_region(table: str, lines: tuple[Line, ...], template: Template) -> Region:
    region = Region(table, lines)
    chunks = [chunk for line in lines for chunk in _chunks(line, region.explained)]
    if table == "t4":
        pieces = [piece for chunk in chunks for piece in chunk.pieces]
        if pieces:
            region.rows["t4"] = RowEvidence("t4", T4_KEYS, pieces=pieces)
    else:
        _anchor_rows(region, chunks, _row_words(table, template))
    types = cell_types(template)
    by_line = {line.number: line for line in lines}
    headers = [line for line in lines if _is_header(line)]
    table_columns = _region_columns(table, headers) if table != "t2" else None
    for row in region.rows.values():
        header = table_columns
        if table == "t2" and row.pieces:
            header = _t2_columns(headers, row.pieces[0].line, len(row.keys))
        _read(row, types, by_line, header)
    if table == "t3":
        _by_relations(region, template)
    return region


_RELATION_BUDGET = 200_000  # rows assigned while resolving readings by the relations, before giving up
_BALANCE_ROWS = ("t3.new", "t3.carried_over", "t3.total_handled", "t3.carried_forward")


def _by_relations(region: Region, template: Template) -> None:
    """Rows with several readings, resolved together by the relations between rows (handled sums and
    balances): a combination stands only where every relation whose terms are all printed holds, and
    is taken only where exactly one combination does. A row whose readings were not all enumerated
    takes no part."""
    open_rows = [row for row in region.rows.values() if len(row.readings) > 1]
    if not open_rows or not all(row.complete for row in region.rows.values()):
        return
    # Outcome rows first, so a handled sum is decided as soon as (七)总计 is assigned, then the balances.
    open_rows.sort(key=lambda row: _BALANCE_ROWS.index(row.key) + 1 if row.key in _BALANCE_ROWS else 0)
    cells: dict[str, Span | None] = {
        key: cell
        for row in region.rows.values()
        if len(row.readings) == 1
        for key, cell in zip(row.keys, row.readings[0], strict=True)
    }
    printed_keys = {key for row in region.rows.values() if row.readings for key in row.keys}
    checks = [r for r in relations(template) if not r.id.startswith("t3.row_total") and set(r.keys) <= printed_keys]
    found: list[tuple[Reading, ...]] = []
    budget = [_RELATION_BUDGET]

    def search(depth: int, chosen: tuple[Reading, ...]) -> None:
        if len(found) > 1 or budget[0] < 0:
            return
        if depth == len(open_rows):
            found.append(chosen)
            return
        row = open_rows[depth]
        assigned = set(cells) - {key for later in open_rows[depth + 1 :] for key in later.keys}
        for reading in row.readings:
            budget[0] -= 1
            cells.update(zip(row.keys, reading, strict=True))
            decided = [r for r in checks if set(r.keys) & set(row.keys) and set(r.keys) <= assigned | set(row.keys)]
            if all(_holds(r.left, r.right, cells) for r in decided):
                search(depth + 1, (*chosen, reading))
        for key in row.keys:
            cells.pop(key, None)

    search(0, ())
    if len(found) == 1 and budget[0] >= 0:
        for row, reading in zip(open_rows, found[0], strict=True):
            row.readings = (reading,)


def _holds(left: Sequence[str], right: Sequence[str], cells: Mapping[str, Span | None]) -> bool:
    sides = [[cells.get(key) for key in side] for side in (left, right)]
    if any(cell is None for side in sides for cell in side):
        return True
    totals = [sum((cell.number or Decimal(0) for cell in side if cell is not None), Decimal(0)) for side in sides]
    return totals[0] == totals[1]


# Header words naming 表三's and 表四's columns, in column order.
_T3_COLUMN_WORDS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
_T4_COLUMN_WORD = re.compile(r"^(结果)?(维持|纠正)(结果)?$|^其他(结果)?$|^(结果)?其他$|^尚未审结$|^总计$")


def _is_header(line: Line) -> bool:
    """A grid line of words only: a header row."""
    return line.tabbed and not any(read_cell(c.text).kind in ("number", "null") for c in line.cells)


@dataclass(frozen=True)
class _Header:
    columns: tuple[int, ...]  # the cell index each column starts at
    width: int  # cells in the header's rows: a row of as many cells is on the same grid


def _region_columns(table: str, headers: Sequence[Line]) -> _Header | None:
    """Where 表三's or 表四's header rows (`_is_header`) place the columns (cell indices), if they name all of them."""
    if table == "t3":
        found: dict[str, int] = {}
        for line in headers:
            for index, cell in enumerate(line.cells):
                found.setdefault(normalise(cell.text), index)
        positions = tuple(found.get(word, -1) for word in _T3_COLUMN_WORDS)
    else:
        named = {
            i for line in headers for i, cell in enumerate(line.cells) if _T4_COLUMN_WORD.match(normalise(cell.text))
        }
        positions = tuple(sorted(named))
    expected = len(_T3_COLUMN_WORDS) if table == "t3" else len(T4_KEYS)
    ordered = all(a < b for a, b in pairwise(positions))
    if len(positions) != expected or min(positions) < 0 or not ordered:
        return None
    widths = {len(line.cells) for line in headers}
    return _Header(positions, widths.pop() if len(widths) == 1 else -1)


def _t2_columns(headers: Sequence[Line], line_number: int, width: int) -> _Header | None:
    """Where the header row just above a 表二 row places its columns ("信息内容 | 本年新制作数量 | …");
    `headers` are the region's header rows (`_is_header`), in print order."""
    above = [line for line in headers if line.number < line_number]
    for line in reversed(above):
        labelled = [i for i, cell in enumerate(line.cells) if cell.text]
        if len(labelled) == width + 1:
            return _Header(tuple(labelled[1:]), len(line.cells))
        if len(labelled) > 1:
            return None  # the nearest real header row does not name this row's columns
    return None


@dataclass
class _Chunk:
    """Label text on one line and the pieces printed after it (either may be empty)."""

    label: str
    line: int
    pieces: list[Piece] = field(default_factory=list)


def _chunks(line: Line, explained: list[Explained]) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    for item in _items(line, explained):
        if isinstance(item, _Text):
            if not chunks or chunks[-1].pieces:
                chunks.append(_Chunk("", line.number))
            chunks[-1].label += normalise(item.text)
        else:
            if not chunks:
                chunks.append(_Chunk("", line.number))
            chunks[-1].pieces.append(item)
    return chunks


_LOOK_AHEAD = 2  # label-only chunks after a row's numbers that may finish its label


def _anchor_rows(region: Region, chunks: list[_Chunk], words: Sequence[_RowWords]) -> None:
    """Give each chunk's pieces to a row, in reading order:

    1. the row its own label names;
    2. else, where its label is no more than a word ("数值") or empty, the row whose label
       was printed last and still waits for its numbers (its label in another fragment);
    3. else the row named by the unmatched label-only lines just before, with its own label
       (a label split over lines, its numbers on the second);
    4. else the row named by its label with the label-only lines just after it (a label split
       over lines, its numbers on the first);
    5. else the row before it (where too many numbers then block every reading).
    """
    current: RowEvidence | None = None
    pending: list[_Chunk] = []  # unmatched label-only chunks since the last numbers
    consumed: set[int] = set()

    def row(found: _RowWords, label_chunks: Sequence[_Chunk]) -> RowEvidence:
        evidence_row = region.rows.setdefault(found.key, RowEvidence(found.key, found.keys, words=found.pattern))
        evidence_row.label_lines += [chunk.line for chunk in label_chunks]
        return evidence_row

    for index, chunk in enumerate(chunks):
        if index in consumed:
            continue
        if not chunk.pieces:
            found = _anchor(chunk.label, words) or _anchor(_joined(pending, chunk), words)
            if found is not None:
                current = row(found, [*pending, chunk])
                pending = []
            elif chunk.label:
                pending = [*pending[-_LOOK_AHEAD:], chunk]
            continue
        target = _target(chunk, chunks, index, current, pending, words, consumed)
        if target is not None:
            current = row(*target)
        if current is None:
            region.stray += [piece for piece in chunk.pieces if piece.kind == "number"]
        else:
            current.pieces += chunk.pieces
        pending = []


def _target(
    chunk: _Chunk,
    chunks: list[_Chunk],
    index: int,
    current: RowEvidence | None,
    pending: list[_Chunk],
    words: Sequence[_RowWords],
    consumed: set[int],
) -> tuple[_RowWords, list[_Chunk]] | None:
    """The row a chunk with pieces starts (see `_anchor_rows`), or None to stay with the current one."""
    if found := _anchor(chunk.label, words):
        return found, [chunk]
    if current is not None and not current.pieces and sum(map(_is_word, chunk.label)) <= 2:
        return None
    if pending and (found := _anchor(_joined(pending, chunk), words)):
        return found, [*pending, chunk]
    after: list[_Chunk] = []
    for later in range(index + 1, min(index + 1 + _LOOK_AHEAD, len(chunks))):
        if chunks[later].pieces:
            break
        after.append(chunks[later])
        if found := _anchor(_joined([chunk], *after), words):
            consumed.update(range(index + 1, later + 1))
            return found, [chunk, *after]
    return None


def _joined(before: Sequence[_Chunk], *rest: _Chunk) -> str:
    return "".join(chunk.label for chunk in [*before, *rest])


# Readings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    key: str
    amount: bool
    signed: bool

    def accepts(self, text: str) -> bool:
        pattern = _AMOUNT if self.amount else (_SIGNED_COUNT if self.signed else _COUNT)
        return bool(pattern.fullmatch(text))


_COUNT = re.compile(r"0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*")
_SIGNED_COUNT = re.compile(r"[+\-−－]?(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)")
_AMOUNT = re.compile(r"(?:0|[1-9]\d*)(?:\.\d+)?")


def _columns(keys: tuple[str, ...], types: Mapping[str, type]) -> tuple[_Column, ...]:
    return tuple(_Column(key, types[key] is Amount, key.endswith(".change")) for key in keys)


def _read(row: RowEvidence, types: Mapping[str, type], by_line: Mapping[int, Line], header: _Header | None) -> None:
    """Set the row's readings (or the problem that leaves it none)."""
    if not row.pieces:  # a label printed without numbers, or with words where its numbers should be
        for number in row.label_lines:
            line = by_line[number]
            if line.tabbed:
                row.not_numbers += _words_among(line, _label_end(line, len(line.cells), row.words), len(line.cells))
        return
    columns = _columns(row.keys, types)
    readings: list[Reading] = []
    under: Reading | None = None
    extra: list[Piece] = []
    on_one_grid_line = len({p.line for p in row.pieces}) == 1 and all(p.column is not None for p in row.pieces)
    if on_one_grid_line:
        line = by_line[row.pieces[0].line]
        columns_used = [p.column for p in row.pieces if p.column is not None]
        label_end = _label_end(line, min(columns_used), row.words)
        row.not_numbers = _words_among(line, label_end, max(columns_used))
        # A header is the row's only where the row's own label stands left of the header's first column.
        if header is not None and label_end <= header.columns[0]:
            under, extra = _header_reading(row.pieces, header.columns)
        readings = _grid_readings(row, line, len(columns), label_end)
        on_header_grid = header is not None and len(line.cells) == header.width
        if under is not None and not extra and on_header_grid:
            readings = [under]  # a true grid: the header's columns are where the cells are
        elif under is not None and (not extra or not readings):
            readings.insert(0, under)  # numbers past the header's last column: the fallback, not a rival
    elif any(piece.glued for piece in row.pieces):
        readings, row.complete = _split_readings(row.pieces, columns)
    elif len(row.pieces) == len(columns):
        readings = [tuple(_span(p) for p in row.pieces)]
    readings = _by_sums(list(dict.fromkeys(readings)), row.keys)
    if not row.complete and len(readings) == 1:
        readings = readings * 2  # one reading found, but not every way was tried: not proof
    if not readings:
        shown = " ".join(p.text for p in row.pieces)
        row.problem = f"prints ({shown}), which does not fill its {len(columns)} columns in one way"
    row.extra = extra if under is not None and readings == [under] else []  # past the header's last column
    row.readings = tuple(readings[:_MAX_READINGS])


def _header_reading(pieces: Sequence[Piece], header: tuple[int, ...]) -> tuple[Reading | None, list[Piece]]:
    """The row's cells under the header's columns: each column from its header cell up to the next one's.
    Numbers right of the last column stand under no header (returned apart); any other misfit, none."""
    by_column: dict[int, list[Piece]] = {i: [] for i in range(len(header))}
    extra: list[Piece] = []
    for piece in pieces:
        column = piece.column if piece.column is not None else -1
        if column < header[0]:
            return None, []
        if column > header[-1]:
            extra.append(piece)
            continue
        index = max(i for i, start in enumerate(header) if start <= column)
        by_column[index].append(piece)
    if any(len(found) > 1 for found in by_column.values()):
        return None, []
    return tuple(_span(found[0]) if found else None for found in by_column.values()), extra


def _span(piece: Piece) -> Span | None:
    return Span(piece.text, piece.start, piece.end, piece.line) if piece.kind == "number" else None


def _grid_readings(row: RowEvidence, line: Line, width: int, label_end: int) -> list[Reading]:
    """On a grid line the cells after the label are the columns, in order; empty cells before the
    first number may be a merged label's spacers, so every window that holds all the numbers counts.
    A word in a number's place occupies its column: it never lets the numbers after it slide over."""
    first_piece = min(p.column for p in row.pieces if p.column is not None)
    first_piece = min([first_piece, *(_cell_index(line, word) for word in row.not_numbers)])
    last_piece = max(p.column for p in row.pieces if p.column is not None)
    cells = line.cells
    by_column = {p.column: p for p in row.pieces}
    readings: list[Reading] = []
    for begin in range(label_end, first_piece + 1):
        if begin + width <= last_piece:
            continue
        if begin + width > len(cells) and begin != label_end:
            continue  # a window past the line's end: only where the row's cells start right after the label
        window = range(begin, begin + width)
        readings.append(tuple(_span(by_column[i]) if i in by_column else None for i in window))
    return readings


def _label_end(line: Line, first_piece: int, words: re.Pattern[str] | None = None) -> int:
    """The first cell after the row's label on this line: after the cell its words end in, where a cell
    holds them; else after the text cells that precede the row's first number."""
    if words is not None:
        for index in range(first_piece - 1, -1, -1):
            if words.search(normalise(line.cells[index].text)):
                return index + 1
    for index in range(first_piece - 1, -1, -1):
        text = line.cells[index].text
        if text and read_cell(text).kind == "text":
            return index + 1
    return 0


_LONGEST_WORD_IN_PLACE = 8  # "NaN", "1e309", "见附件", "未统计": a longer text cell is more of the label


def _words_among(line: Line, label_end: int, last_piece: int) -> list[Span]:
    """Short text cells between the row's label and its last number: words where numbers should be."""
    found = []
    for cell in line.cells[label_end : last_piece + 1]:
        text = cell.text
        if not text or read_cell(text).kind != "text" or PAGE_NUMBER.match(text) or len(text) > _LONGEST_WORD_IN_PLACE:
            continue
        if not text.startswith(("(", "（")):
            found.append(Span(text, cell.start, cell.end, line.number))
    return found


def _cell_index(line: Line, span: Span) -> int:
    return next(index for index, cell in enumerate(line.cells) if cell.start == span.start)


def _split_readings(pieces: Sequence[Piece], columns: Sequence[_Column]) -> tuple[list[Reading], bool]:
    """Every way to cut the pieces into exactly one part per column (atomic pieces are one part each)
    whose row sums hold, or, where none does, the ways that break them; and whether that is all of
    them (False where a budget ran out first). A sum is checked as soon as its total is placed."""
    found: list[Reading] = []  # the row's sums hold
    breaking: list[Reading] = []  # kept only to tell "one reading, not adding up" from "several"
    groups = _sum_groups(tuple(column.key for column in columns))
    closing = {total: group for group in groups for total in [group[0]]}
    budget = [_SPLIT_BUDGET]

    def place(taken: tuple[Span | None, ...], sums_hold: bool, index: int, offset: int) -> None:
        budget[0] -= 1
        if budget[0] < 0 or len(found) > _MAX_READINGS or (not sums_hold and len(breaking) >= 2):
            return
        column = len(taken)
        if index == len(pieces):
            if column == len(columns):
                if sums_hold:
                    found.append(taken)
                elif len(breaking) < 2:
                    breaking.append(taken)
            return
        if column == len(columns):
            return
        piece = pieces[index]
        if piece.kind == "null" or not piece.glued:
            options = [(_span(piece), index + 1, 0)]
        else:
            options = []
            for end in range(offset + 1, len(piece.text) + 1):
                part = piece.text[offset:end]
                if columns[column].accepts(part):
                    span = Span(part, piece.start + offset, piece.start + end, piece.line)
                    options.append((span, index + 1, 0) if end == len(piece.text) else (span, index, end))
        for cell, next_index, next_offset in options:
            placed = (*taken, cell)
            holds = sums_hold and (column not in closing or _adds_up(placed, closing[column]))
            place(placed, holds, next_index, next_offset)

    place((), True, 0, 0)
    complete = budget[0] >= 0 and len(found) <= _MAX_READINGS
    return (found or breaking), complete


def _by_sums(readings: list[Reading], keys: tuple[str, ...]) -> list[Reading]:
    """Among several readings, those whose row sums hold (a 表三 row's 总计, each 表四 block's 总计).
    One reading is kept as it is, sums or not: a report may print numbers that don't add up."""
    if len(readings) < 2:
        return readings
    groups = _sum_groups(keys)
    kept = [reading for reading in readings if all(_adds_up(reading, group) for group in groups)]
    return kept or readings


def _sum_groups(keys: tuple[str, ...]) -> list[tuple[int, list[int]]]:
    """(index of a total, indices of its terms) within one row's columns."""
    if keys == T4_KEYS:
        return [(5 * b + 4, [5 * b + i for i in range(4)]) for b in range(3)]
    if keys[-1].endswith(".total") and keys[0].startswith("t3."):
        return [(len(keys) - 1, list(range(len(keys) - 1)))]
    return []


def _adds_up(reading: Reading, group: tuple[int, list[int]]) -> bool:
    """A total and its terms agree: equal where every term is printed, no less than the printed
    terms where some are blank (counts are never negative); a blank total agrees with anything."""
    total, terms = group
    printed_total = reading[total]
    if printed_total is None:
        return True
    numbers = [reading[i] for i in terms]
    printed = sum((cell.number or Decimal(0) for cell in numbers if cell is not None), Decimal(0))
    if any(cell is None for cell in numbers):
        return printed <= (printed_total.number or Decimal(0))
    return printed == printed_total.number


# Proof -----------------------------------------------------------------------------------


@dataclass
class Proof:
    """Values from some backend, checked against the evidence."""

    spans: dict[str, Span] = field(default_factory=dict)  # each proven non-null value's span
    unproven: dict[str, str] = field(default_factory=dict)  # key → why its value is not proven
    ambiguous: dict[str, list[Value]] = field(default_factory=dict)  # key → the values the readings allow
    unread: list[Piece | Span] = field(default_factory=list)  # printed numbers no cell accounts for
    not_numbers: list[Span] = field(default_factory=list)  # words printed where a number should be
    candidates: dict[str, Span] = field(default_factory=dict)  # an ambiguous cell's span in the reading that fits


def prove(found: Evidence, values: Mapping[str, Value]) -> Proof:
    proof = Proof()
    for table, region in found.regions.items():
        proof.unread += region.stray
        for row in region.rows.values():
            _prove_row(row, values, proof)
        for key in _table_keys(found.template, table):
            if values.get(key) is not None and found.row(key) is None:
                proof.unproven[key] = "its row is not printed in the source"
    return proof


@lru_cache(maxsize=8)
def _table_keys(template: Template, table: str) -> tuple[str, ...]:
    return tuple(key for key in cell_types(template) if key.startswith(table + "."))


def _prove_row(row: RowEvidence, values: Mapping[str, Value], proof: Proof) -> None:
    proof.unread += [piece for piece in row.extra if piece.kind == "number"]
    proof.not_numbers += row.not_numbers
    if not row.readings:
        proof.unread += row.numbers
        for key in row.keys:
            if values.get(key) is not None:
                proof.unproven[key] = f"its row {row.problem or 'prints no number'}"
        return
    fitting = [reading for reading in row.readings if _fits(reading, row.keys, values)]
    for index, key in enumerate(row.keys):
        cells = {(c.start, c.end) if c else None: c for c in (reading[index] for reading in row.readings)}
        value = values.get(key)
        if len(cells) > 1:
            proof.ambiguous[key] = sorted({_value(c) for c in cells.values()}, key=lambda v: (v is None, v or 0))
            if value is not None and len(fitting) == 1 and fitting[0][index] is not None:
                proof.candidates[key] = fitting[0][index]  # type: ignore[assignment]
            continue
        (cell,) = cells.values()
        if value is None:
            if cell is not None:
                proof.unread.append(cell)
        elif cell is None:
            proof.unproven[key] = "its column of the row holds no number"
        elif cell.number != Decimal(str(value)):
            proof.unproven[key] = f"its column of the row prints {cell.text}"
        else:
            proof.spans[key] = cell


def _fits(reading: Reading, keys: tuple[str, ...], values: Mapping[str, Value]) -> bool:
    """The reading prints every value given (cells not given are not compared)."""
    return all(_value(cell) == _decimal(values[key]) for cell, key in zip(reading, keys, strict=True) if key in values)


def _value(cell: Span | None) -> Decimal | None:
    return cell.number if cell is not None else None


def _decimal(value: Value) -> Decimal | None:
    return None if value is None else Decimal(str(value))

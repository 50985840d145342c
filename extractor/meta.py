"""Who published a report and which year it covers, from every place the report states them.

Each place gives a `Statement` with the character spans it was read from:

- the title, also where it wraps onto the next line at any point, where the year comes first
  ("2019年上海市人民政府办公厅政府信息公开工作年度报告"), where the organ stands on the line above,
  and where a portal labels it (名称：, 标题：); a page's <title> is such a line too;
- the statistics period sentence (本报告中所列数据的统计期限自2019年1月1日起至…), for the year;
- a portal's 发布机构, and the closing signature above the closing date, for the organ;
- the publication date (发文日期, 发布日期, 发布时间, or the closing date).

`read_meta` chooses: the organ as the title prints it (else the portal's, else the signature's),
the year the statistics period states (else the title's). The verifier checks that the places agree.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from extractor.layout import Cell, Line
from schemas.report import Meta

_REPORT = r"信息公开(?:工作)?年度?报告"
_ORGAN = r"[^。；;，,:：|]"
# The organ before the year: "某某县人民政府2019年政府信息公开工作年度报告".
_ORGAN_FIRST = re.compile(rf"^(?P<organ>{_ORGAN}*?)(?P<year>(?:19|20)\d{{2}})年度?(?:政府)?{_REPORT}")
# The year first, or no year: the organ runs to 信息公开, and a 政府 that ends it may be the report's own.
_YEAR_FIRST = re.compile(rf"^(?P<year>(?:19|20)\d{{2}})年度?(?P<organ>{_ORGAN}{{2,40}}){_REPORT}")
_NO_YEAR = re.compile(rf"^(?P<organ>{_ORGAN}{{2,40}}){_REPORT}$")
_PERIOD = re.compile(r"统计(?:期限|时限|区间|时间|周期)[^。]{0,12}?(?P<year>(?:19|20)\d{2})年1月1日")
_PUBLISHER_LABEL = re.compile(r"^(?:发布机构|发布单位|发文机关|信息来源|来源)[:：]")
_PUBLISHED = re.compile(
    r"^(?:发文日期|发布日期|发布时间|成文日期|印发日期)[:：](?P<y>(?:19|20)\d{2})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})"
)
_NOT_A_TITLE_LINE = re.compile(r"[:：>【】〔〕|/。]|网站|门户|首页")
_LABEL = re.compile(r"^(?:名称|标题|题名|文章标题|信息名称)[:：]")
_DOC_NUMBER = re.compile(r"^\S{1,12}〔\d{4}〕\d+号$")
_DATE_LINE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_TITLE_LINES = 25  # the title is among a report's first lines
# The words an organ's whole name ends with; a line ending with one is an organ, not a fragment of one.
_WHOLE_ORGAN = re.compile(r"(?:政府|办公室|办公厅|局|委员会|委|办事处|厅|院|中心|所|队|站|部|处|会|公司|馆|校|办)$")
_REPORT_WORDS = re.compile(r"信息公开|年报|报告|公开|政务")
_SHORTEST_WHOLE_ORGAN = 4  # "某某县审计局" cut to "计局" is no organ's whole name
_LONGEST_TITLE = 120
_LONGEST_SIGNATURE = 30

# An organ that is only a suffix: no place or body named before it.
_SUFFIX_ONLY = re.compile(
    r"^(?:[省市县区乡镇]?人民政府(?:办公厅|办公室)?|办公厅|办公室|[局委办厅处所院]|委员会|街道办事处|管理委员会|人民政府)$"
)


@dataclass(frozen=True)
class Statement:
    place: str  # "title", "period", "publisher", "signature" or "published"
    line: int
    organ: str | None = None
    organ_at: tuple[int, int] | None = None  # span in the document text
    year: int | None = None
    year_at: tuple[int, int] | None = None
    date: datetime.date | None = None


@dataclass(frozen=True)
class _Text:
    """A line's text, normalised (NFKC, no spaces), with each character's offset in the document."""

    text: str
    offsets: tuple[int, ...]
    line: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.offsets[start], self.offsets[end - 1] + 1

    def after(self, count: int) -> _Text:
        return _Text(self.text[count:], self.offsets[count:], self.line)

    def __add__(self, other: _Text) -> _Text:
        return _Text(self.text + other.text, self.offsets + other.offsets, self.line)


def _normalised(line: Line) -> _Text:
    chars: list[str] = []
    offsets: list[int] = []
    for cell in line.cells:
        if unicodedata.is_normalized("NFKC", cell.text):  # most cells: no character to fold, one by one
            kept = [(index, char) for index, char in enumerate(cell.text) if not char.isspace()]
            chars += [char for _, char in kept]
            offsets += [cell.start + index for index, _ in kept]
            continue
        for index, char in enumerate(cell.text):
            for folded in unicodedata.normalize("NFKC", char):
                if not folded.isspace():
                    chars.append(folded)
                    offsets.append(cell.start + index)
    text = _Text("".join(chars), tuple(offsets), line.number)
    while text.text.startswith("#"):
        text = text.after(1)
    label = _LABEL.match(text.text)
    return text.after(label.end()) if label else text


def _may_hold(line: Line, char: str) -> bool:
    """Whether `char` may be in the line's normalised text: not if no cell has it and every cell is NFKC already
    (normalising those only drops spaces). A cheap look before `_normalised`, which most lines need not pass."""
    return any(char in cell.text or not unicodedata.is_normalized("NFKC", cell.text) for cell in line.cells)


_last_read: tuple[Sequence[Line], list[Statement]] | None = None  # the parser and the verifier read one text


def statements(lines: Sequence[Line]) -> list[Statement]:
    """Every place the report states its organ, year or publication date, in reading order."""
    global _last_read
    last = _last_read  # one read of the name: another thread may replace it meanwhile
    if last is not None and last[0] is lines:  # the same (cached) layout's lines: the same statements
        return list(last[1])
    found = _statements(lines)
    _last_read = (lines, found)
    return list(found)


def _statements(lines: Sequence[Line]) -> list[Statement]:
    head = [_normalised(line) for line in lines[:_TITLE_LINES]]
    found = list(_titles(head))
    found += _periods(lines)
    found += _publishers(lines[:_TITLE_LINES])
    found += _signature(lines)
    return found


def _titles(texts: Sequence[_Text]) -> Iterable[Statement]:
    for index, text in enumerate(texts):
        following = texts[index + 1] if index + 1 < len(texts) else _Text("", (), text.line)
        above = texts[index - 1] if index > 0 else None
        title = _wrapped_title_in(text, following, above) or _title_in(text, above)
        if title is not None:
            yield title
            return


def _title_in(text: _Text, above: _Text | None) -> Statement | None:
    match = _ORGAN_FIRST.match(text.text) or _YEAR_FIRST.match(text.text) or _NO_YEAR.match(text.text)
    if match is None or match.end() > _LONGEST_TITLE:
        return None
    year = match.groupdict().get("year")
    start, end = match.span("organ")
    if match.re is not _ORGAN_FIRST and _reports_own_government(match["organ"]):
        end -= 2  # "…审计局政府信息公开…": 政府 belongs to the report's name
    organ, organ_at = text.text[start:end], text.span(start, end) if end > start else None
    if re.search(r"\d", organ):
        return None  # an organ's name has no digits: this is a year cut by a line break ("22年…")
    if not organ and above is not None and _title_like(above) and not re.search(r"\d", above.text):
        organ, organ_at = above.text, above.span(0, len(above.text))  # the organ on the line above the title
    return Statement(
        "title",
        text.line,
        organ=organ or None,
        organ_at=organ_at,
        year=int(year) if year else None,
        year_at=text.span(*match.span("year")) if year else None,
    )


def _reports_own_government(organ: str) -> bool:
    """Whether a trailing 政府 is the report's (政府信息公开) rather than the organ's (某某县人民政府)."""
    return organ.endswith("政府") and (not organ.endswith("人民政府") or organ.endswith("政府政府"))


def _title_like(text: _Text) -> bool:
    """A short line that may be (part of) a title: no label, bracketed button, sentence or site name."""
    return 0 < len(text.text) <= 40 and not _NOT_A_TITLE_LINE.search(text.text)


def _wrapped_title_in(first: _Text, second: _Text, above: _Text | None) -> Statement | None:
    """A title that breaks onto the next line at any point, the organ or the year included.

    Where the second line is a title alone ("住房和城乡建设局2020年…"), the first is its start only where
    it is a fragment of a name ("兴松市", "丰松县嘉"): not a whole organ of its own ("某某县人民政府办公室",
    an issuing office printed above the title) and no words of the report's name."""
    if not _title_like(first) or not second.text:
        return None
    alone = _title_in(second, None)
    whole = (
        alone is not None and alone.organ and len(alone.organ) >= _SHORTEST_WHOLE_ORGAN and not suffix_only(alone.organ)
    )
    if whole and not _name_fragment(first.text):
        return None
    joined = first + second
    match = _ORGAN_FIRST.match(joined.text) or _YEAR_FIRST.match(joined.text) or _NO_YEAR.match(joined.text)
    if match is None or match.end() <= len(first.text):
        return None
    return _title_in(joined, above)


def _name_fragment(text: str) -> bool:
    """The start of an organ's name, cut by a line break: no whole organ, no words of a report's name."""
    return not _WHOLE_ORGAN.search(text) and not _REPORT_WORDS.search(text) and not re.search(r"\d", text)


def _periods(lines: Sequence[Line]) -> Iterable[Statement]:
    """The statistics period's year, also where the sentence wraps across lines (a PDF's text layer)."""
    for index, line in enumerate(lines):
        if not _may_hold(line, "统"):  # the sentence starts 统计 on this line
            continue
        text = _normalised(line)
        following = _normalised(lines[index + 1]) if index + 1 < len(lines) else None
        joined = text + following if following is not None else text
        match = _PERIOD.search(joined.text)
        if match and match.start() < len(text.text):
            yield Statement("period", text.line, year=int(match["year"]), year_at=joined.span(*match.span("year")))
            return


def _publishers(lines: Sequence[Line]) -> Iterable[Statement]:
    """A portal's 发布机构 and publication date: after the label in its cell, or in the next cell."""
    for line in lines:
        cells = [cell for cell in line.cells if cell.text.strip()]
        for index, cell in enumerate(cells):
            following = cells[index + 1] if index + 1 < len(cells) else None
            organ = _labelled(_PUBLISHER_LABEL, cell, following)
            if organ is not None and 2 <= len(organ[0]) <= 40:
                yield Statement("publisher", line.number, organ=organ[0], organ_at=organ[1])
            date = _PUBLISHED.match(_fold(cell.text) + (_fold(following.text) if following else ""))
            if date and (published := _date(date["y"], date["m"], date["d"])):
                yield Statement("published", line.number, date=published)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _labelled(label: re.Pattern[str], cell: Cell, following: Cell | None) -> tuple[str, tuple[int, int]] | None:
    """The value a label cell gives ("发布机构：某某局", or "发布机构：" then "某某局"), with its span."""
    found = label.match(_fold(cell.text))
    if found is None:
        return None
    value = _fold(cell.text)[found.end() :]
    where = cell
    if not value and following is not None:
        value, where = _fold(following.text), following
    if not value or value not in where.text:
        return None
    start = where.start + where.text.index(value)
    return value, (start, start + len(value))


def _signature(lines: Sequence[Line]) -> Iterable[Statement]:
    """The organ above the closing date, at the end of the report."""
    closing = [_normalised(line) for line in lines[-6:]]
    for above, below in pairwise(closing):
        date = _DATE_LINE.match(below.text)
        if date and 2 <= len(above.text) <= _LONGEST_SIGNATURE and not re.search(r"\d", above.text):
            yield Statement("signature", above.line, organ=above.text, organ_at=above.span(0, len(above.text)))
            published = _date(*date.groups())
            if published:
                yield Statement("published", below.line, date=published)


def _date(year: str, month: str, day: str) -> datetime.date | None:
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


def read_meta(lines: Sequence[Line]) -> Meta:
    found = statements(lines)
    meta = Meta(doc_number=_doc_number(lines), date=_closing_date(lines))
    organ = next(
        (s for place in ("title", "publisher", "signature") for s in found if s.place == place and s.organ), None
    )
    year = next((s for place in ("period", "title") for s in found if s.place == place and s.year), None)
    title = next((s for s in found if s.place == "title"), None)
    if organ is not None:
        meta.organ, meta.organ_at = organ.organ, organ.organ_at
    if year is not None:
        meta.year, meta.year_at = year.year, year.year_at
    if title is not None and title.year is not None:
        meta.title = f"{title.organ or ''}{title.year}年政府信息公开工作年度报告"
    return meta


def _first(found: Sequence[Statement], places: Sequence[str], has: Callable[[Statement], bool]) -> Statement | None:
    """The first statement that has the value, from the most telling place first."""
    return next((s for place in places for s in found if s.place == place and has(s)), None)


def organ_key(organ: str | None) -> str | None:
    """The organ's name, normalised so that its reports from different years group together."""
    if not organ:
        return None
    folded = unicodedata.normalize("NFKC", organ)
    folded = re.sub(r"\s+", "", folded).replace("(", "（").replace(")", "）")
    return _LABEL.sub("", folded) or None


def suffix_only(organ: str) -> bool:
    """An organ that names no place or body: a single character, or a bare suffix (人民政府, 局, …)."""
    return len(organ) <= 1 or bool(_SUFFIX_ONLY.match(organ))


def _doc_number(lines: Sequence[Line]) -> str | None:
    for line in lines[:10]:
        if len(line.cells) == 1 and _DOC_NUMBER.match(_normalised(line).text):
            return _normalised(line).text
    return None


def _closing_date(lines: Sequence[Line]) -> datetime.date | None:
    for line in lines:
        if line.end - line.start > 30 or not _may_hold(line, "日"):
            continue
        date = _DATE_LINE.match(_normalised(line).text)
        if date:
            return _date(*date.groups())
    return None

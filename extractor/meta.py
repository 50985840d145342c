"""Who published a report and which year it covers, read from the places a report states them.

- the title, also where it wraps onto the next line ("…2019年政府信息公开工" / "作年度报告"),
  where the year comes first ("2019年上海市人民政府办公厅政府信息公开工作年度报告"), and where
  the organ stands on the line above;
- the statistics period sentence (本报告中所列数据的统计期限自2019年1月1日起至…), for the year;
- the publishing line: a portal's 发布机构, or the closing signature above the closing date.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from itertools import pairwise

from extractor.layout import Line
from extractor.template import normalise
from schemas.report import Meta

_REPORT = r"政府信息公开(?:工作)?年度?报告"
_ORGAN_FIRST = re.compile(rf"^(?P<organ>[^。；;，,]*?)(?P<year>(?:19|20)\d{{2}})年度?{_REPORT}")
_YEAR_FIRST = re.compile(rf"^(?P<year>(?:19|20)\d{{2}})年度?(?P<organ>[^。；;，,]{{2,40}}?){_REPORT}")
_PERIOD = re.compile(r"统计(?:期限|时限|区间|时间)[^。]{0,12}?(?P<year>(?:19|20)\d{2})年\s*1\s*月\s*1\s*日")
_PUBLISHER = re.compile(r"(?:发布机构|发布单位|信息来源|来源)[:：]\s*(?P<organ>[^\s:：|]{2,40})")
_LABEL = re.compile(r"^(?:名称|标题|题名|文章标题)[:：]")
_DOC_NUMBER = re.compile(r"^\S{1,12}〔\d{4}〕\d+号$")
_DATE_LINE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_TITLE_LINES = 20  # the title is among a report's first lines
_LONGEST_TITLE_LINE = 60


def _text(line: Line) -> str:
    return _LABEL.sub("", normalise(" ".join(cell.text for cell in line.cells)).lstrip("#"))


def read_meta(lines: Sequence[Line]) -> Meta:
    meta = Meta()
    title = _title(lines)
    if title:
        meta.organ, meta.year, meta.title = title
    if meta.year is None:
        meta.year = _period_year(lines)
    if meta.organ is None:
        meta.organ = _publisher(lines)
    meta.doc_number = _doc_number(lines)
    meta.date = _closing_date(lines)
    return meta


def _title(lines: Sequence[Line]) -> tuple[str | None, int, str] | None:
    texts = [_text(line) for line in lines[:_TITLE_LINES]]
    for index, text in enumerate(texts):
        found = _title_in(text) or _wrapped_title_in(text, texts[index + 1] if index + 1 < len(texts) else "")
        if found is not None:
            organ, year, title = found
            if not organ and index > 0 and len(texts[index - 1]) <= 40:  # the organ on the line above
                organ, title = texts[index - 1], texts[index - 1] + title
            return organ or None, year, title
    return None


def _title_in(text: str) -> tuple[str, int, str] | None:
    match = _ORGAN_FIRST.match(text) or _YEAR_FIRST.match(text)
    if match is None or len(match.group()) > 2 * _LONGEST_TITLE_LINE:
        return None
    return match["organ"], int(match["year"]), match.group()


def _wrapped_title_in(first: str, second: str) -> tuple[str, int, str] | None:
    """A title that starts on one line, year included, and ends on the next ("…2019年政府信息公开工" / "作年度报告")."""
    match = _ORGAN_FIRST.match(first + second) or _YEAR_FIRST.match(first + second)
    if match is None or match.start("year") >= len(first) or match.end() <= len(first):
        return None
    return _title_in(first + second)


def _period_year(lines: Sequence[Line]) -> int | None:
    for line in lines:
        match = _PERIOD.search(normalise(" ".join(cell.text for cell in line.cells)))
        if match:
            return int(match["year"])
    return None


def _publisher(lines: Sequence[Line]) -> str | None:
    """A portal's 发布机构 near the top, or the signature above the closing date."""
    for line in lines[:_TITLE_LINES]:
        match = _PUBLISHER.search(normalise(" ".join(cell.text for cell in line.cells)))
        if match:
            return match["organ"]
    texts = [_text(line) for line in lines[-6:]]
    for above, line in pairwise(texts):
        if _DATE_LINE.match(line) and 2 <= len(above) <= 30 and not re.search(r"\d", above):
            return above
    return None


def _doc_number(lines: Sequence[Line]) -> str | None:
    for line in lines[:10]:
        if len(line.cells) == 1 and _DOC_NUMBER.match(normalise(line.cells[0].text)):
            return normalise(line.cells[0].text)
    return None


def _closing_date(lines: Sequence[Line]) -> datetime.date | None:
    for line in lines:
        if line.end - line.start > 30:
            continue
        date = _DATE_LINE.match(normalise(" ".join(cell.text for cell in line.cells)))
        if date:
            try:
                return datetime.date(*map(int, date.groups()))
            except ValueError:
                return None
    return None

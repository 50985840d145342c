"""The renderings: the same plan as converted files show it (markdown fragments, row tables, crawler, HTML)."""

from __future__ import annotations

import html
import itertools
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from schemas.template import APPLICANTS, OUTCOMES, T4_BLOCKS

from .labels import (
    _FULL_WIDTH_NOTE,
    _NOTE,
    _T4_OUTCOME_LABELS,
    _columns,
    _row_cells,
    _t2_groups,
    _t2_label,
    _t3_labels,
)
from .meta import _break_title, _plain_title, _publisher, _site
from .plan import _T4_KEYS, Plan

# ---------------------------------------------------------------------------- renderings
#
# The same plan as real files show it after conversion: the same cells printed, so the same gold.
# Each rendering has its own layout; the text's layout damage (split labels, spaced text) is not
# carried over, and 表四 keeps its header rows even where the text prints its numbers bare.

RENDERINGS = ("md_fragments", "md_row_tables", "crawler", "html_nested")
_SUFFIXES = {"md_fragments": "md", "md_row_tables": "md", "crawler": "txt", "html_nested": "html"}
Block = tuple[str, str]  # ("title" | "heading" | "paragraph" | "line" | "closing" | "table", text or table name)


def _outline(plan: Plan) -> list[Block]:
    """The report's blocks in the order the text prints them: the same sections, tables and cut."""
    blocks: list[Block] = [("line", plan.doc_number)] if plan.style["doc_number"] else []
    blocks.append(("title", _plain_title(plan)))
    blocks += [("paragraph", paragraph) for paragraph in plan.prose["preamble"]]
    sections = [
        ("一、总体情况", "overview", ""),
        ("二、主动公开政府信息情况", "t2", "t2"),
        ("三、收到和处理政府信息公开申请情况", "t3", "t3"),
    ]
    if plan.cut_style != "end":
        if plan.t4_style != "absent":
            t4 = "t4" if plan.t4_style in ("table", "bare") else ""
            sections.append(("四、政府信息公开行政复议、行政诉讼情况", "t4", t4))
        sections += [("五、存在的主要问题及改进情况", "problems", ""), ("六、其他需要报告的事项", "other", "")]
    for heading, prose, table in sections:
        blocks.append(("heading", heading))
        blocks += [("paragraph", paragraph) for paragraph in plan.prose[prose]]
        if table:
            blocks.append(("table", table))
    if plan.cut_style != "end" and plan.date:
        blocks += [("closing", plan.organ), ("closing", plan.date)]
    return blocks


@dataclass(frozen=True)
class _Cell:
    text: str
    rows: int = 1  # rowspan
    cols: int = 1  # colspan


@dataclass
class _Table:
    """A table as drawn: a grid of cells, None in a slot that a merged cell above or to the left covers."""

    name: str  # "t2", "t3" or "t4"
    grid: list[list[_Cell | None]]
    keys: list[str]  # each grid row's row key ("t3.new", "t4" for 表四's numbers), "" for headings and headers
    header_rows: int  # the column-header rows a page break may repeat
    label_width: int  # the columns that hold a row's label


def _cells(texts: Sequence[str]) -> list[_Cell | None]:
    return [_Cell(text) for text in texts]


def _table(plan: Plan, name: str, rng: random.Random) -> _Table:
    if name == "t2":
        return _t2_table(plan)
    if name == "t3":
        return _t3_table(plan, rng.choice((_NOTE, _FULL_WIDTH_NOTE)))
    return _t4_table(plan)


def _t2_table(plan: Plan) -> _Table:
    grid: list[list[_Cell | None]] = []
    keys: list[str] = []
    for heading, header, rows in _t2_groups(plan):
        grid += [[_Cell(heading, cols=4), None, None, None], _merge_blank_tail(header)]
        keys += ["", ""]
        for row in rows:
            values = _row_cells(plan, row, _columns(plan, row))
            grid.append(_cells([_t2_label(plan, row), *values, *[""] * (3 - len(values))]))
            keys.append(row)
    return _Table("t2", grid, keys, header_rows=0, label_width=1)


def _merge_blank_tail(header: Sequence[str]) -> list[_Cell | None]:
    """A header row whose trailing blanks merge into the last named cell (本年处理决定数量 over three columns)."""
    last = max(i for i, text in enumerate(header) if text)
    span = len(header) - last
    return [*_cells(header[:last]), _Cell(header[last], cols=span), *[None] * (span - 1)]


def _t3_table(plan: Plan, note: str) -> _Table:
    grid: list[list[_Cell | None]] = [
        [_Cell(note, rows=3, cols=3), None, None, _Cell("申请人情况", cols=6), *[None] * 5, _Cell("总计", rows=3)],
        [None, None, None, _Cell("自然人", rows=2), _Cell("法人或其他组织", cols=5), *[None] * 5],
        [*[None] * 4, *_cells(("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")), None],
    ]
    keys = ["", "", ""]
    labels = _t3_labels(plan.template, plan.style)[: plan.t3_printed_rows]
    for index, (key, (first, second, item)) in enumerate(labels):
        values = _cells(_row_cells(plan, key, APPLICANTS))
        keys.append(key)
        if not second and not item:
            grid.append([_Cell(first, cols=3), None, None, *values])
            continue
        # A vertical label runs down over the rows below that leave its column empty.
        below = [cells for _, cells in labels[index + 1 :]]
        head = _Cell(first, rows=1 + _run(below, lambda c: not c[0])) if first else None
        if not item:
            grid.append([head, _Cell(second, cols=2), None, *values])
            continue
        group = _Cell(second, rows=1 + _run(below, lambda c: not c[1] and bool(c[2]))) if second else None
        grid.append([head, group, _Cell(item), *values])
    return _Table("t3", grid, keys, header_rows=3, label_width=3)


def _run(rows: Sequence[list[str]], belongs: Callable[[list[str]], bool]) -> int:
    """How many of `rows`, from the first on, belong."""
    return sum(1 for _ in itertools.takewhile(belongs, rows))


def _t4_table(plan: Plan) -> _Table:
    outcomes = _T4_OUTCOME_LABELS
    grid: list[list[_Cell | None]] = [
        [_Cell("行政复议", cols=5), *[None] * 4, _Cell("行政诉讼", cols=10), *[None] * 9],
        [
            *(_Cell(outcome, rows=2) for outcome in outcomes),
            *(_Cell("未经复议直接起诉", cols=5), *[None] * 4),
            *(_Cell("复议后起诉", cols=5), *[None] * 4),
        ],
        [*[None] * 5, *_cells(outcomes * 2)],
    ]
    keys = ["", "", ""]
    if "t4" not in plan.blank_tables:
        grid.append(_cells([plan.cells[key] for key in _T4_KEYS]))
        keys.append("t4")
    return _Table("t4", grid, keys, header_rows=3, label_width=0)


def _spread(table: _Table, repeat: bool) -> list[list[str]]:
    """Each slot's text: a merged cell's text in its first slot, and also in every slot it covers if `repeat`."""
    out = [[""] * len(row) for row in table.grid]
    for r, row in enumerate(table.grid):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            for dr, dc in itertools.product(range(cell.rows), range(cell.cols)):
                if repeat or dr == dc == 0:
                    out[r + dr][c + dc] = cell.text
    return out


def _pipe(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _published(plan: Plan, rng: random.Random) -> str:
    """The page's publication date, "2020-01-15": the report's date where it prints one."""
    if plan.date:
        year, month, day = (int(part) for part in re.findall(r"\d+", plan.date))
    else:
        year, month, day = plan.year + 1, rng.randint(1, 3), rng.randint(1, 28)
    return f"{year}-{month:02d}-{day:02d}"


# md_fragments: a PDF-to-markdown conversion, each table cut into pipe tables at its page breaks.

_ODDITIES = ("label_split", "page_row", "misplaced_row")
_CAPTIONS = {
    "t2": ("## 表二 主动公开政府信息情况", "二、主动公开政府信息情况（续）"),
    "t3": ("## 表三 收到和处理政府信息公开申请情况", "## 三、收到和处理政府信息公开申请情况（续表）", "表三（续）"),
    "t4": ("## 表四 政府信息公开行政复议、行政诉讼情况", "表四（续）"),
}
Row = list[str] | None  # a pipe row's cells, or None for a page number printed as a row of its own


def _render_md_fragments(plan: Plan, rng: random.Random) -> str:
    repeat = rng.random() < 0.5  # a merged cell's text in every slot it covers (else in its first only)
    mark = rng.choice(("— {} —", "- {} -"))
    numbers = itertools.count(rng.randint(2, 4))

    def page() -> str:
        return mark.format(next(numbers))

    odd = [oddity for oddity in _ODDITIES if rng.random() < 0.4]  # what this report's tables show, if they can
    lines = ["  ".join(cell for cell in row if cell) for row in [*plan.header, *plan.portal]]  # the PDF's page header
    lines += [""] if lines else []
    for kind, text in _outline(plan):
        if kind == "title":
            wrapped = _wrapped_title(rng, text)
            if "title_wrap" in plan.damage:  # as the PDF draws it
                first, second = _break_title(text, plan.style["title_break"])
                wrapped = ["# " + first, second]
            lines += [*wrapped, ""]
        elif kind == "heading":
            lines += [page(), ""] if rng.random() < 0.15 else []
            lines += ["## " + text, ""]
        elif kind == "table":
            lines += [*_md_fragmented(_table(plan, text, rng), rng, repeat, odd, page), ""]
        else:
            lines += [text, ""]
    return "\n".join(lines)


def _wrapped_title(rng: random.Random, title: str) -> list[str]:
    if rng.random() < 0.3:  # the PDF's title line wrapped: "…2019年政府信息公开工" / "作年度报告"
        cut = len(title) - rng.randint(3, 7)
        return ["# " + title[:cut], title[cut:]]
    return ["# " + title]


def _md_fragmented(
    table: _Table, rng: random.Random, repeat: bool, odd: list[str], page: Callable[[], str]
) -> list[str]:
    """The table cut at page breaks into 2–4 pipe tables; the oddities of `odd` it shows are taken off `odd`."""
    rows = _spread(table, repeat)
    width, labels = len(rows[0]), table.label_width
    starts = [p for p in range(1, len(rows)) if table.keys[p - 1] or table.name == "t4"]  # breaks after a data row
    breaks = 1 if table.name == "t4" else rng.randint(1, 3)  # 表四 has four rows at most
    bounds = [0, *sorted(rng.sample(starts, min(breaks, len(starts)))), len(rows)]
    fragments: list[list[Row]] = [list(rows[a:b]) for a, b in itertools.pairwise(bounds)]
    chance = 1.0 if table.name == "t3" else 0.4  # 表三 shows every oddity it can; the others some
    inside = [p for p in range(1, len(rows)) if table.keys[p - 1] and p not in bounds]
    if "page_row" in odd and inside and rng.random() < chance:  # a page break the converter did not see
        odd.remove("page_row")
        p = rng.choice(inside)
        b = max(b for b, start in enumerate(bounds) if start <= p)
        fragments[b].insert(p - bounds[b], None)
    for b in range(1, len(fragments)):
        before, moved, values = fragments[b - 1], [], []
        oddity = _take_oddity(rng, odd, table, len(before), chance)
        if oddity == "label_split":  # the label at the foot of one page, its numbers at the top of the next
            row = before.pop()
            assert row is not None
            before.append([*row[:labels], *[""] * (width - labels)])
            values = [[*[""] * labels, *row[labels:]]]
        elif oddity == "misplaced_row":  # the page's last row printed above the next page's repeated header
            moved = [before.pop()]
        repeated = bounds[b] >= table.header_rows and (oddity == "misplaced_row" or rng.random() < 0.5)
        fragments[b] = [*moved, *(rows[: table.header_rows] if repeated else []), *values, *fragments[b]]
    lines: list[str] = []
    for b, fragment in enumerate(fragments):
        if b:
            lines += ["", page(), ""]
            lines += [rng.choice(_CAPTIONS[table.name]), ""] if rng.random() < 0.6 else []
        first, *rest = [[page(), *[""] * (width - 1)] if row is None else row for row in fragment]
        lines += [_pipe(first), _pipe(["---"] * width), *map(_pipe, rest)]
    return lines


def _take_oddity(rng: random.Random, odd: list[str], table: _Table, rows_before: int, chance: float) -> str:
    """An oddity of `odd` for a page break after a data row (taken off `odd`), or ""."""
    fits = [
        oddity
        for oddity in odd
        if (oddity == "label_split" and table.label_width)
        or (oddity == "misplaced_row" and table.label_width and table.header_rows and rows_before > 1)
    ]
    if not fits or rng.random() >= chance:
        return ""
    oddity = rng.choice(fits)
    odd.remove(oddity)
    return oddity


# md_row_tables: every row its own small table under a heading holding the row's label.


def _render_md_row_tables(plan: Plan, rng: random.Random) -> str:
    with_group = rng.random() < 0.5  # 表二 headings carry their group: "第二十条第（一）项 规章"
    with_result = rng.random() < 0.3  # 表三 headings carry "三、本年度办理结果"
    generic_t4 = rng.random() < 0.5  # 表四 columns as 数据1… rather than 结果维持…
    lines: list[str] = []
    for kind, text in _outline(plan):
        if kind == "title":
            lines += ["# " + text, ""]
        elif kind == "heading":
            lines += ["## " + text, ""]
        elif kind == "table" and text == "t2":
            lines += _t2_row_tables(plan, with_group)
        elif kind == "table" and text == "t3":
            lines += _t3_row_tables(plan, with_result)
        elif kind == "table":
            lines += _t4_row_tables(plan, generic_t4)
        else:
            lines += [text, ""]
    return "\n".join(lines)


def _row_table(title: str, headers: Sequence[str], values: Sequence[str]) -> list[str]:
    separator = _pipe(["---"] * (len(headers) + 1))
    return ["### " + title, _pipe(["类别", *headers]), separator, _pipe(["数值", *values]), ""]


def _generic(n: int) -> list[str]:
    return [f"数据{i}" for i in range(1, n + 1)]


def _t2_row_tables(plan: Plan, with_group: bool) -> list[str]:
    lines: list[str] = []
    for heading, _, rows in _t2_groups(plan):
        for row in rows:
            label = _t2_label(plan, row)
            values = _row_cells(plan, row, _columns(plan, row))
            lines += _row_table(f"{heading} {label}" if with_group else label, _generic(len(values)), values)
    return lines


def _t3_row_tables(plan: Plan, with_result: bool) -> list[str]:
    table = _t3_table(plan, _NOTE)
    lines: list[str] = []
    for key, row in zip(table.keys, _spread(table, repeat=True), strict=True):
        if not key:
            continue
        labels = [text for i, text in enumerate(row[:3]) if text not in row[:i]]  # each merged label once
        if not with_result and len(labels) > 1:
            labels = labels[1:]
        lines += _row_table(" ".join(labels), [*_generic(6), "总计"], row[3:])
    return lines


def _t4_row_tables(plan: Plan, generic: bool) -> list[str]:
    headers = [*_generic(4), "总计"] if generic else list(_T4_OUTCOME_LABELS)
    titles = ("行政复议", "行政诉讼 未经复议直接起诉", "行政诉讼 复议后起诉")
    lines: list[str] = []
    for block, title in zip(T4_BLOCKS, titles, strict=True):
        lines += _row_table(title, headers, _row_cells(plan, f"t4.{block}", OUTCOMES))
    return lines


# crawler: a web page dumped as text, every table row's cells glued together.


def _render_crawler(plan: Plan, rng: random.Random) -> str:
    one_line = rng.random() < 0.5  # a whole table on one line, else a line per row
    joiner = rng.choice(("", " "))  # between the rows of a one-line table
    gap = [""] if rng.random() < 0.5 else []  # a blank line between blocks, or none
    site = _site(plan)
    lines = [
        f"{site}门户网站",
        "首页 > 政务公开 > 政府信息公开 > 政府信息公开年报",
        *gap,
        f"发布时间：{_published(plan, rng)} {rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}"
        f"  来源：{plan.organ}  浏览次数：{rng.randint(20, 3000)}",
        "【字体：大 中 小】【打印】【关闭】",
        *gap,
    ]
    if plan.portal:  # the metadata table, its cells glued
        lines += ["".join(row) for row in plan.portal] + gap
    for kind, text in _outline(plan):
        if kind == "table":
            rows = ["".join(cell.text for cell in row if cell) for row in _table(plan, text, rng).grid]
            lines += [joiner.join(rows)] if one_line else rows
        else:
            lines.append("　　" + text if kind == "paragraph" else text)
        lines += gap
    lines += ["【打印本页】【关闭窗口】", f"主办单位：{site}办公室  网站标识码：{rng.randint(10**9, 10**10 - 1)}"]
    return "\n".join(lines) + "\n"


# html_nested: an old CMS page, the report inside a layout table, the statistics as real tables.


def _render_html_nested(plan: Plan, rng: random.Random) -> str:
    blank = rng.choice(("", "&nbsp;"))  # how an empty cell is written
    pasted = rng.random() < 0.5  # cell text inside <p><span>, as pasted from Word
    strong = rng.random() < 0.5  # headings as bold paragraphs, else <h3>
    site, title = _site(plan), _plain_title(plan)
    e = html.escape
    body: list[str] = []
    for kind, text in _outline(plan):
        if kind == "title":
            body.append(f'<div class="article-title"><h1>{e(text)}</h1></div>')
        elif kind == "heading":
            body.append(f"<p><strong>{e(text)}</strong></p>" if strong else f"<h3>{e(text)}</h3>")
        elif kind == "paragraph":
            body.append(f'<p style="text-indent:2em">{e(text)}</p>')
        elif kind in ("line", "closing"):
            body.append(f'<p style="text-align:{"center" if kind == "line" else "right"}">{e(text)}</p>')
        else:
            body += _html_table(_table(plan, text, rng), blank, pasted)
    index = f"{rng.randint(10**8, 10**9 - 1)}/{plan.year + 1}-{rng.randint(1, 999):05d}"
    meta = [
        '<table class="xxgk-meta" width="100%" border="0" cellspacing="0" cellpadding="0">',
        f"<tr><td>索引号：</td><td>{index}</td><td>主题分类：</td><td>政务公开</td></tr>",
        f"<tr><td>发布机构：</td><td>{e(_publisher(plan))}</td>"
        f"<td>发文日期：</td><td>{_published(plan, rng)}</td></tr>",
        f"<tr><td>文　　号：</td><td>{e(plan.doc_number) if plan.style['doc_number'] else ''}</td>"
        "<td>有 效 性：</td><td>有效</td></tr>",
        f'<tr><td>名　　称：</td><td colspan="3">{e(title)}</td></tr>',
        f'<tr><td>标　　题：</td><td colspan="3">{e(title)}</td></tr>',
        "</table>",
    ]
    page = [
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"'
        ' "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        "<html>",
        "<head>",
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
        f"<title>{e(title)}_{e(site)}</title>",
        f'<meta name="ArticleTitle" content="{e(title)}">',
        f'<meta name="ContentSource" content="{e(plan.organ)}">',
        "</head>",
        "<body>",
        '<table class="layout" width="1000" border="0" cellspacing="0" cellpadding="0" align="center">',
        f'<tr><td class="crumb">您当前的位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a>'
        f" &gt; 政府信息公开年报 &gt; {e(site)}</td></tr>",
        '<tr><td class="main">',
        *meta,
        '<div class="TRS_Editor">',
        *body,
        "</div>",
        "</td></tr>",
        f'<tr><td class="footer">主办单位：{e(site)}办公室</td></tr>',
        "</table>",
        "</body>",
        "</html>",
    ]
    return "\n".join(page) + "\n"


def _html_table(table: _Table, blank: str, pasted: bool) -> list[str]:
    lines = ['<table border="1" cellspacing="0" cellpadding="0" width="100%" style="border-collapse:collapse">']
    lines.append("<tbody>")
    for row in table.grid:
        lines.append("<tr>" + "".join(_html_cell(cell, blank, pasted) for cell in row if cell) + "</tr>")
    return [*lines, "</tbody>", "</table>"]


def _html_cell(cell: _Cell, blank: str, pasted: bool) -> str:
    spans = (f' rowspan="{cell.rows}"' if cell.rows > 1 else "") + (f' colspan="{cell.cols}"' if cell.cols > 1 else "")
    text = html.escape(cell.text) or blank
    if pasted:
        text = f'<p align="center"><span style="font-size:14px">{text}</span></p>'
    return f"<td{spans}>{text}</td>"


_RENDERERS: dict[str, Callable[[Plan, random.Random], str]] = {
    "md_fragments": _render_md_fragments,
    "md_row_tables": _render_md_row_tables,
    "crawler": _render_crawler,
    "html_nested": _render_html_nested,
}

"""The PDF: a plan drawn with reportlab (A4, a CJK text layer, clean ruled tables), the same cells as the text."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from schemas.template import APPLICANTS

from .labels import _FULL_WIDTH_NOTE, _T4_OUTCOME_LABELS, _columns, _row_cells, _t2_groups, _t2_label, _t3_labels
from .meta import _plain_title, _title, _title_lines
from .plan import _T4_KEYS, NULL_MARKS, Plan

# ---------------------------------------------------------------------------- PDF

_FONT = "STSong-Light"  # reportlab's built-in CID font: no font file needed, and its text layer reads back as Unicode
_PAGE_WIDTH = 495.0  # A4 (595pt) less 50pt margins
PAGE_NUMBER_MARK = "- {} -"  # the footer, formatted with the page's number


@cache
def _pdf_styles() -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    base = {"fontName": _FONT, "wordWrap": "CJK"}
    return {
        "title": ParagraphStyle("title", fontSize=15, leading=24, alignment=TA_CENTER, spaceAfter=10, **base),
        "heading": ParagraphStyle("heading", fontSize=12, leading=20, spaceBefore=6, spaceAfter=4, **base),
        "body": ParagraphStyle("body", fontSize=10.5, leading=18, firstLineIndent=21, spaceAfter=4, **base),
        "plain": ParagraphStyle("plain", fontSize=10.5, leading=18, spaceAfter=4, **base),
        "cell": ParagraphStyle("cell", fontSize=8, leading=10, alignment=TA_CENTER, **base),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pdf_table(rows: list[list[str]], widths: list[float], spans: list[tuple[int, int, int, int]]) -> Any:
    """A ruled table: label cells as wrapped paragraphs, numbers as plain centred text."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    cell_style = _pdf_styles()["cell"]
    data = [[Paragraph(_escape(c), cell_style) if c and not _is_number_cell(c) else c for c in row] for row in rows]
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), _FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
    ]
    commands += [("SPAN", (c0, r0), (c1, r1)) for c0, r0, c1, r1 in spans]
    return Table(data, colWidths=widths, style=TableStyle(commands), splitByRow=1)


def _is_number_cell(text: str) -> bool:
    return text in NULL_MARKS or text.lstrip("+-").replace(",", "").replace(".", "").isdigit()


def _t2_pdf(plan: Plan) -> Any:
    rows: list[list[str]] = []
    spans: list[tuple[int, int, int, int]] = []
    for heading, header, keys in _t2_groups(plan):
        spans.append((0, len(rows), 3, len(rows)))
        rows.append([heading, "", "", ""])
        rows.append(list(header))
        for row in keys:
            label = _t2_label(plan, row)
            cells = [label, *_row_cells(plan, row, _columns(plan, row))]
            rows.append(cells + [""] * (4 - len(cells)))
    return _pdf_table(rows, [150, 115, 115, 115], spans)


def _t3_pdf(plan: Plan) -> Any:
    rows: list[list[str]] = [
        [_FULL_WIDTH_NOTE, "", "", "申请人情况", *[""] * 5, "总计"],
        ["", "", "", "自然人", "法人或其他组织", "", "", "", "", ""],
        ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
    ]
    if "spaced_text" in plan.damage:
        rows[2] = [" ".join(cell) if cell else "" for cell in rows[2]]
    spans = [(0, 0, 2, 2), (3, 0, 8, 0), (9, 0, 9, 2), (3, 1, 3, 2), (4, 1, 8, 1)]
    labels = _t3_labels(plan.template, plan.style)[: plan.t3_printed_rows]
    starts: dict[int, int] = {}  # column -> the row where its current vertical label began
    for key, (first, second, item) in labels:
        r = len(rows)
        values = _row_cells(plan, key, APPLICANTS)
        if key in ("t3.new", "t3.carried_over", "t3.carried_forward"):
            _close_span(spans, starts, 0, r)
            rows.append([first, "", "", *values])
            spans.append((0, r, 2, r))
            continue
        if first:
            starts[0] = r
        if second or not item:
            _close_span(spans, starts, 1, r)
        if second and item:
            starts[1] = r
        rows.append([first, second, item, *values])
        if not item:
            spans.append((1, r, 2, r))
    _close_span(spans, starts, 0, len(rows))
    _close_span(spans, starts, 1, len(rows))
    return _pdf_table(rows, [50, 62, 138, *[35] * 7], spans)


def _close_span(spans: list[tuple[int, int, int, int]], starts: dict[int, int], column: int, row: int) -> None:
    """End the vertical label cell of `column` that began at starts[column], just above `row`."""
    if column in starts:
        top = starts.pop(column)
        if row - 1 > top:
            spans.append((column, top, column, row - 1))


def _t4_pdf(plan: Plan) -> Any:
    values = [plan.cells[key] if "t4" not in plan.blank_tables else "" for key in _T4_KEYS]
    if plan.t4_style == "bare":
        return _pdf_table([values], [33] * 15, [])
    outcomes = list(_T4_OUTCOME_LABELS)
    rows = [
        ["行政复议", "", "", "", "", "行政诉讼", *[""] * 9],
        [*outcomes, "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""],
        ["", "", "", "", "", *outcomes, *outcomes],
    ]
    spans = [(0, 0, 4, 0), (5, 0, 14, 0), (5, 1, 9, 1), (10, 1, 14, 1)] + [(c, 1, c, 2) for c in range(5)]
    if "t4" not in plan.blank_tables:
        rows.append(values)
    return _pdf_table(rows, [33] * 15, spans)


def _draw_pdf(plan: Plan, path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(_FONT, 10)
        canvas.drawCentredString(A4[0] / 2, 30, PAGE_NUMBER_MARK.format(doc.page))
        canvas.restoreState()

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=50,
        rightMargin=50,
        topMargin=60,
        bottomMargin=60,
        title=_title(plan),
        author=plan.organ,
        invariant=1,  # the same plan gives the same bytes
    )
    document.build(_pdf_story(plan), onFirstPage=footer, onLaterPages=footer)


def _pdf_story(plan: Plan) -> list[Any]:
    """The report's flowables: paragraphs (their style names say title, heading, body...) and the tables."""
    from reportlab.platypus import Paragraph, Spacer

    styles = _pdf_styles()
    story: list[Any] = []

    def add(text: str, style: str = "body") -> None:
        story.append(Paragraph(_escape(text), styles[style]))

    def section(text: str, paragraphs: Sequence[str]) -> None:
        add(text, "heading")
        for paragraph in paragraphs:
            add(paragraph, "plain" if len(paragraph) < 40 else "body")

    for row in [*plan.header, *plan.portal]:  # a web page printed to PDF
        add("    ".join(cell for cell in row if cell), "plain")
    if plan.style["doc_number"]:
        add(plan.doc_number, "plain")
    title = _title(plan)
    if "title_wrap" not in plan.damage and not plan.style["title_split"] and len(title) > 28:
        lines = [plan.organ, _plain_title(plan).removeprefix(plan.organ)]
    else:
        lines = _title_lines(plan)
    for line in lines:
        add(line, "title")
    for paragraph in plan.prose["preamble"]:
        add(paragraph)
    section("一、总体情况", plan.prose["overview"])
    section("二、主动公开政府信息情况", plan.prose["t2"])
    story.append(_t2_pdf(plan))
    section("三、收到和处理政府信息公开申请情况", plan.prose["t3"])
    story.append(_t3_pdf(plan))
    if plan.cut_style != "end":
        if plan.t4_style != "absent":
            section("四、政府信息公开行政复议、行政诉讼情况", plan.prose["t4"])
            if plan.t4_style in ("table", "bare"):
                story.append(_t4_pdf(plan))
        section("五、存在的主要问题及改进情况", plan.prose["problems"])
        section("六、其他需要报告的事项", plan.prose["other"])
        if plan.date:
            story += [Spacer(1, 24), Paragraph(plan.organ, styles["plain"]), Paragraph(plan.date, styles["plain"])]
        for line in plan.footer:
            add(line, "plain")
    return story

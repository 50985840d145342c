"""PDF layouts that break naive reading: the same report as pdf.py draws it, the same cells, so the same gold.

- "two_column": the preamble and the overview (the statistics period, so the year) in two
  balanced columns under the title; the tables full width below.
- "landscape": each table on a landscape page of its own (a landscape media box).
- "rotated": each table on a portrait page drawn turned and shown turned back (/Rotate 90),
  as a word processor's "landscape section" writes it.
- "turned": the same pages without /Rotate: shown turned, the text running up the page.
- "running_headers": a header (the organ and the report's name) and a footer ("第 N 页") on
  every page, tables broken across pages with their header rows repeated, and cells whose
  labels wrap over several lines.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from typing import Any

from .meta import _plain_title
from .pdf import _FONT, _is_number_cell, _pdf_story
from .plan import Plan

PDF_LAYOUTS = ("two_column", "landscape", "rotated", "turned", "running_headers")

_MARGIN = 50.0


def _portrait() -> tuple[float, float]:
    from reportlab.lib.pagesizes import A4

    return A4


def _frame(size: tuple[float, float], name: str) -> Any:
    from reportlab.platypus import Frame

    return Frame(_MARGIN, 60, size[0] - 2 * _MARGIN, size[1] - 120, id=name)


def _page_number(canvas: Any, doc: Any, width: float) -> None:
    canvas.saveState()
    canvas.setFont(_FONT, 10)
    canvas.drawCentredString(width / 2, 30, f"- {doc.page} -")
    canvas.restoreState()


def _build(plan: Plan, story: list[Any], templates: list[Any]) -> bytes:
    from reportlab.platypus import BaseDocTemplate

    out = io.BytesIO()
    document = BaseDocTemplate(out, pagesize=_portrait(), title=_plain_title(plan), author=plan.organ, invariant=1)
    document.addPageTemplates(templates)
    document.build(story)
    return out.getvalue()


def _portrait_template(on_page: Callable[[Any, Any], None] | None = None) -> Any:
    from reportlab.platypus import PageTemplate

    size = _portrait()

    def decorate(canvas: Any, doc: Any) -> None:
        _page_number(canvas, doc, size[0])
        if on_page:
            on_page(canvas, doc)

    return PageTemplate("portrait", [_frame(size, "portrait")], onPage=decorate, pagesize=size)


def _is_table(flowable: Any) -> bool:
    from reportlab.platypus import Table

    return isinstance(flowable, Table)


def _style_of(flowable: Any) -> str | None:
    style = getattr(flowable, "style", None)
    return getattr(style, "name", None)


# ---------------------------------------------------------------- two columns


def _two_column(plan: Plan, rng: random.Random) -> bytes:
    from reportlab.platypus.flowables import BalancedColumns

    story = _pdf_story(plan)
    first_body = next(index for index, flowable in enumerate(story) if _style_of(flowable) in ("body", "heading"))
    second_section = next(index for index, flowable in enumerate(story) if _is_t2_heading(flowable))
    columns = BalancedColumns(story[first_body:second_section], nCols=2, spaceBefore=6, spaceAfter=6, innerPadding=12)
    story = [*story[:first_body], columns, *story[second_section:]]
    return _build(plan, story, [_portrait_template()])


def _is_t2_heading(flowable: Any) -> bool:
    return _style_of(flowable) == "heading" and flowable.getPlainText().startswith("二、")


# ---------------------------------------------------------------- tables on landscape or turned pages


def _landscape(plan: Plan, rng: random.Random) -> bytes:
    from reportlab.lib.pagesizes import landscape
    from reportlab.platypus import PageTemplate

    size = landscape(_portrait())
    turned = PageTemplate(
        "turned", [_frame(size, "turned")], onPage=lambda c, d: _page_number(c, d, size[0]), pagesize=size
    )
    return _build(plan, _tables_on_turned_pages(_pdf_story(plan)), [_portrait_template(), turned])


def _rotated(plan: Plan, rng: random.Random) -> bytes:
    return _turned_tables(plan, page_rotation=90)


def _turned(plan: Plan, rng: random.Random) -> bytes:
    return _turned_tables(plan, page_rotation=0)


def _turned_tables(plan: Plan, page_rotation: int) -> bytes:
    """Tables drawn turned a quarter on portrait pages: shown upright by /Rotate 90, or left turned (0)."""
    from reportlab.platypus import PageTemplate

    width, height = _portrait()

    def turn(canvas: Any, doc: Any) -> None:
        canvas.transform(0, 1, -1, 0, width, 0)  # landscape coordinates on the portrait page
        _page_number(canvas, doc, height)

    turned = PageTemplate("turned", [_frame((height, width), "turned")], onPage=turn, pagesize=(width, height))
    turned.rotation = page_rotation  # reportlab writes it as the page's /Rotate
    return _build(plan, _tables_on_turned_pages(_pdf_story(plan)), [_portrait_template(), turned])


def _tables_on_turned_pages(story: list[Any]) -> list[Any]:
    from reportlab.platypus import NextPageTemplate, PageBreak

    turned: list[Any] = []
    for flowable in story:
        if _is_table(flowable):
            turned += [NextPageTemplate("turned"), PageBreak(), flowable, NextPageTemplate("portrait"), PageBreak()]
        else:
            turned.append(flowable)
    return turned


# ---------------------------------------------------------------- running headers, tables across pages


def _running_headers(plan: Plan, rng: random.Random) -> bytes:
    from reportlab.platypus import Spacer

    size = _portrait()
    header = f"{plan.organ}    政府信息公开工作年度报告"  # no year: the title's (or its conflict) stands alone

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(_FONT, 9)
        canvas.drawString(_MARGIN, size[1] - 40, header)
        canvas.line(_MARGIN, size[1] - 45, size[0] - _MARGIN, size[1] - 45)
        canvas.drawRightString(size[0] - _MARGIN, 30, f"第 {doc.page} 页")
        canvas.restoreState()

    from reportlab.platypus import PageTemplate

    template = PageTemplate("portrait", [_frame(size, "portrait")], onPage=decorate, pagesize=size)
    story: list[Any] = []
    for flowable in _pdf_story(plan):
        if _is_table(flowable):
            # Start the table low on its page, so that it continues on the next one.
            story.append(Spacer(1, rng.uniform(300, 450)))
            flowable.repeatRows = _header_rows(flowable._cellvalues)
            _narrow_labels(flowable)
        story.append(flowable)
    return _build(plan, story, [template])


def _header_rows(rows: list[list[Any]]) -> int:
    """The table's leading rows without a number: its header, repeated on each page the table continues on."""
    count = 0
    for row in rows:
        if any(isinstance(cell, str) and cell and _is_number_cell(cell) for cell in row):
            break
        count += 1
    return count if count < len(rows) else 0


def _narrow_labels(table: Any) -> None:
    """Make the label columns of a wide table narrower, so that labels wrap over two or three lines in their cells."""
    widths = list(table._colWidths)
    if len(widths) < 4:
        return
    taken = sum(widths[:3]) * 0.25
    widths[:3] = [width * 0.75 for width in widths[:3]]
    widths[3:] = [width + taken / len(widths[3:]) for width in widths[3:]]
    table._argW = widths
    table._colWidths = widths


LAYOUT_RENDERERS: dict[str, Callable[[Plan, random.Random], bytes]] = {
    "two_column": _two_column,
    "landscape": _landscape,
    "rotated": _rotated,
    "turned": _turned,
    "running_headers": _running_headers,
}

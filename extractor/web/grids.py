"""What the report page lays out: the three tables as the national template draws them, each cell's state, the
relations a reviewer watches, and the source text cut into plain runs and clickable numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.flat import label
from schemas.report import Template
from schemas.result import Result
from schemas.template import OUTCOMES, T2_ROWS, T3_ROWS, T4_BLOCKS

# A cell's state, worst first: the first that applies is shown.
CELL_STATES = ("ungrounded", "failing", "inconsistent", "null", "grounded")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Grid:
    table: str  # t2, t3 or t4
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str | None, ...]], ...]  # (row label, the row's keys under the columns)


def _parts(key: str) -> tuple[str, str]:
    """(row, column) of a key's label: "…（一）项 规章 · 本年新制作数量" → ("…（一）项 规章", "本年新制作数量")."""
    row, _, column = label(key).rpartition(" · ")
    return row or label(key), column


def grids(template: Template) -> list[Grid]:
    return [_t2(template), _t3(template), _t4()]


def _t2(template: Template) -> Grid:
    columns: list[str] = []
    for spec in T2_ROWS[template]:
        for key in spec.cell_keys():
            if (name := _parts(key)[1]) not in columns:
                columns.append(name)
    rows = []
    for spec in T2_ROWS[template]:
        by_column = {_parts(key)[1]: key for key in spec.cell_keys()}
        rows.append((_parts(spec.cell_keys()[0])[0], tuple(by_column.get(name) for name in columns)))
    return Grid("t2", "表二 主动公开政府信息情况", tuple(columns), tuple(rows))


def _t3(template: Template) -> Grid:
    first = T3_ROWS[template][0].cell_keys()
    columns = tuple(_parts(key)[1] for key in first)
    rows = tuple((_parts(spec.cell_keys()[0])[0], tuple(spec.cell_keys())) for spec in T3_ROWS[template])
    return Grid("t3", "表三 收到和处理政府信息公开申请情况", columns, rows)


def _t4() -> Grid:
    keys = [[f"t4.{block}.{outcome}" for outcome in OUTCOMES] for block in T4_BLOCKS]
    columns = tuple(_parts(key)[1] for key in keys[0])
    rows = tuple((_parts(row[0])[0], tuple[str | None, ...](row)) for row in keys)
    return Grid("t4", "表四 政府信息公开行政复议、行政诉讼情况", columns, rows)


def cell_states(result: Result, relation_ids: set[str], marked: set[str]) -> dict[str, str]:
    """Each field's state: ungrounded (a grounding finding names it), failing (in a failing relation), inconsistent
    (only in relations the reviewer marked as the report's own), null, or grounded."""
    involved: dict[str, set[str]] = {state: set() for state in CELL_STATES}
    for finding in result.findings:
        if finding.rule.startswith("grounding."):
            involved["ungrounded"].update(finding.cells)
        elif finding.rule in relation_ids:
            involved["inconsistent" if finding.rule in marked else "failing"].update(finding.cells)
    states = {}
    for key, value in result.fields.items():
        found = next((state for state in CELL_STATES[:3] if key in involved[state]), None)
        states[key] = found or ("null" if value is None else "grounded")
    return states


def relation_rows(machine: Result, draft: Result, relation_ids: set[str], marked: set[str]) -> list[dict[str, str]]:
    """The relations that failed in the machine's result or fail now, each failing, passing or marked as the
    report's own inconsistency: what a reviewer watches turn green."""
    failing_now = {finding.rule: finding for finding in draft.findings if finding.rule in relation_ids}
    failed_before = [finding.rule for finding in machine.findings if finding.rule in relation_ids]
    rows = []
    for rule in dict.fromkeys([*failed_before, *failing_now]):
        state = "marked" if rule in marked else "failing" if rule in failing_now else "passing"
        finding = failing_now.get(rule)
        rows.append({"id": rule, "state": state, "en": finding.en if finding else ""})
    return rows


@dataclass(frozen=True)
class Segment:
    text: str
    start: int  # offset in the document text
    number: bool  # a printed number: clickable, and highlighted where a cell's span is


def segments(text: str) -> list[Segment]:
    """The document text as alternating plain runs and numbers, offsets kept, for the text view."""
    out = []
    position = 0
    for match in _NUMBER.finditer(text):
        if match.start() > position:
            out.append(Segment(text[position : match.start()], position, False))
        out.append(Segment(match.group(), match.start(), True))
        position = match.end()
    if position < len(text):
        out.append(Segment(text[position:], position, False))
    return out

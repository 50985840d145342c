"""The text layout: a plan printed as a converted report's text, layout damage included."""

from __future__ import annotations

import random
from collections.abc import Sequence

from schemas.template import APPLICANTS

from .labels import (
    _T3_HEADER_001,
    _T3_HEADERS,
    _T4_HEADERS,
    _columns,
    _row_cells,
    _spaced,
    _t2_groups,
    _t2_label,
    _t3_labels,
)
from .meta import _title_lines
from .plan import _T4_KEYS, Plan

# ---------------------------------------------------------------------------- text layout

Line = list[str] | str  # table cells, or a raw line


def _page_marker(rng: random.Random, plan: Plan, kind: str = "page_break") -> list[str]:
    plan.applied.add(kind)
    plan.style["page"] += 1
    page = plan.style["page"]
    marker = rng.choice((f"- {page} -", f"- {page} -", f"—{page}—", f"第 {page} 页", f"－ {page} －"))
    return ["", marker, ""]


def _split_label(rng: random.Random, label: str) -> tuple[str, str] | None:
    compact = label.replace(" ", "")
    if len(compact) < 6:
        return None
    cut = rng.randint(3, len(compact) - 2)
    return compact[:cut], compact[cut:]


def _t2_text(plan: Plan, rng: random.Random) -> list[Line]:
    lines: list[Line] = []
    spaced = "spaced_text" in plan.damage
    splits = "split_label_t2" in plan.damage
    for number, (heading, header, rows) in enumerate(_t2_groups(plan)):
        lines.append([heading, "", "", ""])
        if number == 2 and rng.random() < 0.5:
            lines.append("")  # 000, 003: an empty line where the page broke
        lines.append(header)
        for row in rows:
            label = _t2_label(plan, row)
            values = _row_cells(plan, row, _columns(plan, row))
            if spaced and len(label) > 4 and rng.random() < 0.3:
                label = _spaced(rng, label, plan)
            cells = [label, *values]
            short_form = plan.style["rule_lines"] and row == rows[-1] and number == len(_t2_groups(plan)) - 1
            if not short_form:
                cells += [""] * (4 - len(cells))
            parts = _split_label(rng, label) if splits and len(label) >= 6 and rng.random() < 0.6 else None
            if parts:
                plan.split_rows.append(row)
                plan.applied.add("split_label_t2")
                lines.append([parts[0], *cells[1:]])
                lines.append([parts[1], "", "", ""])
            else:
                lines.append(cells)
            if short_form:
                lines.append(["-" * 9, *("---" for _ in values)])
        if "page_break" in plan.damage and number == 1 and rng.random() < 0.3:
            lines.extend(_page_marker(rng, plan))
    return lines


def _t3_line(layout: str, key: str, labels: list[str], values: list[str]) -> list[str]:
    first, second, item = labels
    if layout == "huaian":
        return [first, second, item, *values]
    if key in ("t3.new", "t3.carried_over", "t3.granted", "t3.partial"):
        return [first, second, *values, ""]
    if layout == "004":
        if key == "t3.total_handled":
            return [second, *values, "", ""]
        if key == "t3.carried_forward":
            return [first, "", *values, ""]
        if key == "t3.other_handling.other":
            return [item, "", *values, ""]
        if key == "t3.other_handling":
            return ["", second, *values]
    return [first, second, item, *values]


def _label_slot(cells: list[str]) -> int:
    """The label cell that names the row: the item ("1.属于国家秘密") or else the last label printed."""
    return max(i for i, cell in enumerate(cells) if cell)


def _t3_text(plan: Plan, rng: random.Random) -> list[Line]:
    style = plan.style
    lines: list[Line] = []
    header = style["t3_header"]
    if header == len(_T3_HEADERS):
        plan.applied.add("spaced_text")
        lines.extend(_T3_HEADER_001)
    else:
        for cells in _T3_HEADERS[header]:
            row = list(cells)
            if "spaced_text" in plan.damage and rng.random() < 0.5:
                row = [_spaced(rng, cell, plan) if 2 < len(cell) < 7 else cell for cell in row]
            lines.append(row)
    labels = _t3_labels(plan.template, style)[: plan.t3_printed_rows]
    spaced = "spaced_text" in plan.damage and rng.random() < 0.6
    split_rows = set()
    if "split_label" in plan.damage:
        candidates = [i for i, (_, cells) in enumerate(labels) if len(cells[_label_slot(cells)]) >= 6]
        split_rows = set(rng.sample(candidates, min(len(candidates), rng.randint(1, 3))))
    breaks = set()
    if "page_break" in plan.damage and len(labels) > 4:
        breaks = {rng.randint(2, len(labels) - 1)}
    for index, (key, cells) in enumerate(labels):
        cells = list(cells)
        values = _row_cells(plan, key, APPLICANTS)
        if spaced and cells[2] and rng.random() < 0.35:
            cells[2] = _spaced(rng, cells[2], plan)
        if index in breaks:
            previous = lines[-1]
            group_cut = (
                style["t3_layout"] == "huaian"
                and index - 1 not in split_rows
                and isinstance(previous, list)
                and len(previous[1]) >= 5
                and not cells[1]
                and cells[2]
                and rng.random() < 0.5
            )
            if group_cut:  # the group's label cell cut by the page break: "（四）无" / "法提供" (huaian)
                assert isinstance(previous, list)
                previous[1], cells[1] = previous[1][:-2], previous[1][-2:]
            lines.extend(_page_marker(rng, plan))
        if index in split_rows and (parts := _split_label(rng, cells[_label_slot(cells)])):
            plan.split_rows.append(key)
            plan.applied.add("split_label")
            slot = _label_slot(cells)
            head, tail = parts
            if slot == 2 and rng.random() < 0.5:
                # 003: "4.保护第三方合" moved to the first column, the numbers right after it
                first = [head, "", *values, ""] if not cells[1] else ["", cells[1], head, *values]
            else:
                first = [*cells[:slot], head, *cells[slot + 1 :], *values]
            lines.append(first)
            if rng.random() < 0.6:
                lines.append("")
            lines.append([*[""] * slot, tail, *[""] * (9 - slot)])
            continue
        lines.append(_t3_line(style["t3_layout"], key, cells, values))
    return lines


def _t4_text(plan: Plan, rng: random.Random) -> list[Line]:
    values = [plan.cells[key] if "t4" not in plan.blank_tables else "" for key in _T4_KEYS]
    if plan.t4_style == "bare":
        return [" ".join(values)] if any(values) else []
    lines: list[Line] = list(_T4_HEADERS[plan.style["t4_header"]])
    if "t4" in plan.blank_tables:
        return lines
    if "t4_split" in plan.damage:
        cut = rng.choice((5, 10))
        lines.append(values[:cut])
        lines.extend(_page_marker(rng, plan, "t4_split"))
        lines.append(values[cut:])
        return lines
    if "page_break" in plan.damage and rng.random() < 0.3:
        lines.extend(_page_marker(rng, plan))
    lines.append(values)
    return lines


def _join(lines: Sequence[Line]) -> str:
    return "\n".join(line if isinstance(line, str) else "\t".join(line) for line in lines)


def _heading(plan: Plan, text: str, level: int = 2) -> str:
    return ("#" * level + " " + text) if plan.style["markdown"] else text


def _render_text(plan: Plan, rng: random.Random) -> str:
    out: list[str] = ["", ""]
    for row in plan.header:
        out.append("\t".join(row))
    out += [""] if plan.header else []
    for row in plan.portal:
        out.append("\t".join(row))
    out += [""] if plan.portal else []
    if plan.style["doc_number"]:
        out += [plan.doc_number, ""]
    title = _title_lines(plan)
    if "title_wrap" in plan.damage:  # one heading, wrapped: its second line unmarked
        out += [_heading(plan, title[0], 1), title[1], ""]
    else:
        out += [*(_heading(plan, line, 1) for line in title), ""]
    for paragraph in plan.prose["preamble"]:
        out += [paragraph, ""]
    out += [_heading(plan, "一、总体情况"), ""]
    for paragraph in plan.prose["overview"]:
        out += [paragraph, ""]
    out += [_heading(plan, "二、主动公开政府信息情况"), ""]
    for paragraph in plan.prose["t2"]:
        out += [paragraph, ""]
    out += [_join(_t2_text(plan, rng)), ""]
    if plan.style["heading_split"]:
        out += [_heading(plan, "三、收到和处理"), "", "政府信息公开申请情况", ""]
    else:
        out += [_heading(plan, "三、收到和处理政府信息公开申请情况"), ""]
    for paragraph in plan.prose["t3"]:
        out += [paragraph, ""]
    out += [_join(_t3_text(plan, rng)), ""]
    if plan.cut_style == "end":
        return "\n".join(out)
    if plan.t4_style != "absent":
        out += [_heading(plan, "四、政府信息公开行政复议、行政诉讼情况"), ""]
        for paragraph in plan.prose["t4"]:
            out += [paragraph, ""]
        if plan.t4_style in ("table", "bare"):
            out += [_join(_t4_text(plan, rng)), ""]
    out += [_heading(plan, "五、存在的主要问题及改进情况"), ""]
    for paragraph in plan.prose["problems"]:
        out += [paragraph, ""]
    out += [_heading(plan, "六、其他需要报告的事项"), ""]
    for paragraph in plan.prose["other"]:
        out += [paragraph, ""]
    if plan.date:
        out += [plan.organ, "", plan.date, ""]  # the signature: the organ's full name, the date below it
    out += [*plan.footer, ""] if plan.footer else []
    return "\n".join(out)

"""The damage kinds and their rates, `Synthetic`, and the plan: everything a report prints, and its gold."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from extractor.relations import relations
from schemas.flat import flat_keys
from schemas.template import APPLICANTS, OUTCOMES, T2_ROWS, T3_ROWS, T4_BLOCKS

from .values import _PROFILES, Number, _organ, _t2_values, _t3_values, _t4_values, _weighted

Gold = dict[str, Any]

# Damage kinds and the chance each is drawn (independently) for a report that is not one of the
# CLEAN_SHARE left untouched. A kind that would not show (a note in a blank table) is dropped, so the
# shares in `Synthetic.damage` come out somewhat lower. Layout kinds change how the text is laid out,
# not what it says.
CLEAN_SHARE = 0.25
DAMAGE_RATES: dict[str, float] = {
    "split_label": 0.18,  # a row label over two lines, the numbers on the first ("4.保护第三方合" / "法权益")
    "split_label_t2": 0.03,  # the same in 表二 ("行政事" / "业性收费"); the parser leaves some unread (flagged)
    "spaced_text": 0.22,  # vertical/spaced text in headers and labels ("商 业 企 业", "5.属于 三类内 部事务 信息")
    "page_break": 0.30,  # "\n\n- 4 -\n\n" between two table rows (in 表四: between its header and its numbers)
    "blank_row": 0.07,  # a row printed with every cell empty
    "blank_table": 0.04,  # a whole table printed without numbers
    "null_marks": 0.08,  # "/", "—", "无" printed in cells
    "note_cell": 0.05,  # a number with a note, "55（含自然失效29件）"
    "misprint_header": 0.15,  # 2021 表二's "本年度止件数" (for 本年废止件数)
    "t4_split": 0.03,  # 表四's fifteen numbers over two lines at a page break
    "t4_bare": 0.03,  # 表四 without its header rows: the fifteen numbers alone in one space-separated row
    "cut_off": 0.04,  # the text ends, or jumps to 五、, after some 表三 row
    "missing_t4": 0.04,  # no 表四 (the heading with a sentence, or nothing)
    "inconsistent": 0.06,  # a misprinted number that breaks relations (listed in source_inconsistencies)
    "thousands": 0.05,  # "3,862"
    "markdown": 0.08,  # "# " / "## " before the title and headings, as converted files have
    "rule_lines": 0.06,  # "---------\t---" under a table's last row
    # Who and when: how the report states (and garbles) its organ and year. Drawn from a stream of their
    # own, so that adding them left every report's tables and layout as they were.
    "title_wrap": 0.12,  # the title over two lines, broken at any character ("某某县人民政府20" / "21年…")
    "portal_meta": 0.10,  # a portal's 索引号/发布机构/发文日期/名称 rows before the title (发布机构 may be an office)
    "crawler_header": 0.08,  # a web page's header lines before the title (site, 首页 > …, 发布时间：, 【字体】)
    "year_only_in_period": 0.06,  # no year in the title: only the statistics period sentence states it
    "year_conflict": 0.05,  # the title's year one off the period's (the gold year is the period's)
}
_LAYOUT_DAMAGE = frozenset({"split_label", "split_label_t2", "spaced_text", "page_break", "t4_split"})
_META_DAMAGE = ("title_wrap", "portal_meta", "crawler_header", "year_only_in_period", "year_conflict")
LATE_2019_SHARE = 0.02  # of reports for 2021 onwards, printed on the 2019 table
NULL_MARKS = ("/", "/", "—", "无")


@dataclass
class Synthetic:
    """One report: its text, its gold (the spec's gold-file format) and the damage its text shows."""

    name: str
    text: str
    gold: Gold
    damage: tuple[str, ...] = ()
    plan: Plan | None = field(default=None, repr=False, compare=False)  # what write_pdf draws


# ---------------------------------------------------------------------------- the plan


@dataclass
class Plan:
    """Everything a report prints, before it is laid out as text or drawn as a PDF."""

    template: str
    year: int
    organ: str
    kind: str
    profile: str
    cells: dict[str, str]  # every key's printed cell: "" for blank
    values: dict[str, Number]  # every key's number as printed (where a number is printed)
    damage: set[str]
    t3_printed_rows: int  # how many 表三 rows are printed before the cut (all, without cut_off)
    cut_style: str  # "end" (the text ends) or "jump" (to 五、)
    t4_style: str  # "table", "bare", "sentence" (heading and a sentence, no table), "absent"
    blank_tables: set[str]
    blank_rows: set[str]
    style: dict[str, Any]
    prose: dict[str, list[str]]  # section -> paragraphs
    split_rows: list[str] = field(default_factory=list)  # rows whose label the text prints over two lines
    applied: set[str] = field(default_factory=set)  # the layout damage (_LAYOUT_DAMAGE) the text really shows
    doc_number: str = ""
    date: str = ""
    title_year: int | None = None  # the year the title prints (None: it prints none); `year` is the statistics'
    published: str = ""  # the page's publication date, "2023-01-20"
    header: list[list[str]] = field(default_factory=list)  # crawler_header: a web page's lines above the title
    footer: list[str] = field(default_factory=list)  # crawler_header: and below the report
    portal: list[list[str]] = field(default_factory=list)  # portal_meta: the portal's metadata rows, as cells


def _null_cell(rng: random.Random) -> str:
    return rng.choice(NULL_MARKS)


def _format_count(rng: random.Random, value: int, thousands: bool) -> str:
    if thousands and value >= 1000 and rng.random() < 0.8:
        return f"{value:,}"
    return str(value)


def _format_change(rng: random.Random, value: int) -> str:
    if value > 0 and rng.random() < 0.6:
        return f"+{value}"
    return str(value)


def _number_of(text: str) -> Number:
    number = Decimal(text.replace(",", ""))
    return int(number) if number == number.to_integral_value() and "." not in text else float(text)


@cache
def _t2_row_keys(template: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(spec.cell_keys()) for spec in T2_ROWS[template])


@cache
def _t3_row_keys(template: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(spec.cell_keys()) for spec in T3_ROWS[template])


@cache
def _columns_of(template: str) -> dict[str, tuple[str, ...]]:
    return {spec.key: spec.columns for spec in (*T2_ROWS[template], *T3_ROWS[template])}


_T4_KEYS = [f"t4.{block}.{outcome}" for block in T4_BLOCKS for outcome in OUTCOMES]


def _inject_inconsistency(rng: random.Random, plan: Plan, printable: list[str]) -> bool:
    """Misprint one printed number so that some relation breaks. False (and nothing changed) where none can."""
    keys = [k for k in printable if k.startswith(("t3.", "t4."))]
    for _ in range(5):
        kind = rng.random()
        if kind < 0.45:  # a row total, often with its digits swapped ("64" printed "46")
            candidates = [k for k in keys if k.startswith("t3.") and k.endswith(".total")]
        elif kind < 0.7:
            candidates = [k for k in keys if k.startswith("t3.") and not k.endswith(".total")]
        elif kind < 0.85:
            candidates = [k for k in keys if k.startswith(("t3.carried_forward", "t3.total_handled"))]
        else:
            candidates = [k for k in keys if k.startswith("t4.") and k.endswith(".total")]
        key = rng.choice(candidates or keys)
        old = int(plan.values[key])
        digits = str(old)
        if len(digits) >= 2 and digits[-1] not in (digits[-2], "0") and rng.random() < 0.5:
            new = int(digits[:-2] + digits[-1] + digits[-2])
        else:
            new = max(0, old + rng.choice((-3, -2, -1, 1, 1, 2, 3, 10)))
            if new == old:
                new = old + 1
        plan.values[key], plan.cells[key] = new, str(new)
        if _broken(plan.template, _fields(plan)):
            return True
        plan.values[key], plan.cells[key] = old, str(old)
    return False


def _broken(template: str, fields: dict[str, Number | None]) -> list[str]:
    """Ids of the relations the printed numbers break (those with every term printed)."""
    broken = []
    for relation in relations(template):
        terms = [fields[key] for key in relation.keys]
        if any(term is None for term in terms):
            continue
        if sum(fields[key] for key in relation.left) != sum(fields[key] for key in relation.right):
            broken.append(relation.id)
    return sorted(broken)


def _plan(seed: int, index: int) -> tuple[Plan, random.Random, random.Random]:
    """The plan, the stream that lays it out, and the stream of its who-and-when (organ and year) wording."""
    rng = random.Random(f"nianbao-synthetic:{seed}:{index}")
    wording = random.Random(f"nianbao-meta:{seed}:{index}")
    organ, kind = _organ(rng)
    profile = _weighted(rng, _PROFILES[kind])
    year = rng.choice((2019, 2020, 2020, 2021, 2022, 2022, 2023, 2023, 2024))
    template = "2019" if year < 2021 or rng.random() < LATE_2019_SHARE else "2021"
    clean = rng.random() < CLEAN_SHARE
    damage: set[str] = set()
    if not clean:
        damage = {kind for kind, rate in DAMAGE_RATES.items() if kind not in _META_DAMAGE and rng.random() < rate}
        damage |= {kind for kind in _META_DAMAGE if wording.random() < DAMAGE_RATES[kind]}
    if "year_only_in_period" in damage:
        damage.discard("year_conflict")
    title_year: int | None = year
    if "year_only_in_period" in damage:
        title_year = None
    elif "year_conflict" in damage:  # last year's title kept, or the year of publication put in it
        title_year = year + wording.choice((-1, -1, 1))
    if template == "2019":
        damage.discard("misprint_header")
    if "cut_off" in damage:
        damage -= {"missing_t4", "t4_split", "t4_bare"}
    if "missing_t4" in damage:
        damage -= {"t4_split", "t4_bare"}
    damage.discard("t4_bare" if "t4_split" in damage else "")

    values: dict[str, Number] = {}
    values.update(_t3_values(rng, template, profile))
    values.update(_t4_values(rng, profile))
    t2 = _t2_values(rng, template, profile)
    cells: dict[str, str] = {}
    thousands = "thousands" in damage
    for key, value in t2.items():
        if isinstance(value, str):  # an amount, as printed
            cells[key] = value
            values[key] = _number_of(value)
        elif key.endswith(".change"):
            cells[key] = _format_change(rng, value)
            values[key] = value
        else:
            cells[key] = _format_count(rng, value, thousands)
            values[key] = value
    for key in [*values]:
        if key not in cells:
            cells[key] = _format_count(rng, int(values[key]), thousands)

    t3_rows = _t3_row_keys(template)
    t2_rows = _t2_row_keys(template)
    rows_printed, cut_style = len(t3_rows), ""
    if "cut_off" in damage:
        rows_printed = rng.randint(3, len(t3_rows) - 2)
        cut_style = rng.choice(("end", "jump", "jump"))
    blank_tables: set[str] = set()
    if "blank_table" in damage:
        blank_tables = {rng.choice(("t2", "t3", "t3", "t4"))}
        if "t3" in blank_tables and rng.random() < 0.7:
            blank_tables |= {"t2", "t4"}  # 001: every table printed, none filled
        if "cut_off" in damage:
            blank_tables.discard("t4")
    if "t4" in blank_tables:
        damage -= {"t4_split", "t4_bare"}
    t4_style = "table"
    if "cut_off" in damage:
        t4_style = "absent"
    elif "missing_t4" in damage:
        t4_style = rng.choice(("sentence", "absent"))
    elif "t4_bare" in damage:
        t4_style = "bare"

    # Rows that print numbers, so that the damage below shows.
    visible = [row for row in t2_rows if "t2" not in blank_tables]
    visible += [row for row in t3_rows[2:rows_printed] if "t3" not in blank_tables]
    blank_rows: set[str] = set()
    if "blank_row" in damage and visible:
        chosen = rng.sample(visible, min(len(visible), rng.randint(1, 3)))
        blank_rows = {row[0].rsplit(".", 1)[0] for row in chosen}
        visible = [row for row in visible if row not in chosen]
    visible_t2 = [row for row in visible if row[0].startswith("t2.")]
    visible_t3 = [row for row in visible if row[0].startswith("t3.")]
    note_key = ""
    if "note_cell" in damage:
        if template == "2021":
            options = (("t2.normative.repealed", 0.7), ("t2.normative.in_force", 0.2), ("t2.rules.repealed", 0.1))
        else:
            options = (("t2.normative.total_published", 0.8), ("t2.rules.total_published", 0.2))
        note_key = _weighted(rng, options)
        if not any(note_key in row for row in visible_t2):
            damage.discard("note_cell")
            note_key = ""
        elif template == "2021":
            if not values[note_key]:
                values[note_key] = rng.randint(2, 60) if note_key.startswith("t2.normative") else rng.randint(1, 4)
            lapsed = rng.randint(1, int(values[note_key]))
            cells[note_key] = f"{values[note_key]}（含自然失效{lapsed}件）"
        else:
            cells[note_key] = f"{values[note_key]}（含已废止{rng.randint(0, int(values[note_key]))}件）"
    if "null_marks" in damage:
        mark = _null_cell(rng)
        choice = rng.random()
        marked: list[str] = []
        if choice < 0.4 and visible_t2:  # a whole 表二 row
            marked = list(rng.choice(visible_t2))
        elif choice < 0.7 and visible_t2:  # a few 表二 cells
            marked = rng.sample([key for row in visible_t2 for key in row], rng.randint(1, 4))
        elif choice < 0.85 and visible_t3:  # a whole 表三 row
            marked = list(rng.choice(visible_t3))
        elif visible_t3:  # a 表三 column printed "/" for an applicant type the organ never sees
            applicant = rng.choice(APPLICANTS[1:4])
            marked = [f"{row[0].rsplit('.', 1)[0]}.{applicant}" for row in visible_t3]
        for key in marked:
            if key != note_key:
                cells[key] = mark
        if not marked:
            damage.discard("null_marks")

    plan = Plan(
        template=template,
        year=year,
        organ=organ,
        kind=kind,
        profile=profile,
        cells=cells,
        values=values,
        damage=damage,
        t3_printed_rows=rows_printed,
        cut_style=cut_style,
        t4_style=t4_style,
        blank_tables=blank_tables,
        blank_rows=blank_rows,
        style={},
        prose={},
        title_year=title_year,
    )
    printable = _printed_keys(plan)
    if not any("," in cells[key] for key in printable):
        damage.discard("thousands")
    if not any(key.startswith(("t3.", "t4.")) for key in printable):
        damage.discard("inconsistent")  # nothing printed to misprint
    if "inconsistent" in damage and not _inject_inconsistency(rng, plan, sorted(printable)):
        damage.discard("inconsistent")
    return plan, rng, wording


def _printed_keys(plan: Plan) -> set[str]:
    """Keys whose cell holds a number on the page."""
    printed: set[str] = set()
    t3_rows = _t3_row_keys(plan.template)
    for row in _t2_row_keys(plan.template):
        if "t2" not in plan.blank_tables and row[0].rsplit(".", 1)[0] not in plan.blank_rows:
            printed.update(row)
    if "t3" not in plan.blank_tables:
        for row in t3_rows[: plan.t3_printed_rows]:
            if row[0].rsplit(".", 1)[0] not in plan.blank_rows:
                printed.update(row)
    if plan.t4_style in ("table", "bare") and "t4" not in plan.blank_tables:
        printed.update(_T4_KEYS)
    return {key for key in printed if plan.cells[key] not in NULL_MARKS and plan.cells[key] != ""}


def _fields(plan: Plan) -> dict[str, Number | None]:
    """The gold fields: the number printed in each cell, or None."""
    printed = _printed_keys(plan)
    return {key: (plan.values[key] if key in printed else None) for key in flat_keys(plan.template)}


def _gold(plan: Plan, source: str) -> Gold:
    fields = _fields(plan)
    return {
        "source": source,
        "organ": plan.organ,
        "year": plan.year,
        "template": plan.template,
        "fields": fields,
        "source_inconsistencies": _broken(plan.template, fields),
    }

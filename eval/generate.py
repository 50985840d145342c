"""Synthetic 政府信息公开工作年度报告 with known gold, laid out like the corpus, damage included.

    python eval/generate.py --count 1000 --out DIR [--seed 7] [--pdf-every 50] [--renderings]

Text reports go to DIR as NAME.txt + NAME.gold.json. With --pdf-every N, every Nth report is
also drawn as a PDF into DIR/pdf as NAME.pdf + NAME.gold.json (a gold file names one source,
so the two cannot share a folder). With --renderings, every report is also written in each of
RENDERINGS into DIR/<kind> as NAME-<kind>.<md|txt|html> + NAME-<kind>.gold.json.

From Python (tests and benchmarks add eval/ to sys.path):

    from generate import generate, write_text, write_pdf
    s = generate(seed=7, index=0)   # the same (seed, index) always gives the same report
    s.text, s.gold, s.damage
    render(s, "crawler")            # the same report as another kind of file shows it (see RENDERINGS)

The gold is what a careful reader labels: every number as printed (a misprinted total stays
misprinted, and `source_inconsistencies` names the relations it breaks), null wherever no
number is printed (blank, "/", a blank or missing table, rows after a cut), never a guessed 0.
The damage a report's text shows is listed in `Synthetic.damage`, never in its gold. A PDF
prints the same cells as its text (so the same gold) in clean ruled tables: the layout damage
(split labels, spaced text, page numbers inside a table's text) is the text's alone.

Who and when are damaged too, and the gold stays true: `organ` is the organ as the title prints it
(never a portal's 发布机构, which may be an office publishing for it), `year` the year the statistics
period sentence states (统计期限为…至…, 统计时限…, 所列数据的统计期限自…起至…止), which most reports print.
The title may wrap at any character, organ and year included (title_wrap), print no year
(year_only_in_period) or the wrong one (year_conflict: one off the period's, in no gold), and sit
below a portal's metadata rows (portal_meta) or a web page's header lines (crawler_header). These
kinds draw from a random stream of their own, so the tables and layout of every report are as they
were before the kinds were added; the PDF and the renderings print the same title and period.

The renderings print the same cells again, as converted files show them: "md_fragments" (a
PDF-to-markdown conversion: pipe tables cut at page breaks), "md_row_tables" (a small table per
row), "crawler" (a web page's text dump, cells glued together) and "html_nested" (an old CMS page
with rowspan/colspan tables inside a layout table). Each is deterministic for a report.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from anywhere: the repo's packages are one level up
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extractor.relations import relations
from schemas.flat import flat_keys
from schemas.template import APPLICANTS, OUTCOMES, T2_ROWS, T3_ROWS, T4_BLOCKS

Gold = dict[str, Any]
Number = int | float

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


# ---------------------------------------------------------------------------- names and words

_CHARS = "青临南东西北平安永清白新红建长宝龙金桃云兴和丰阳华泰江山河湖石松柳梅凤鹤德仁福康顺昌盛嘉瑞宁远川溪"
_BUREAUS = (
    "生态环境局",
    "自然资源和规划局",
    "自然资源局",
    "市场监督管理局",
    "人力资源和社会保障局",
    "交通运输局",
    "住房和城乡建设局",
    "卫生健康委员会",
    "教育局",
    "财政局",
    "民政局",
    "农业农村局",
    "应急管理局",
    "司法局",
    "文化广电和旅游局",
    "水利局",
    "商务局",
    "发展和改革委员会",
    "统计局",
    "医疗保障局",
    "退役军人事务局",
    "城市管理局",
    "审计局",
)


def _place(rng: random.Random) -> str:
    return rng.choice(_CHARS) + rng.choice(_CHARS)


def _organ(rng: random.Random) -> tuple[str, str]:
    """An organ name and its kind: "street", "town", "county", "bureau" or "city"."""
    roll = rng.random()
    city, district = _place(rng) + "市", _place(rng) + "区"
    if roll < 0.30:
        prefix = rng.choice((city + district, district, city + district))
        return prefix + _place(rng) + "街道办事处", "street"
    if roll < 0.42:
        return _place(rng) + "县" + _place(rng) + rng.choice(("镇", "镇", "乡")) + "人民政府", "town"
    if roll < 0.55:
        return _place(rng) + rng.choice(("县", "区")) + rng.choice(("人民政府办公室", "人民政府")), "county"
    if roll < 0.93:
        return rng.choice((city, city + district, _place(rng) + "县")) + rng.choice(_BUREAUS), "bureau"
    return city + rng.choice(("人民政府", "人民政府办公室")), "city"


_PROFILES = {  # organ kind -> (profile, weight) ...
    "street": (("none", 0.55), ("tiny", 0.3), ("small", 0.15)),
    "town": (("none", 0.5), ("tiny", 0.35), ("small", 0.15)),
    "county": (("tiny", 0.2), ("small", 0.45), ("medium", 0.35)),
    "bureau": (("none", 0.1), ("tiny", 0.25), ("small", 0.35), ("medium", 0.22), ("large", 0.08)),
    "city": (("medium", 0.4), ("large", 0.6)),
}
_NEW_RANGE = {"none": (0, 0), "tiny": (1, 6), "small": (5, 60), "medium": (60, 600), "large": (600, 6000)}
_SCALE = {"none": 0, "tiny": 1, "small": 2, "medium": 3, "large": 4}


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in options], [weight for _, weight in options])[0]


# ---------------------------------------------------------------------------- numbers


def _split(rng: random.Random, n: int, weights: Sequence[float]) -> list[int]:
    """`n` shared out by `weights`: proportional shares, the remainder placed at random by weight."""
    if n <= 0:
        return [0] * len(weights)
    total = sum(weights)
    if total <= 0:
        weights, total = [1.0] * len(weights), float(len(weights))
    parts = [int(n * w / total) for w in weights]
    rest = n - sum(parts)
    if rest:
        for index in rng.choices(range(len(weights)), weights, k=rest):
            parts[index] += 1
    return parts


def _jitter(rng: random.Random, base: Sequence[float], zero_share: float = 0.0) -> list[float]:
    return [0.0 if rng.random() < zero_share else b * (0.15 + 1.7 * rng.random()) for b in base]


_APPLICANT_BASE = (0.78, 0.11, 0.01, 0.01, 0.06, 0.03)
_OUTCOME_BASE = {
    "t3.granted": 0.36,
    "t3.partial": 0.1,
    "t3.denied.state_secret": 0.004,
    "t3.denied.law_forbidden": 0.01,
    "t3.denied.three_safety": 0.005,
    "t3.denied.third_party": 0.015,
    "t3.denied.internal_affairs": 0.01,
    "t3.denied.process_info": 0.015,
    "t3.denied.enforcement_file": 0.01,
    "t3.denied.admin_query": 0.03,
    "t3.unavailable.not_held": 0.22,
    "t3.unavailable.needs_creation": 0.03,
    "t3.unavailable.unclear": 0.02,
    "t3.not_processed.complaint": 0.04,
    "t3.not_processed.duplicate": 0.02,
    "t3.not_processed.publication": 0.005,
    "t3.not_processed.excessive": 0.004,
    "t3.not_processed.confirmation": 0.005,
    "t3.other_handling": 0.05,
    "t3.other_handling.no_correction": 0.025,
    "t3.other_handling.unpaid_fee": 0.004,
    "t3.other_handling.other": 0.03,
}
_T3_ENDS = ("t3.new", "t3.carried_over", "t3.total_handled", "t3.carried_forward")


def _t3_rows(template: str) -> list[str]:
    return [spec.key for spec in T3_ROWS[template]]


def _t3_values(rng: random.Random, template: str, profile: str) -> dict[str, int]:
    low, high = _NEW_RANGE[profile]
    new_total = int(low + (high - low) * rng.random() ** 2) if high else 0
    applicants = _jitter(rng, _APPLICANT_BASE, zero_share=0.25)
    applicants[0] = max(applicants[0], 0.3)
    rows = _t3_rows(template)
    outcomes = [row for row in rows if row not in _T3_ENDS]
    weights = _jitter(rng, [_OUTCOME_BASE[row] for row in outcomes], zero_share=0.3)
    weights[0] = max(weights[0], 0.05)
    carry = rng.choice((0.0, 0.0, 0.02, 0.05, 0.1))
    values: dict[str, int] = {}
    new = _split(rng, new_total, applicants)
    carried_over = _split(rng, round(new_total * carry * rng.random() * 1.5), applicants)
    carried_forward = _split(rng, round(new_total * carry * rng.random() * 1.5), applicants)
    per_row: dict[str, list[int]] = {row: [] for row in outcomes}
    for a in range(6):
        carried_forward[a] = min(carried_forward[a], new[a] + carried_over[a])
        handled = new[a] + carried_over[a] - carried_forward[a]
        for row, share in zip(outcomes, _split(rng, handled, weights), strict=True):
            per_row[row].append(share)
    per_row["t3.new"], per_row["t3.carried_over"], per_row["t3.carried_forward"] = new, carried_over, carried_forward
    per_row["t3.total_handled"] = [sum(per_row[row][a] for row in outcomes) for a in range(6)]
    for row in rows:
        for applicant, value in zip(APPLICANTS[:-1], per_row[row], strict=True):
            values[f"{row}.{applicant}"] = value
        values[f"{row}.total"] = sum(per_row[row])
    return values


def _t4_values(rng: random.Random, profile: str) -> dict[str, int]:
    chance = (0.02, 0.05, 0.25, 0.6, 0.95)[_SCALE[profile]]
    top = (2, 3, 8, 40, 300)[_SCALE[profile]]
    values: dict[str, int] = {}
    for block in T4_BLOCKS:
        n = int(top * rng.random() ** 2) + 1 if rng.random() < chance else 0
        parts = _split(rng, n, _jitter(rng, (0.5, 0.12, 0.25, 0.13), zero_share=0.2))
        for outcome, value in zip(OUTCOMES[:-1], parts, strict=True):
            values[f"t4.{block}.{outcome}"] = value
        values[f"t4.{block}.total"] = sum(parts)
    return values


def _count(rng: random.Random, scale: int, tops: Sequence[int], zero: float) -> int:
    if rng.random() < zero:
        return 0
    return int(tops[scale] * rng.random() ** 3)


def _amount(rng: random.Random, top: float) -> str:
    """A money amount as printed: "0", "24220", "96171.6", "1835.62"."""
    if rng.random() < 0.3:
        return "0"
    value = top * rng.random() ** 3
    places = rng.choice((0, 1, 2, 2))
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text and rng.random() < 0.7 else text


def _t2_values(rng: random.Random, template: str, profile: str) -> dict[str, Number | str]:
    """表二's numbers; amounts as the printed text, since they are kept as printed."""
    scale = _SCALE[profile]
    zero = (0.85, 0.6, 0.4, 0.2, 0.05)[scale]
    v: dict[str, Number | str] = {}
    if template == "2019":
        for item, tops in (("rules", (1, 1, 2, 3, 8)), ("normative", (3, 8, 20, 40, 150))):
            made = _count(rng, scale, tops, zero if item == "normative" else 0.95)
            v[f"t2.{item}.made"] = made
            v[f"t2.{item}.published"] = made if rng.random() < 0.85 else int(made * rng.random())
            v[f"t2.{item}.total_published"] = v[f"t2.{item}.published"] + _count(rng, scale, [t * 8 for t in tops], 0.3)
        for item, tops in (
            ("licensing", (5, 20, 80, 300, 900)),
            ("other_services", (5, 30, 100, 300, 800)),
            ("penalty", (3, 10, 60, 300, 1200)),
            ("coercion", (2, 5, 20, 60, 200)),
        ):
            prev = _count(rng, scale, tops, zero)
            v[f"t2.{item}.prev_items"] = prev
            v[f"t2.{item}.change"] = 0 if rng.random() < 0.5 else rng.randint(-min(prev, 5 + prev // 10), 3 + prev // 8)
            v[f"t2.{item}.decisions"] = _count(rng, scale, (10, 200, 3000, 30000, 500000), zero)
        prev = _count(rng, scale, (2, 4, 10, 30, 60), zero)
        v["t2.fees.prev_items"] = prev
        v["t2.fees.change"] = 0 if rng.random() < 0.7 else rng.randint(-min(prev, 3), 2)
        v["t2.procurement.items"] = _count(rng, scale, (3, 10, 40, 120, 500), zero)
        v["t2.procurement.amount"] = (
            _amount(rng, (50, 300, 3000, 30000, 200000)[scale]) if v["t2.procurement.items"] else "0"
        )
    else:
        for item, tops in (("rules", (1, 1, 2, 4, 12)), ("normative", (3, 8, 20, 40, 120))):
            issued = _count(rng, scale, tops, zero if item == "normative" else 0.95)
            repealed = _count(rng, scale, tops, 0.6)
            v[f"t2.{item}.issued"] = issued
            v[f"t2.{item}.repealed"] = repealed
            v[f"t2.{item}.in_force"] = issued + _count(rng, scale, [t * 6 for t in tops], 0.3)
        v["t2.licensing.decisions"] = _count(rng, scale, (10, 300, 5000, 60000, 500000), zero)
        v["t2.penalty.decisions"] = _count(rng, scale, (5, 50, 2000, 40000, 4000000), zero)
        v["t2.coercion.decisions"] = _count(rng, scale, (2, 10, 200, 3000, 100000), zero)
        v["t2.fees.amount"] = _amount(rng, (5, 50, 800, 20000, 120000)[scale])
    return v


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


# ---------------------------------------------------------------------------- prose


def _short_name(plan: Plan) -> str:
    organ = plan.organ
    for suffix in ("人民政府办公室", "人民政府", "办事处"):
        if organ.endswith(suffix) and plan.kind in ("street", "town"):
            organ = organ.removesuffix(suffix)
            return organ[-4:] if plan.kind == "street" else organ[-3:]
    return {"street": "我街道", "town": "我镇", "county": "我办", "bureau": "我局", "city": "我市"}[plan.kind]


def _claim(plan: Plan, gold_fields: dict[str, Number | None]) -> str:
    """The narrative's 依申请公开 sentence, consistent with the printed table."""
    new = gold_fields.get("t3.new.total")
    if new is None:
        return "本年度依申请公开工作依法规范开展，答复均在法定期限内完成。"
    if new == 0:
        return "本年度未收到政府信息公开申请。"
    parts = [f"本年新收政府信息公开申请{new}件"]
    carried = gold_fields.get("t3.carried_over.total")
    if carried:
        parts.append(f"上年结转{carried}件")
    handled = gold_fields.get("t3.total_handled.total")
    if handled is not None:
        parts.append(f"办结{handled}件")
    forward = gold_fields.get("t3.carried_forward.total")
    if forward:
        parts.append(f"结转下年度继续办理{forward}件")
    return "，".join(parts) + "，均在法定期限内答复。"


def _litigation_claim(gold_fields: dict[str, Number | None]) -> str:
    r = gold_fields.get("t4.reconsideration.total")
    d, a = gold_fields.get("t4.litigation_direct.total"), gold_fields.get("t4.litigation_after.total")
    if r is None or d is None or a is None:
        return ""
    if r == d == a == 0:
        return "全年未发生因政府信息公开引起的行政复议、行政诉讼案件。"
    return f"全年发生政府信息公开行政复议{r}件、行政诉讼{d + a}件。"


_ACTIVE = (
    "全年主动公开政府信息 {n} 条，其中政策文件 {m} 条，政策解读 {k} 篇。",
    "全年通过门户网站主动公开政府信息 {n} 条，通过政务新媒体发布信息 {m} 条。",
    "按期公开工作动态、财政预决算、人事信息等内容，全年发布信息 {n} 条。",
    "围绕重点领域推进信息公开，全年公开各类信息 {n} 条，更新办事指南 {k} 项。",
)
_MANAGE = (
    "严格落实公文公开属性源头认定和发布前保密审查，动态调整主动公开目录。",
    "严格执行“先审后发”和“三审”制度，确保公开信息准确、规范。",
    "健全政府信息公开保密审查机制，坚持“涉密信息不上网，上网信息不涉密”。",
    "明确专人负责政府信息的登记、分类、统计和保存，按时报送政府信息公开情况。",
)
_PLATFORM = (
    "优化政府门户网站政府信息公开专栏，规范政务新媒体管理。",
    "依托区政府门户网站、微信公众号、公示栏等渠道发布信息。",
    "充分利用便民服务大厅和政务公开专栏，方便群众查阅。",
)
_OVERSIGHT = (
    "将政务公开纳入年度绩效考核，组织业务培训 {k} 次。",
    "成立政务公开工作领导小组，主要领导亲自抓、分管领导具体抓。",
    "定期开展政务公开自查，及时整改发现的问题。",
)
_PROBLEMS = (
    "一是政策解读形式还不够丰富，图解、视频等解读产品偏少；二是部分工作人员业务水平有待提高。",
    "一是主动公开内容的深度和广度还需拓展；二是依申请公开答复文书的规范性有待提高。",
    "政务信息公开的主动性有待加强，部分信息更新不够及时。",
    "部分工作人员尚未树立信息公开的意识和观念，提供可公开的文件意愿不强。",
)
_FIXES = (
    "下一步，将丰富政策解读形式，加强业务培训，提升政务公开工作水平。",
    "下一步，将进一步细化主动公开目录，加强答复文书法制审核。",
    "我们将健全信息报送考核机制，建立定期检查和抽查机制。",
)
_OTHER = (
    "本年度，本机关未收取信息处理费。",
    "无其他需要报告的事项。",
    "本年度未收取政府信息公开信息处理费。",
    "如需了解更多政府信息，请登录政府门户网站查询。",
)


# The statistics period sentence, in the wordings real reports use: {a} the period's first day, {b} its last.
_PERIODS = (
    "本报告所列政府信息公开数据统计期限为{a}至{b}。",
    "本报告所列数据统计期限自{a}起至{b}止。",
    "本报告中所列数据的统计期限自{a}起至{b}止。",
    "本报告中所列数据的统计期限自{a}至{b}。",
    "本报告所列数据统计时限为{a}至{b}。",
    "报告中所列数据的统计期限为{a}至{b}。",
    "本年度报告中使用数据统计期限为{a}至{b}。",
    "本报告统计时限：{a}—{b}。",
)


def _period_sentence(wording: random.Random, plan: Plan) -> str:
    """The sentence stating the year the statistics cover: always `plan.year`, whatever the title prints."""
    y = plan.year
    if wording.random() < 0.35:
        first, last = f" {y} 年 1 月 1 日", f" {y} 年 12 月 31 日"
    else:
        first, last = f"{y}年1月1日", f"{y}年12月31日"
    if wording.random() < 0.15:  # "…至12月31日止": the year stated once
        last = last.replace(f"{y}年", "").replace(f" {y} 年", "")
    sentence = wording.choice(_PERIODS).format(a=first, b=last)
    if wording.random() < 0.2:
        phone = f"0{wording.randint(100, 999)}-{wording.randint(2000000, 8999999)}"
        sentence += f"如对本报告有任何疑问，请与{_publisher(plan)}联系（联系电话：{phone}）。"
    return sentence


def _prose(
    rng: random.Random, plan: Plan, fields: dict[str, Number | None], wording: random.Random
) -> dict[str, list[str]]:
    y = plan.year
    n = rng.randint(20, 3000)
    fill = {"n": n, "m": rng.randint(0, max(1, n // 10)), "k": rng.randint(1, 30)}
    opening = rng.choice(
        (
            f"根据《中华人民共和国政府信息公开条例》第五十条规定，{plan.organ}编制了本报告。",
            "本报告依据《中华人民共和国政府信息公开条例》编制。",
            f"本年度报告根据《中华人民共和国政府信息公开条例》要求编制，由{plan.organ}负责。",
        )
    )
    preamble = opening + _period_sentence(wording, plan)
    who = _short_name(plan)
    overview = [
        f"{y} 年，{who}坚持以公开为常态、不公开为例外，持续深化政务公开，不断提升政府信息公开工作质量。",
        "（一）主动公开。" + rng.choice(_ACTIVE).format(**fill),
        "（二）依申请公开。" + _claim(plan, fields) + _litigation_claim(fields),
        "（三）政府信息管理。" + rng.choice(_MANAGE),
        "（四）平台建设。" + rng.choice(_PLATFORM),
        "（五）监督保障。" + rng.choice(_OVERSIGHT).format(**fill),
    ]
    if rng.random() < 0.3:  # paragraphs without their run-in headings
        overview = overview[:1] + [p.split("。", 1)[1] for p in overview[1:] if p.split("。", 1)[1]]
    t3_note = []
    if fields.get("t3.new.total") == 0 and rng.random() < 0.4:
        t3_note = [f"{y} 年度，{who}未收到依申请公开政府信息的受理件。"]
    t4_note = []
    if plan.t4_style == "sentence":
        t4_note = [f"{y}年，{who}没有因政府信息公开而被提起行政复议或行政诉讼。"]
    stated = rng.random() < 0.85
    if plan.title_year != plan.year:  # the title states no year, or the wrong one: the period sentence must
        stated = True
    return {
        "preamble": [preamble] if stated else [],
        "overview": overview,
        "t2": ["在《条例》第二十条规定的主动公开信息中，第一、五、六、八、九项内容的公开情况详见下表。"]
        if rng.random() < 0.1
        else [],
        "t3": t3_note,
        "t4": t4_note,
        "problems": [rng.choice(_PROBLEMS), rng.choice(_FIXES)] if rng.random() < 0.6 else [rng.choice(_PROBLEMS)],
        "other": [rng.choice(_OTHER)],
    }


# ---------------------------------------------------------------------------- table labels


def _paren(style: dict[str, Any], numeral: str) -> str:
    return {"ascii": f"({numeral}) ", "tight": f"({numeral})", "full": f"（{numeral}）"}[style["paren"]]


def _item(style: dict[str, Any], number: int, text: str) -> str:
    return f"{number}{style['dot']}{text}"


_DENIED = (
    "属于国家秘密",
    "其他法律行政法规禁止公开",
    "危及“三安全一稳定”",
    "保护第三方合法权益",
    "属于三类内部事务信息",
    "属于四类过程性信息",
    "属于行政执法案卷",
    "属于行政查询事项",
)
_UNAVAILABLE = ("本机关不掌握相关政府信息", "没有现成信息需要另行制作", "补正后申请内容仍不明确")
_NOT_PROCESSED = (
    "信访举报投诉类申请",
    "重复申请",
    "要求提供公开出版物",
    "无正当理由大量反复申请",
    "要求行政机关确认或重新出具已获取信息",
)
_OTHER_2021 = (
    "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "其他",
)
_GROUPS = {
    "t3.denied": ("三", "不予公开"),
    "t3.unavailable": ("四", "无法提供"),
    "t3.not_processed": ("五", "不予处理"),
}
_GROUP_ITEMS = {"t3.denied": _DENIED, "t3.unavailable": _UNAVAILABLE, "t3.not_processed": _NOT_PROCESSED}


def _t3_labels(template: str, style: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each 表三 row's key and its three label cells (first level, second level, item)."""
    rows: list[tuple[str, list[str]]] = [
        ("t3.new", ["一、本年新收政府信息公开申请数量", "", ""]),
        ("t3.carried_over", ["二、上年结转政府信息公开申请数量", "", ""]),
        ("t3.granted", ["三、本年度办理结果", _paren(style, "一") + "予以公开", ""]),
        ("t3.partial", ["", _paren(style, "二") + style["partial"], ""]),
    ]
    for group, items in _GROUP_ITEMS.items():
        numeral, name = _GROUPS[group]
        row_keys = [spec.key for spec in T3_ROWS[template] if spec.key.startswith(group + ".")]
        for number, (key, text) in enumerate(zip(row_keys, items, strict=True), start=1):
            rows.append((key, ["", _paren(style, numeral) + name if number == 1 else "", _item(style, number, text)]))
    if template == "2019":
        rows.append(("t3.other_handling", ["", _paren(style, "六") + "其他处理", ""]))
    else:
        keys = ("t3.other_handling.no_correction", "t3.other_handling.unpaid_fee", "t3.other_handling.other")
        for number, (key, text) in enumerate(zip(keys, _OTHER_2021, strict=True), start=1):
            rows.append(
                (key, ["", _paren(style, "六") + "其他处理" if number == 1 else "", _item(style, number, text)])
            )
    rows.append(("t3.total_handled", ["", _paren(style, "七") + "总计", ""]))
    rows.append(("t3.carried_forward", ["四、结转下年度继续办理", "", ""]))
    return rows


def _spaced(rng: random.Random, text: str, plan: Plan) -> str:
    """Text as a narrow column prints it: "商 业 企 业", or "5.属于 三类内 部事务 信息"."""
    plan.applied.add("spaced_text")
    if len(text) <= 6:
        return " ".join(text)
    step = rng.choice((3, 3, 4))
    start = text.find(".") + 1 if "." in text[:3] else 0
    return text[:start] + " ".join(text[i : i + step] for i in range(start, len(text), step))


_NOTE = "(本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和)"
_FULL_WIDTH_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
_T3_HEADERS = (
    # 003 / full-2021
    (
        [_NOTE, "", "申请人情况", "", "", "", "", "", "总计", ""],
        ["", "", "自然人", "法人或其他组织", "", "", "", "", "", ""],
        ["", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "", ""],
    ),
    # 002
    (
        [_NOTE, "", "申请人情况", "", "", "", "", "", "", ""],
        ["", "", "自然人", "法人或其他组织", "", "", "", "", "总计", ""],
        ["", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "", ""],
    ),
    # huaian (PDF)
    (
        [_FULL_WIDTH_NOTE, "", "", "申请人情况", "", "", "", "", "", ""],
        ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
        ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
    ),
)
_T3_HEADER_001 = (
    "（本列数据的勾稽关系为：第\t申请人情况",
    "---------------\t-------",
    "",
    "一项加第二项之和，等于第三项加第四项之和)\t\t自然人\t法人或其他组织\t\t\t\t\t总计",
    "\t\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t",
)
_T4_HEADERS = (
    (
        "行政复议\t\t\t\t\t行政诉讼\t\t\t\t\t\t\t\t\t",
        "结果 维持\t结果 纠正\t其他 结果\t尚未 审结\t总计\t未经复议直接起诉\t\t\t\t\t复议后起诉\t\t\t\t",
        "\t\t\t\t\t结果 维持\t结果 纠正\t其他 结果\t尚未 审结\t总计\t结果 维持\t结果 纠正\t其他 结果\t尚未 审结\t总计",
    ),
    (
        "行政复议\t\t\t\t\t行政诉讼\t\t\t\t\t\t\t\t\t",
        "结果 维持\t结果 纠正\t其他 结果\t尚 未 审 结\t总 计\t未经复议直接起诉\t\t\t\t\t复议后起诉\t\t\t\t",
        "\t\t\t\t\t结 果 维 持\t结 果 纠 正\t其 他 结 果\t尚 未 审 结\t总 计"
        "\t结 果 维 持\t结 果 纠 正\t其 他 结 果\t尚 未 审 结\t总 计",
    ),
    (
        "行政复议\t\t\t\t\t行政诉讼\t\t\t\t\t\t\t\t\t",
        "结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t未经复议直接起诉\t\t\t\t\t复议后起诉\t\t\t\t",
        "\t\t\t\t\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计",
    ),
)

_T4_OUTCOME_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")

_T2_LABELS = {
    "t2.rules": "规章",
    "t2.normative": "规范性文件",
    "t2.licensing": "行政许可",
    "t2.other_services": "其他对外管理服务事项",
    "t2.penalty": "行政处罚",
    "t2.coercion": "行政强制",
    "t2.fees": "行政事业性收费",
    "t2.procurement": "政府集中采购",
}


def _t2_groups(plan: Plan) -> list[tuple[str, list[str], list[str]]]:
    """表二's groups: heading, header cells, rows (key prefixes)."""
    item = plan.style["t2_item"]
    if plan.template == "2019":
        totals = plan.style["total_published"]
        prev, change = plan.style["prev_items"], plan.style["change"]
        return [
            (item + "（一）项", ["信息内容", "本年新制作数量", "本年新公开数量", totals], ["t2.rules", "t2.normative"]),
            (item + "（五）项", ["信息内容", prev, change, "处理决定数量"], ["t2.licensing", "t2.other_services"]),
            (item + "（六）项", ["信息内容", prev, change, "处理决定数量"], ["t2.penalty", "t2.coercion"]),
            (item + "（八）项", ["信息内容", prev, change, ""], ["t2.fees"]),
            (item + "（九）项", ["信息内容", "采购项目数量", "采购总金额", ""], ["t2.procurement"]),
        ]
    repealed = "本年度止件数" if "misprint_header" in plan.damage else "本年废止件数"
    return [
        (item + "（一）项", ["信息内容", "本年制发件数", repealed, "现行有效件数"], ["t2.rules", "t2.normative"]),
        (item + "（五）项", ["信息内容", "本年处理决定数量", "", ""], ["t2.licensing"]),
        (item + "（六）项", ["信息内容", "本年处理决定数量", "", ""], ["t2.penalty", "t2.coercion"]),
        (item + "（八）项", ["信息内容", "本年收费金额（单位：万元）", "", ""], ["t2.fees"]),
    ]


def _t2_label(plan: Plan, row: str) -> str:
    if row == "t2.normative" and plan.template == "2021":
        return plan.style["t2_normative_2021"]
    return _T2_LABELS[row]


def _row_cells(plan: Plan, row: str, columns: Sequence[str]) -> list[str]:
    """A row's printed value cells."""
    if row in plan.blank_rows or row.split(".")[0] in plan.blank_tables:
        return ["" for _ in columns]
    return [plan.cells[f"{row}.{column}"] for column in columns]


def _columns(plan: Plan, row: str) -> tuple[str, ...]:
    return _columns_of(plan.template)[row]


def _choose_style(rng: random.Random, plan: Plan) -> None:
    spaced = "spaced_text" in plan.damage
    style = plan.style
    style.update(
        paren=rng.choice(("ascii", "ascii", "tight", "full")),
        dot=rng.choice((".", ".", "、", ". ")),
        partial=rng.choice(
            (
                "部分公开(区分处理的, 只计这一情形, 不计其他情形)",
                "部分公开（区分处理的，只计这一情形，不计其他情形）",
                "部分公开 (区分处理的，只计这一情形，不计其他情形)",
            )
        ),
        t3_layout=rng.choice(("003", "003", "004", "huaian")),
        t3_header=rng.randrange(len(_T3_HEADERS) + (1 if spaced else 0)),
        t4_header=rng.randrange(len(_T4_HEADERS)),
        t2_item=rng.choice(("第二十条第", "第二十条第", "第二十条 第")),
        total_published=rng.choice(("对外公开总数量", "对外公开总数量", "对外公开总量")),
        prev_items=rng.choice(("上一年 项目数量", "上一年项目数量")) if spaced else "上一年项目数量",
        change=rng.choice(("本年 增/减", "本年增/减")) if spaced else "本年增/减",
        t2_normative_2021=rng.choice(("行政规范性文件", "行政规范性文件", "规范性文件")),
        markdown="markdown" in plan.damage,
        doc_number=rng.random() < 0.2,
        title_split=rng.random() < 0.05,
        title_spaces=rng.choice(
            (
                "{o} {y} 年政府信息公开工作年度报告",
                "{o}{y}年政府信息公开工作年度报告",
                "{o} {y} 年度政府信息公开工作年度报告",
                "{o} {y} 年政府信息公开工作 年度报告",
                "{o} {y} 年政府信息公开工作 年度 报 告",
            )
        ),
        heading_split=rng.random() < 0.05,
        rule_lines="rule_lines" in plan.damage,
        page=rng.randint(1, 3),  # the page before the first page break in the tables
    )


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


def _title(plan: Plan) -> str:
    """The title as the text prints it on one line, its spaces included."""
    if plan.title_year is None:
        return plan.organ + plan.style["title_report"]
    return plan.style["title_spaces"].format(o=plan.organ, y=plan.title_year)


def _plain_title(plan: Plan) -> str:
    """The title as a portal's 名称 and the renderings print it: no spaces, "…2022年政府信息公开工作年度报告"."""
    if plan.title_year is None:
        return plan.organ + plan.style["title_report"]
    return f"{plan.organ}{plan.title_year}年政府信息公开工作年度报告"


def _break_title(title: str, at: int) -> list[str]:
    """`title` over two lines, broken after its `at`-th character (spaces not counted)."""
    at = max(1, min(at, len(title.replace(" ", "")) - 1))
    seen = 0
    for index, char in enumerate(title):
        seen += not char.isspace()
        if seen == at:
            return [title[: index + 1].strip(), title[index + 1 :].strip()]
    raise ValueError(f"{title!r} has no character {at}")


def _title_lines(plan: Plan) -> list[str]:
    """The title's lines in the text (and the PDF): one, the organ above the rest, or wrapped at any character."""
    if "title_wrap" in plan.damage:
        return _break_title(_title(plan), plan.style["title_break"])
    if plan.style["title_split"]:
        return [plan.organ, _plain_title(plan).removeprefix(plan.organ)]
    return [_title(plan)]


def _publisher(plan: Plan) -> str:
    """A portal's 发布机构: the organ, or the office that publishes for it (the gold organ stays the title's)."""
    kind = plan.style.get("publisher", "organ")
    if kind == "site_office" and not _site(plan).endswith("办公室"):
        return _site(plan) + "办公室"
    if kind == "organ_office" and not plan.organ.endswith("办公室"):
        return plan.organ + ("党政办公室" if plan.kind in ("street", "town") else "办公室")
    return plan.organ


_BUTTONS = ("【字体：大 中 小】【打印】", "【字体：大 中 小】【打印】【关闭】", "【字号：大 中 小】【打印本页】")


def _header_rows(plan: Plan, wording: random.Random) -> list[list[str]]:
    """crawler_header: the page's lines above the title, as a crawler saves them."""
    site = _site(plan)
    crumbs = (
        "首页 > 政务公开 > 政府信息公开 > 政府信息公开年报",
        "当前位置：首页 > 信息公开 > 法定主动公开内容 > 政府信息公开年度报告",
        "您当前的位置：首页 > 政务公开 > 政府信息公开年报",
        "首页 > 政府信息公开 > 年度报告",
    )
    when = f"发布时间：{plan.published} {wording.randint(8, 18):02d}:{wording.randint(0, 59):02d}"
    source = f"来源：{wording.choice((plan.organ, plan.organ, _publisher(plan)))}"
    cells = [when, source] + ([f"浏览次数：{wording.randint(20, 3000)}"] if wording.random() < 0.6 else [])
    return [
        [wording.choice((f"{site}门户网站", f"{site}网站", site))],
        [wording.choice(crumbs)],
        ["  ".join(cells)] if wording.random() < 0.6 else cells,  # one line, or a cell each
        [wording.choice(_BUTTONS)],
    ]


def _portal_rows(plan: Plan, wording: random.Random) -> list[list[str]]:
    """portal_meta: the portal's metadata table above the title, as CMS pages print it."""
    year = int(plan.published[:4])
    if wording.random() < 0.6:
        index = f"{wording.randint(0, 10**9 - 1):09d}/{year}-{wording.randint(1, 99999):05d}"
    else:
        code = f"11{wording.randint(0, 10**6 - 1):06d}{wording.randint(0, 10**9 - 1):09d}"  # a credit code
        index = f"{code}{wording.choice('0123456789X')}/{year}-{wording.randint(1, 999):05d}"
    published = plan.published
    if wording.random() < 0.3:
        published = "{}年{}月{}日".format(*plan.published.split("-"))
    title = _plain_title(plan)
    names = [("名称", title)]
    roll = wording.random()
    if roll < 0.3:
        names = [("标题", title)]
    elif roll < 0.6:
        names.append(("标题", title))
    number = plan.doc_number if plan.style["doc_number"] else ""
    topic = wording.choice(("政务公开", "政务公开", "综合政务/政务公开", "其他"))
    fields = [("索引号", index), ("发布机构", _publisher(plan)), ("发文日期", published)]
    rest = [("主题分类", topic), ("文号", number), ("有效性", "有效")]
    form = wording.choice(("inline", "pairs", "lines"))
    if form == "inline":  # "索引号：…" cells, three to a row
        return [
            [f"{label}：{value}" for label, value in fields],
            *[[f"{label}：{value}"] for label, value in names],
            [f"{label}：{value}" for label, value in rest if value],
        ]
    if form == "pairs":  # label and value in cells of their own, two pairs to a row (an empty value left blank)
        pairs = [fields[0], rest[0], fields[1], fields[2], rest[1], rest[2]]
        rows = [[f"{a}：", x, f"{b}：", y] for (a, x), (b, y) in zip(pairs[::2], pairs[1::2], strict=True)]
        return rows + [[f"{label}：", value] for label, value in names]
    return [[f"{label}：{value}"] for label, value in [*fields, *names, *rest] if value]


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


# ---------------------------------------------------------------------------- PDF

_FONT = "STSong-Light"  # reportlab's built-in CID font: no font file needed, and its text layer reads back as Unicode
_PAGE_WIDTH = 495.0  # A4 (595pt) less 50pt margins


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
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

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

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(_FONT, 10)
        canvas.drawCentredString(A4[0] / 2, 30, f"- {doc.page} -")
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
    document.build(story, onFirstPage=footer, onLaterPages=footer)


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


def _site(plan: Plan) -> str:
    """The government whose portal publishes the report: the organ's city or county, or the organ."""
    for end in ("市", "县", "区"):
        if end in plan.organ:
            return plan.organ[: plan.organ.index(end) + 1] + "人民政府"
    return plan.organ


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


# ---------------------------------------------------------------------------- the API


def generate(seed: int, index: int) -> Synthetic:
    """Report `index` of the series `seed`: the same pair always gives the same report."""
    plan, rng, wording = _plan(seed, index)
    _choose_style(rng, plan)
    _choose_wording(wording, plan)
    name = f"syn-{seed}-{index:06d}"
    gold = _gold(plan, name + ".txt")
    plan.prose = _prose(rng, plan, gold["fields"], wording)
    abbreviation = plan.organ[:2] + rng.choice(("政办", "办", "发"))
    plan.doc_number = f"{abbreviation}〔{plan.year + 1}〕{rng.randint(1, 30)}号"
    plan.date = f"{plan.year + 1}年{rng.randint(1, 3)}月{rng.randint(1, 28)}日" if rng.random() < 0.6 else ""
    if plan.date:
        published = tuple(int(part) for part in re.findall(r"\d+", plan.date))
    else:
        published = (plan.year + 1, wording.randint(1, 3), wording.randint(1, 28))
    plan.published = "{}-{:02d}-{:02d}".format(*published)
    if "crawler_header" in plan.damage:
        plan.header = _header_rows(plan, wording)
        if wording.random() < 0.5:
            plan.footer = ["【打印本页】【关闭窗口】", f"主办单位：{_site(plan)}办公室"]
    if "portal_meta" in plan.damage:
        plan.portal = _portal_rows(plan, wording)
    text = _render_text(plan, rng)
    if plan.template == "2019" and " " in plan.style["prev_items"] + plan.style["change"]:
        plan.applied.add("spaced_text")
    plan.damage = {kind for kind in plan.damage if kind not in _LAYOUT_DAMAGE or kind in plan.applied}
    return Synthetic(name=name, text=text, gold=gold, damage=tuple(sorted(plan.damage)), plan=plan)


def _choose_wording(wording: random.Random, plan: Plan) -> None:
    """How the report names itself: the year-less title's words, where a wrapped title breaks, who publishes it."""
    government = plan.organ.endswith("政府") and wording.random() < 0.5
    plan.style["title_report"] = "信息公开工作年度报告" if government else "政府信息公开工作年度报告"
    plan.style["title_break"] = wording.randint(1, len(_title(plan).replace(" ", "")) - 1)  # any character
    plan.style["publisher"] = _weighted(wording, (("organ", 0.6), ("site_office", 0.25), ("organ_office", 0.15)))


def _write_gold(gold: Gold, path: Path) -> None:
    path.write_text(json.dumps(gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_text(s: Synthetic, folder: Path) -> Path:
    """NAME.txt and NAME.gold.json in `folder`; returns the text's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{s.name}.txt"
    path.write_text(s.text, encoding="utf-8")
    _write_gold({**s.gold, "source": path.name}, folder / f"{s.name}.gold.json")
    return path


def write_pdf(s: Synthetic, folder: Path) -> Path:
    """NAME.pdf (A4, CJK text layer, ruled tables) and NAME.gold.json in `folder`; returns the PDF's path."""
    if s.plan is None:
        raise ValueError(f"{s.name}: no plan to draw (make it with generate())")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{s.name}.pdf"
    _draw_pdf(s.plan, path)
    _write_gold({**s.gold, "source": path.name}, folder / f"{s.name}.gold.json")
    return path


def render(s: Synthetic, kind: str) -> str:
    """The whole report as rendering `kind` (one of RENDERINGS) shows it: the same cells, so the same gold."""
    if s.plan is None:
        raise ValueError(f"{s.name}: no plan to render (make it with generate())")
    if kind not in _RENDERERS:
        raise ValueError(f"unknown rendering {kind!r}; known: {', '.join(RENDERINGS)}")
    return _RENDERERS[kind](s.plan, random.Random(f"nianbao-rendering:{s.name}:{kind}"))


def write_rendering(s: Synthetic, folder: Path, kind: str) -> Path:
    """NAME-KIND.md/.txt/.html and NAME-KIND.gold.json in `folder`; returns the rendering's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{s.name}-{kind}.{_SUFFIXES[kind]}"
    path.write_text(render(s, kind), encoding="utf-8")
    _write_gold({**s.gold, "source": path.name}, folder / f"{s.name}-{kind}.gold.json")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write synthetic annual reports with their gold files.")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=int, default=0, help="index of the first report")
    parser.add_argument("--pdf-every", type=int, default=0, help="also draw every Nth report as a PDF (into OUT/pdf)")
    parser.add_argument(
        "--renderings", action="store_true", help="also write every report in every rendering (into OUT/<kind>)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pdfs = 0
    for index in range(args.start, args.start + args.count):
        s = generate(args.seed, index)
        write_text(s, args.out)
        if args.pdf_every and index % args.pdf_every == 0:
            write_pdf(s, args.out / "pdf")
            pdfs += 1
        for kind in RENDERINGS if args.renderings else ():
            write_rendering(s, args.out / kind, kind)
    elapsed = time.perf_counter() - started
    rendered = f", each also as {', '.join(RENDERINGS)}" if args.renderings else ""
    print(f"{args.count} text reports{rendered}, and {pdfs} PDFs in {args.out} ({elapsed:.1f}s)")


if __name__ == "__main__":
    main()

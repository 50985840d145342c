"""The national template, declared as data: sections, rows, columns and the words that identify them.

Row patterns are matched against a row's *normalised* label (see `normalise`):
whitespace removed, full-width punctuation folded, "、" read as ".". They are
short on purpose, so a label split over lines or cut at a page break still matches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from schemas.report import Template

APPLICANTS = ("natural", "commercial", "research", "social", "legal", "other", "total")
OUTCOMES = ("upheld", "corrected", "other", "pending", "total")
T4_BLOCKS = ("reconsideration", "litigation_direct", "litigation_after")


@dataclass(frozen=True)
class RowSpec:
    key: str  # flat key prefix, e.g. "t3.denied.state_secret"
    pattern: re.Pattern[str]
    columns: tuple[str, ...]

    def cell_keys(self) -> list[str]:
        return [f"{self.key}.{column}" for column in self.columns]


_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub("", text)
    return text.replace("、", ".").replace("．", ".")


def _rows(columns: tuple[str, ...], *specs: tuple[str, str]) -> tuple[RowSpec, ...]:
    return tuple(RowSpec(key, re.compile(pattern), columns) for key, pattern in specs)


# 表二: the label must start the row, since prose in the section may mention these words.
_T2_2019 = (
    _rows(("made", "published", "total_published"), ("t2.rules", r"^规章"), ("t2.normative", r"^规范性文件"))
    + _rows(
        ("prev_items", "change", "decisions"),
        ("t2.licensing", r"^行政许可"),
        ("t2.other_services", r"^其他对外管理服务"),
        ("t2.penalty", r"^行政处罚"),
        ("t2.coercion", r"^行政强制"),
    )
    + _rows(("prev_items", "change"), ("t2.fees", r"^行政事业性收费"))
    + _rows(("items", "amount"), ("t2.procurement", r"^政府集中采购"))
)
_T2_2021 = (
    _rows(("issued", "repealed", "in_force"), ("t2.rules", r"^规章"), ("t2.normative", r"^(行政)?规范性文件"))
    + _rows(
        ("decisions",),
        ("t2.licensing", r"^行政许可"),
        ("t2.penalty", r"^行政处罚"),
        ("t2.coercion", r"^行政强制"),
    )
    + _rows(("amount",), ("t2.fees", r"^行政事业性收费"))
)

_T3_HEAD = (
    ("t3.new", r"本年新收"),
    ("t3.carried_over", r"上年结转"),
    ("t3.granted", r"予以公开"),
    ("t3.partial", r"部分公开"),
    ("t3.denied.state_secret", r"国家秘密"),
    ("t3.denied.law_forbidden", r"禁止公开"),
    ("t3.denied.three_safety", r"三安全|一稳定"),
    ("t3.denied.third_party", r"第三方"),
    ("t3.denied.internal_affairs", r"内部事务"),
    ("t3.denied.process_info", r"过程性"),
    ("t3.denied.enforcement_file", r"执法案卷"),
    ("t3.denied.admin_query", r"行政查询|查询事项"),
    ("t3.unavailable.not_held", r"不掌握"),
    ("t3.unavailable.needs_creation", r"另行制作|现成信息"),
    ("t3.unavailable.unclear", r"仍不明确"),
    ("t3.not_processed.complaint", r"信访|举报投诉"),
    ("t3.not_processed.duplicate", r"重复申请"),
    ("t3.not_processed.publication", r"出版物"),
    ("t3.not_processed.excessive", r"大量反复"),
    ("t3.not_processed.confirmation", r"重新出具|确认或"),
)
_T3_TAIL = (
    ("t3.total_handled", r"七\)?总计"),
    ("t3.carried_forward", r"结转下年"),
)
_T3_OTHER_2019 = (("t3.other_handling", r"其他处理"),)
_T3_OTHER_2021 = (
    ("t3.other_handling.no_correction", r"不补正"),
    ("t3.other_handling.unpaid_fee", r"缴纳费用|收费通知"),
    ("t3.other_handling.other", r"3\.其他(?!法律)"),
)

T2_ROWS: dict[Template, tuple[RowSpec, ...]] = {"2019": _T2_2019, "2021": _T2_2021}
T3_ROWS: dict[Template, tuple[RowSpec, ...]] = {
    "2019": _rows(APPLICANTS, *_T3_HEAD, *_T3_OTHER_2019, *_T3_TAIL),
    "2021": _rows(APPLICANTS, *_T3_HEAD, *_T3_OTHER_2021, *_T3_TAIL),
}
# 表四 prints its fifteen numbers in one row, block by block.
T4_KEYS: tuple[str, ...] = tuple(f"t4.{block}.{outcome}" for block in T4_BLOCKS for outcome in OUTCOMES)

# Section headings ("二、主动公开政府信息情况" …), matched against a normalised line.
SECTION_HEADINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("t2", re.compile(r"^[一二三四五六七八九十]+\.?主动公开政府信息")),
    ("t3", re.compile(r"^[一二三四五六七八九十]+\.?收到和处理")),
    ("t4", re.compile(r"^[一二三四五六七八九十]+\.?(政府信息公开)?行政复议.{0,2}行政诉讼")),
    ("end", re.compile(r"^[一二三四五六七八九十]+\.?(存在的主要问题|其他需要报告)")),
)
# Table rows that open a section even where its heading is missing or mangled.
SECTION_ANCHORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("t2", re.compile(r"^第二十条第")),
    ("t3", re.compile(r"勾稽关系|^一\.本年新收")),
    ("t4", re.compile(r"^行政复议行政诉讼")),
)

# Header rows of the tables: never part of a row's label, even where a label is split under them.
TABLE_HEADER = re.compile(r"^(信息内容|第二十条)|勾稽关系|^申请人情况|^自然人|^法人或其他组织|^商业企业")

# Header words that tell the template versions apart. "本年度止件数" is a known misprint of 本年废止件数.
TEMPLATE_SIGNALS: dict[Template, re.Pattern[str]] = {
    "2019": re.compile(r"本年新制作数量|本年新公开数量|对外公开总数?量|上一年项目数量|政府集中采购|采购总金额"),
    "2021": re.compile(r"本年制发件数|本年.?止件数|现行有效件数|本年收费金额|不补正|收费通知"),
}

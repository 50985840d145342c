"""Who and when: the title (organ and year, wrapped or not), the publishing site and office, a portal's and a
web page's rows above the title, and the report's choice of these wordings.

What is drawn here is drawn from the `wording` stream (nianbao-meta:…), never the plan's, so the tables and
layout of every report stay as they were before these kinds were added.
"""

from __future__ import annotations

import random

from .plan import Plan
from .values import _weighted


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


def _site(plan: Plan) -> str:
    """The government whose portal publishes the report: the organ's city or county, or the organ."""
    for end in ("市", "县", "区"):
        if end in plan.organ:
            return plan.organ[: plan.organ.index(end) + 1] + "人民政府"
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


def _choose_wording(wording: random.Random, plan: Plan) -> None:
    """How the report names itself: the year-less title's words, where a wrapped title breaks, who publishes it."""
    government = plan.organ.endswith("政府") and wording.random() < 0.5
    plan.style["title_report"] = "信息公开工作年度报告" if government else "政府信息公开工作年度报告"
    plan.style["title_break"] = wording.randint(1, len(_title(plan).replace(" ", "")) - 1)  # any character
    plan.style["publisher"] = _weighted(wording, (("organ", 0.6), ("site_office", 0.25), ("organ_office", 0.15)))

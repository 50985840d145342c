"""Table labels and headers as reports print them, the cells of each row, and a report's choice of style."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from schemas.template import T3_ROWS

from .plan import Plan, _columns_of

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

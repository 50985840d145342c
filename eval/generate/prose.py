"""The report's prose: the narrative around the tables, consistent with them, and the statistics period sentence."""

from __future__ import annotations

import random

from .meta import _publisher
from .plan import Plan
from .values import Number

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

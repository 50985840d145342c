"""What a report is about, drawn from its plan's stream: the organ (names and words) and its tables' numbers."""

from __future__ import annotations

import random
from collections.abc import Sequence

from schemas.template import APPLICANTS, OUTCOMES, T3_ROWS, T4_BLOCKS

Number = int | float


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

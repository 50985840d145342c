"""The measures a team chooses a model, a prompt or a threshold by, from a scorecard.

Every measure is over reports or cells, overall and per template, table and input format:
- cells split by outcome (`extractor.evaluate.CELL_OUTCOMES`) and field accuracy;
- report accuracy: the share with every cell right;
- auto-accept precision: of the `verified` reports, the share entirely right, with a Wilson 95% interval;
- coverage: the share auto-accepted (`verified`);
- flag recall: of the reports with any wrong cell (organ and year included), the share not verified;
- source-inconsistency recall and precision, over (report, relation) pairs, against gold's;
- LLM cost: tokens, USD, latency p50/p95, attempts per report, cache hits.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from extractor.evaluate import CELL_OUTCOMES, RIGHT, ReportScore, Scorecard

Z_95 = 1.959963984540054  # the normal quantile for a two-sided 95% interval


@dataclass(frozen=True)
class Share:
    """k of n, as a share, with its Wilson 95% interval (None when n is 0)."""

    k: int
    n: int

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.k, self.n) if self.n else None

    def as_json(self) -> dict[str, object]:
        return {"k": self.k, "n": self.n, "value": self.value, "interval": self.interval}


def wilson(k: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for k successes in n trials: sound at 0, at n and for small n."""
    if n <= 0:
        raise ValueError("a Wilson interval needs at least one trial")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(values: Iterable[float], p: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class CellMeasures:
    outcomes: dict[str, int]  # each of CELL_OUTCOMES: how many cells

    @property
    def cells(self) -> int:
        return sum(self.outcomes.values())

    @property
    def accuracy(self) -> Share:
        return Share(sum(self.outcomes[o] for o in RIGHT), self.cells)

    def as_json(self) -> dict[str, object]:
        return {"cells": self.cells, "accuracy": self.accuracy.value, **self.outcomes}


def cell_measures(reports: Iterable[ReportScore], table: str | None = None) -> CellMeasures:
    counts = Counter(
        outcome
        for report in reports
        for key, outcome in report.cells.items()
        if table is None or key.split(".")[0] == table
    )
    return CellMeasures({outcome: counts[outcome] for outcome in CELL_OUTCOMES})


@dataclass(frozen=True)
class Cost:
    reports: int
    tokens_in: int
    tokens_out: int
    usd: float | None  # None when the price table knows no model used
    report_seconds_p50: float | None
    report_seconds_p95: float | None
    call_ms_p50: float | None
    call_ms_p95: float | None
    attempts: dict[int, int]  # LLM calls per report → how many reports
    calls: int
    cache_hits: int

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def cost_of(reports: list[ReportScore]) -> Cost:
    costs = [r.cost for r in reports if r.cost is not None]
    seconds = [r.seconds for r in reports if r.seconds is not None]
    calls = [ms for r in reports for ms in r.call_latencies_ms]
    return Cost(
        reports=len(reports),
        tokens_in=sum(r.tokens_in for r in reports),
        tokens_out=sum(r.tokens_out for r in reports),
        usd=sum(costs) if costs else None,
        report_seconds_p50=percentile(seconds, 50),
        report_seconds_p95=percentile(seconds, 95),
        call_ms_p50=percentile(calls, 50),
        call_ms_p95=percentile(calls, 95),
        attempts=dict(sorted(Counter(r.attempts for r in reports).items())),
        calls=sum(r.attempts for r in reports),
        cache_hits=sum(r.cache_hits for r in reports),
    )


@dataclass(frozen=True)
class Measures:
    reports: int
    cells: CellMeasures
    report_accuracy: Share  # every cell right
    precision: Share  # of the verified reports, the share entirely right
    coverage: Share  # of all reports, the share verified
    flag_recall: Share  # of the reports with a wrong cell (organ, year included), the share not verified
    inconsistency_recall: Share  # of gold's (report, relation) inconsistencies, the share flagged
    inconsistency_precision: Share  # of the flagged (report, relation) inconsistencies, the share in gold
    cost: Cost

    def as_json(self) -> dict[str, object]:
        shares = (
            "report_accuracy",
            "precision",
            "coverage",
            "flag_recall",
            "inconsistency_recall",
            "inconsistency_precision",
        )
        return {
            "reports": self.reports,
            "cells": self.cells.as_json(),
            **{name: getattr(self, name).as_json() for name in shares},
            "cost": self.cost.as_json(),
        }


def measure(reports: list[ReportScore]) -> Measures:
    verified = [r for r in reports if r.status == "verified"]
    wrong = [r for r in reports if not r.entirely_right]
    expected = {(r.source, rid) for r in reports for rid in r.inconsistencies_expected}
    flagged = {(r.source, rid) for r in reports for rid in r.inconsistencies_flagged}
    return Measures(
        reports=len(reports),
        cells=cell_measures(reports),
        report_accuracy=Share(sum(r.exact for r in reports), len(reports)),
        precision=Share(sum(r.entirely_right for r in verified), len(verified)),
        coverage=Share(len(verified), len(reports)),
        flag_recall=Share(sum(r.status != "verified" for r in wrong), len(wrong)),
        inconsistency_recall=Share(len(expected & flagged), len(expected)),
        inconsistency_precision=Share(len(expected & flagged), len(flagged)),
        cost=cost_of(reports),
    )


# Groups ----------------------------------------------------------------------------------------

REPORT_GROUPS: dict[str, Callable[[ReportScore], str]] = {
    "template": lambda report: report.template,
    "format": lambda report: report.format,
}


def by_group(card: Scorecard) -> dict[str, dict[str, Measures]]:
    """Report measures per template and per input format."""
    grouped: dict[str, dict[str, Measures]] = {}
    for name, key_of in REPORT_GROUPS.items():
        values = sorted({key_of(report) for report in card.reports})
        grouped[name] = {value: measure([r for r in card.reports if key_of(r) == value]) for value in values}
    return grouped


def by_table(card: Scorecard) -> dict[str, CellMeasures]:
    tables = sorted({key.split(".")[0] for report in card.reports for key in report.cells})
    return {table: cell_measures(card.reports, table) for table in tables}


def worst_fields(card: Scorecard, count: int = 20) -> list[tuple[str, int, int]]:
    """The fields most often wrong: (key, wrong, reports), worst first; only fields ever wrong."""
    per_field = card.per_field
    ranked = sorted(((key, oks.count(False), len(oks)) for key, oks in per_field.items()), key=lambda f: (-f[1], f[0]))
    return [entry for entry in ranked if entry[1]][:count]


# Risk and coverage -----------------------------------------------------------------------------

# What makes a verified report riskier, each a knob for a stricter acceptance rule: accept only the
# verified reports whose knob is at most a threshold. OCR doubt: 1 - the least sure OCR-read cell's confidence.
RISK_KNOBS: dict[str, Callable[[ReportScore], float]] = {
    "warnings": lambda report: report.warnings,
    "attempts": lambda report: report.attempts,
    "OCR doubt": lambda report: 1 - report.ocr_confidence if report.ocr_confidence is not None else 0.0,
}


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    coverage: float  # the share of all reports accepted
    precision: float | None  # of those accepted, the share entirely right
    accepted: int


def risk_coverage(card: Scorecard) -> dict[str, list[CurvePoint]]:
    """For each knob, precision against coverage as the rule is tightened from all verified down to none."""
    total = len(card.reports)
    verified = [r for r in card.reports if r.status == "verified"]
    curves = {}
    for name, knob in RISK_KNOBS.items():
        thresholds = sorted({knob(r) for r in verified}, reverse=True)
        points = []
        for threshold in thresholds:
            accepted = [r for r in verified if knob(r) <= threshold]
            right = sum(r.entirely_right for r in accepted)
            points.append(CurvePoint(threshold, len(accepted) / total, right / len(accepted), len(accepted)))
        points.append(CurvePoint(-1, 0.0, None, 0))
        curves[name] = points
    return curves

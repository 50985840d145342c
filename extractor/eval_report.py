"""`nianbao eval --html FILE`: one self-contained, offline HTML page of an eval run.

Charts are matplotlib's SVG, inlined; the page loads nothing (its Content-Security-Policy forbids it)
and runs no script. Report text (file names, findings) is escaped by Jinja's autoescape.
Needs the `report` extra (matplotlib).
"""

from __future__ import annotations

import io
import re
from importlib import resources
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from extractor.errors import NianbaoError
from extractor.evaluate import Scorecard
from extractor.export import replaced
from extractor.measures import CellMeasures, Measures, by_group, by_table, measure, risk_coverage, worst_fields

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class ReportExtraMissing(NianbaoError):
    def __init__(self) -> None:
        super().__init__("the HTML report draws its charts with matplotlib: pip install 'nianbao[report]'")


def write_html(card: Scorecard, path: Path, title: str, run: dict[str, Any] | None = None) -> None:
    page = render(card, title, run)
    with replaced(path) as temporary:
        temporary.write_text(page, "utf-8")


def render(card: Scorecard, title: str, run: dict[str, Any] | None = None) -> str:
    overall = measure(card.reports)
    groups = by_group(card)
    tables = by_table(card)
    charts = {
        "accuracy": _svg(_accuracy_chart(tables, groups)),
        "risk": _svg(_risk_chart(card)),
        "cost": _svg(_cost_chart(card)),
    }
    return _template().render(
        title=title,
        run={"id": None, "backend": None, "model": None, "gold": None} | (run or {}),
        nianbao=package_version("nianbao"),
        overall=overall,
        groups=groups,
        tables=tables,
        worst=worst_fields(card),
        reports=sorted(card.reports, key=lambda r: (r.outcome != "verified-wrong", r.right - r.total, r.source)),
        charts=charts,
    )


def _template() -> jinja2.Template:
    text = resources.files("extractor").joinpath("templates/eval_report.html").read_text("utf-8")
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["share"] = _share
    environment.filters["interval"] = _interval
    return environment.from_string(text)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def _interval(bounds: tuple[float, float] | None) -> str:
    return "–" if bounds is None else f"[{bounds[0]:.1%}, {bounds[1]:.1%}]"


# Charts -----------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ReportExtraMissing() from error
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "nianbao", "font.size": 9})
    return Figure(figsize=(width, height), layout="constrained")


def _svg(figure: Figure) -> Markup:
    """The figure as an inline <svg> element (no XML prolog, no timestamp): our own markup, not report text."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return Markup(re.sub(r"^.*?(?=<svg)", "", text, flags=re.S))


def _accuracy_chart(tables: dict[str, CellMeasures], groups: dict[str, dict[str, Measures]]) -> Figure:
    figure = _figure(9, 2.6)
    panels = {
        "by table": {name: m.accuracy.value for name, m in tables.items()},
        "by template": {name: m.cells.accuracy.value for name, m in groups["template"].items()},
        "by format": {name: m.cells.accuracy.value for name, m in groups["format"].items()},
    }
    for axes, (name, values) in zip(figure.subplots(1, 3), panels.items(), strict=True):
        labels = list(values)
        shares = [100 * (v or 0.0) for v in values.values()]
        axes.barh(labels, shares, color="#4c78a8")
        axes.set_xlim(0, 100)
        axes.set_title(f"field accuracy {name} (%)")
        for y, share in enumerate(shares):
            axes.text(min(share, 99), y, f"{share:.1f}", va="center", ha="right", color="white", fontsize=8)
    return figure


def _risk_chart(card: Scorecard) -> Figure:
    figure = _figure(5.5, 3.4)
    axes = figure.subplots()
    for name, points in risk_coverage(card).items():
        drawn = [p for p in points if p.precision is not None]
        axes.plot([100 * p.coverage for p in drawn], [100 * (p.precision or 0) for p in drawn], marker="o", label=name)
    axes.set_xlabel("auto-accepted (% of reports)")
    axes.set_ylabel("precision (% entirely right)")
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 102)
    axes.set_title("risk–coverage: the acceptance rule tightened by each knob")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    return figure


def _cost_chart(card: Scorecard) -> Figure:
    figure = _figure(9, 2.6)
    tokens_axes, attempts_axes = figure.subplots(1, 2)
    tokens = [r.tokens_in + r.tokens_out for r in card.reports]
    if any(tokens):
        tokens_axes.hist(tokens, bins=min(20, max(5, len(tokens) // 2)), color="#f58518")
    else:
        tokens_axes.text(0.5, 0.5, "no LLM calls", ha="center", va="center", transform=tokens_axes.transAxes)
    tokens_axes.set_title("tokens per report (in + out)")
    tokens_axes.set_ylabel("reports")
    histogram = measure(card.reports).cost.attempts
    attempts_axes.bar([str(k) for k in histogram], list(histogram.values()), color="#54a24b")
    attempts_axes.set_title("LLM calls per report")
    attempts_axes.set_ylabel("reports")
    return figure

"""Scoring results against hand-labelled gold: every cell's outcome, and what each report cost.

`score` compares cell by cell (exact match); `extractor.measures` turns the scores into the
measures a team decides by; `extractor.eval_runs` keeps them in the store.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath
from typing import Literal

from extractor.gold import Gold, load_gold
from extractor.relations import relations
from schemas.flat import Value
from schemas.result import Result

__all__ = ["CELL_OUTCOMES", "Gold", "ReportScore", "Scorecard", "load_gold", "same_value", "score"]

CellOutcome = Literal["value_right", "null_right", "wrong_value", "value_where_null", "null_where_value"]
CELL_OUTCOMES: tuple[CellOutcome, ...] = (
    "value_right",  # gold has a number and we read it
    "null_right",  # gold has no number and we read none
    "wrong_value",  # both have a number, not the same
    "value_where_null",  # we read a number where gold has none
    "null_where_value",  # we read none where gold has a number
)
RIGHT: frozenset[str] = frozenset({"value_right", "null_right"})
REPORT_OUTCOMES = ("verified-right", "verified-wrong", "flagged", "failed")

# An input's format as measures group it: by the file's suffix, "scanned" for a PDF read by OCR.
_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".docx": "docx", ".pdf": "pdf"}


def same_value(got: Value, want: Value) -> bool:
    """Exact match: null only for null; numbers by their printed value (24220 is 24220.0)."""
    if got is None or want is None:
        return got is want
    return Decimal(str(got)) == Decimal(str(want))


def cell_outcome(got: Value, want: Value) -> CellOutcome:
    if want is None:
        return "null_right" if got is None else "value_where_null"
    if got is None:
        return "null_where_value"
    return "value_right" if same_value(got, want) else "wrong_value"


def input_format(result: Result | None, source: str) -> str:
    """txt, md, html, docx, pdf, or scanned for a PDF any page of which was read by OCR."""
    kind = _FORMATS.get(PurePath(source).suffix.lower(), "other")
    if kind == "pdf" and result and any(f.rule.startswith("ocr.") for f in result.findings):
        return "scanned"
    return kind


@dataclass
class ReportScore:
    source: str
    status: str
    template: str  # gold's
    format: str
    cells: dict[str, CellOutcome]
    got: dict[str, Value]  # what was read, for the cells not right
    template_right: bool
    organ_right: bool
    year_right: bool
    inconsistencies_expected: list[str]
    inconsistencies_flagged: list[str]
    warnings: int = 0
    errors: int = 0
    findings: list[dict[str, object]] = field(default_factory=list)  # rule, severity, blame, cells, en
    attempts: int = 0  # LLM calls
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None
    cache_hits: int = 0
    call_latencies_ms: list[float] = field(default_factory=list)
    seconds: float | None = None  # wall time to extract the report, where this run extracted it
    ocr_confidence: float | None = None  # the least sure OCR-read cell's confidence; None if OCR read none

    @property
    def right(self) -> int:
        return sum(outcome in RIGHT for outcome in self.cells.values())

    @property
    def total(self) -> int:
        return len(self.cells)

    @property
    def wrong_keys(self) -> list[str]:
        return [key for key, outcome in self.cells.items() if outcome not in RIGHT]

    @property
    def exact(self) -> bool:
        """Every cell right, in the right template."""
        return self.total > 0 and self.right == self.total and self.template_right

    @property
    def meta_right(self) -> bool:
        return self.organ_right and self.year_right

    @property
    def entirely_right(self) -> bool:
        return self.exact and self.meta_right

    @property
    def outcome(self) -> str:
        """verified-right, verified-wrong, flagged or failed."""
        if self.status == "verified":
            return "verified-right" if self.entirely_right else "verified-wrong"
        return self.status


@dataclass
class Scorecard:
    reports: list[ReportScore] = field(default_factory=list)

    @property
    def per_field(self) -> dict[str, list[bool]]:
        found: dict[str, list[bool]] = defaultdict(list)
        for report in self.reports:
            for key, outcome in report.cells.items():
                found[key].append(outcome in RIGHT)
        return found

    @property
    def per_table(self) -> dict[str, list[bool]]:
        found: dict[str, list[bool]] = defaultdict(list)
        for key, oks in self.per_field.items():
            found[key.split(".")[0]] += oks
        return found

    @property
    def field_accuracy(self) -> float:
        cells = [outcome in RIGHT for report in self.reports for outcome in report.cells.values()]
        return sum(cells) / len(cells) if cells else 0.0

    @property
    def organ_accuracy(self) -> float:
        return sum(r.organ_right for r in self.reports) / len(self.reports) if self.reports else 0.0

    @property
    def year_accuracy(self) -> float:
        return sum(r.year_right for r in self.reports) / len(self.reports) if self.reports else 0.0

    def outcomes(self) -> dict[str, int]:
        counts = Counter(report.outcome for report in self.reports)
        return {outcome: counts[outcome] for outcome in REPORT_OUTCOMES}


def score(golds: list[Gold], results: dict[str, Result], seconds: dict[str, float] | None = None) -> Scorecard:
    """Each gold report's cells against its result (a missing result scores as failed)."""
    return Scorecard(
        [_score_report(gold, results.get(gold.source), (seconds or {}).get(gold.source)) for gold in golds]
    )


def _score_report(gold: Gold, result: Result | None, seconds: float | None) -> ReportScore:
    fields = result.fields if result and result.template == gold.template else {}
    cells = {key: cell_outcome(fields.get(key), want) for key, want in gold.fields.items()}
    findings = result.findings if result else []
    relation_ids = {relation.id for relation in relations(gold.template)}
    attempts = result.attempts if result else []
    return ReportScore(
        source=gold.source,
        status=result.status if result else "failed",
        template=gold.template,
        format=input_format(result, gold.source),
        cells=cells,
        got={key: fields.get(key) for key, outcome in cells.items() if outcome not in RIGHT},
        template_right=bool(result and result.template == gold.template),
        organ_right=bool(result and result.organ == gold.organ),
        year_right=bool(result and result.year == gold.year),
        inconsistencies_expected=sorted(gold.source_inconsistencies),
        inconsistencies_flagged=sorted({f.rule for f in findings if f.blame == "source" and f.rule in relation_ids}),
        warnings=sum(f.severity == "warning" for f in findings),
        errors=sum(f.severity == "error" for f in findings),
        findings=[
            {"rule": f.rule, "severity": f.severity, "blame": f.blame, "cells": f.cells[:8], "en": f.en}
            for f in findings
        ],
        attempts=len(attempts),
        tokens_in=sum(a.tokens_in for a in attempts),
        tokens_out=sum(a.tokens_out for a in attempts),
        cost=result.usage.cost if result and result.usage else None,
        cache_hits=sum(a.outcome == "cached" for a in attempts),
        call_latencies_ms=[a.latency_ms for a in attempts if a.outcome != "cached"],
        seconds=seconds,
        ocr_confidence=_least_ocr_confidence(result),
    )


def _least_ocr_confidence(result: Result | None) -> float | None:
    values = [p.confidence for p in result.provenance.values() if p.confidence is not None] if result else []
    return min(values) if values else None

"""Scoring results against hand-labelled gold files (exact match, cell by cell)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from extractor.relations import relations
from schemas.flat import Value, flat_keys
from schemas.report import Template
from schemas.result import Result


class Gold(BaseModel):
    """The spec's gold file."""

    model_config = ConfigDict(extra="forbid")

    source: str
    organ: str | None
    year: int | None
    template: Template
    fields: dict[str, int | Decimal | None]
    source_inconsistencies: list[str] = []


def load_gold(directory: Path) -> list[Gold]:
    golds = []
    for path in sorted(directory.glob("*.json")):
        gold = Gold.model_validate(json.loads(path.read_text("utf-8"), parse_float=Decimal))
        expected = set(flat_keys(gold.template))
        if set(gold.fields) != expected:
            raise ValueError(f"{path.name}: fields do not match the {gold.template} template's keys")
        golds.append(gold)
    return golds


def same_value(got: Value, want: Value) -> bool:
    """Exact match: null only for null; numbers by their printed value (24220 is 24220.0)."""
    if got is None or want is None:
        return got is want
    return Decimal(str(got)) == Decimal(str(want))


@dataclass
class ReportScore:
    source: str
    status: str
    right: int
    total: int
    template_right: bool
    organ_right: bool
    year_right: bool
    wrong_keys: list[str]
    inconsistencies_expected: list[str]
    inconsistencies_flagged: list[str]

    @property
    def exact(self) -> bool:
        return self.total > 0 and self.right == self.total

    @property
    def meta_right(self) -> bool:
        return self.organ_right and self.year_right

    @property
    def outcome(self) -> str:
        """verified-right, verified-wrong, flagged or failed."""
        if self.status == "verified":
            right = self.exact and self.template_right and self.meta_right
            return "verified-right" if right else "verified-wrong"
        return self.status


@dataclass
class Scorecard:
    reports: list[ReportScore] = field(default_factory=list)
    per_field: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    per_table: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))

    @property
    def field_accuracy(self) -> float:
        cells = [ok for oks in self.per_field.values() for ok in oks]
        return sum(cells) / len(cells) if cells else 0.0

    @property
    def organ_accuracy(self) -> float:
        return sum(r.organ_right for r in self.reports) / len(self.reports) if self.reports else 0.0

    @property
    def year_accuracy(self) -> float:
        return sum(r.year_right for r in self.reports) / len(self.reports) if self.reports else 0.0

    def outcomes(self) -> dict[str, int]:
        counts = dict.fromkeys(("verified-right", "verified-wrong", "flagged", "failed"), 0)
        for report in self.reports:
            counts[report.outcome] += 1
        return counts


def score(golds: list[Gold], results: dict[str, Result]) -> Scorecard:
    card = Scorecard()
    for gold in golds:
        result = results.get(gold.source)
        fields = result.fields if result and result.template == gold.template else {}
        wrong = []
        for key, want in gold.fields.items():
            ok = key in fields and same_value(fields[key], want)
            card.per_field[key].append(ok)
            card.per_table[key.split(".")[0]].append(ok)
            if not ok:
                wrong.append(key)
        flagged = (
            sorted({f.rule for f in result.findings if f.blame == "source" and f.rule in _relation_ids(gold)})
            if result
            else []
        )
        card.reports.append(
            ReportScore(
                source=gold.source,
                status=result.status if result else "failed",
                right=len(gold.fields) - len(wrong),
                total=len(gold.fields),
                template_right=bool(result and result.template == gold.template),
                organ_right=bool(result and result.organ == gold.organ),
                year_right=bool(result and result.year == gold.year),
                wrong_keys=wrong,
                inconsistencies_expected=sorted(gold.source_inconsistencies),
                inconsistencies_flagged=flagged,
            )
        )
    return card


def _relation_ids(gold: Gold) -> set[str]:
    return {relation.id for relation in relations(gold.template)}

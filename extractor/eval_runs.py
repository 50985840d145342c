"""Eval runs kept in the store, and what changed between two of them.

`nianbao eval` saves each run (`save`); `nianbao eval list` lists them; `nianbao eval compare A B`
lists the cells and reports that changed from run A (the baseline) to run B, and calls B a
regression when it has more verified-but-wrong reports than A, or a lower auto-accept precision.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from extractor.errors import NianbaoError
from extractor.evaluate import RIGHT, ReportScore, Scorecard
from extractor.measures import Measures, measure
from extractor.settings import Settings
from extractor.store import Store
from prompts import load
from schemas.answers import schema_version, table_answer
from schemas.flat import TABLES


class NoSuchRun(NianbaoError):
    pass


def save(store: Store, card: Scorecard, settings: Settings, gold: Path, label: str | None = None) -> int:
    """Keep the run: its settings and versions, its measures, and every report's score."""
    backend = settings.chosen_backend
    run = {
        "nianbao": package_version("nianbao"),
        "backend": backend,
        "model": settings.model if backend != "rules" else None,
        "prompts": {name: load(name).id for name in ("extract", "reask")} if backend != "rules" else {},
        "schema_version": _answer_schemas_version(),
        "gold": str(gold),
        "settings": settings.model_dump(mode="json"),
        "label": label,
        "measures": measure(card.reports).as_json(),
    }
    return store.save_eval_run(run, {report.source: dataclasses.asdict(report) for report in card.reports})


def _answer_schemas_version() -> str:
    """One short hash of the answer schemas the LLM is shown, for every table of both templates."""
    versions = [schema_version(table_answer(table, template)) for template in ("2019", "2021") for table in TABLES]
    return hashlib.sha256(" ".join(versions).encode()).hexdigest()[:12]


def runs(store: Store) -> list[dict[str, Any]]:
    return store.eval_runs()


def scorecard(store: Store, run_id: int) -> Scorecard:
    """A kept run's scores, as `eval` computed them."""
    if not any(run["id"] == run_id for run in store.eval_runs()):
        raise NoSuchRun(f"{store.path}: no eval run {run_id} (`nianbao eval list` shows the runs kept)")
    return Scorecard([ReportScore(**score) for score in store.eval_scores(run_id).values()])


@dataclass(frozen=True)
class CellChange:
    source: str
    key: str
    before: str  # the cell's outcome in the baseline
    after: str


@dataclass(frozen=True)
class Comparison:
    baseline: Measures
    candidate: Measures
    fixed: list[CellChange]  # wrong in the baseline, right now
    broken: list[CellChange]  # right in the baseline, wrong now
    newly_flagged: list[str]  # verified in the baseline, not now
    newly_verified: list[str]
    newly_verified_wrong: list[str]
    only_in_baseline: list[str]
    only_in_candidate: list[str]

    @property
    def regressions(self) -> list[str]:
        """Why the candidate is worse than its baseline, if it is."""
        found = []
        before, after = _verified_wrong(self.baseline), _verified_wrong(self.candidate)
        if after > before:
            found.append(f"verified-but-wrong reports rose from {before} to {after}")
        p0, p1 = self.baseline.precision.value, self.candidate.precision.value
        if p0 is not None and p1 is not None and p1 < p0:
            found.append(f"auto-accept precision fell from {p0:.2%} to {p1:.2%}")
        return found


def _verified_wrong(measures: Measures) -> int:
    return measures.precision.n - measures.precision.k


def compare(baseline: Scorecard, candidate: Scorecard) -> Comparison:
    before = {r.source: r for r in baseline.reports}
    after = {r.source: r for r in candidate.reports}
    both = sorted(before.keys() & after.keys())
    changes = [
        CellChange(source, key, before[source].cells.get(key, "absent"), outcome)
        for source in both
        for key, outcome in after[source].cells.items()
        if before[source].cells.get(key) != outcome
    ]
    return Comparison(
        baseline=measure(baseline.reports),
        candidate=measure(candidate.reports),
        fixed=[c for c in changes if c.after in RIGHT and c.before not in RIGHT],
        broken=[c for c in changes if c.after not in RIGHT and c.before in RIGHT],
        newly_flagged=[s for s in both if before[s].status == "verified" and after[s].status != "verified"],
        newly_verified=[s for s in both if after[s].status == "verified" and before[s].status != "verified"],
        newly_verified_wrong=[
            s for s in both if after[s].outcome == "verified-wrong" and before[s].outcome != "verified-wrong"
        ],
        only_in_baseline=sorted(before.keys() - after.keys()),
        only_in_candidate=sorted(after.keys() - before.keys()),
    )

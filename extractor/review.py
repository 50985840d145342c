"""The review queue: flagged reports for a person, worst first, with the source lines behind each finding."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from extractor.document import IngestError
from extractor.ingest import read_document
from extractor.store import Store
from schemas.flat import contract
from schemas.result import Finding, Result

DECISIONS = ("accept", "reject", "correct")
_CONTEXT = 1  # source lines shown either side of a finding's line


@dataclass
class Item:
    result_id: int
    path: str
    result: Result

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.result.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.result.findings)

    @property
    def reasons(self) -> str:
        """The rules behind the errors, most frequent first: "grounding.unread ×3, t3.row_total.new"."""
        counts = Counter(f.rule for f in self.result.findings if f.severity == "error")
        return ", ".join(f"{rule} ×{n}" if n > 1 else rule for rule, n in counts.most_common(4))

    def with_source_lines(self) -> list[tuple[Finding, list[tuple[int, str]]]]:
        """Each finding with the source lines it refers to (by line, or by its cells' spans)."""
        try:
            text = read_document(Path(self.path)).text
        except (IngestError, OSError):
            return [(finding, []) for finding in self.result.findings]
        lines = text.split("\n")
        out = []
        for finding in self.result.findings:
            numbers = set(finding.lines)
            for key in finding.cells:
                source = self.result.provenance.get(key)
                if source:
                    numbers.add(text.count("\n", 0, source.start) + 1)
            shown = sorted({n for number in numbers for n in range(number - _CONTEXT, number + _CONTEXT + 1)})
            out.append((finding, [(n, lines[n - 1].replace("\t", " │ ")) for n in shown if 0 < n <= len(lines)]))
        return out


def queue(store: Store) -> list[Item]:
    """Flagged reports (their newest results), most errors first."""
    items = [Item(result_id, path, result) for result_id, path, result in store.latest_results("flagged")]
    return sorted(items, key=lambda item: (-item.errors, -item.warnings, item.result_id))


def item(store: Store, result_id: int) -> Item | None:
    found = store.result(result_id)
    return Item(result_id, *found) if found else None


COLUMNS = (
    "result id",
    "source",
    "organ",
    "year",
    "severity",
    "rule",
    "blame",
    "cells",
    "问题",
    "finding",
    "source lines",
    "decision (accept/reject/correct)",
    "corrected value",
    "reviewer",
    "note",
)


def export(store: Store, path: Path) -> int:
    """A row per finding of every flagged report, with empty columns for the reviewer's decision."""
    rows = []
    for entry in queue(store):
        for finding, lines in entry.with_source_lines():
            context = "\n".join(f"{n}: {text}" for n, text in lines)
            rows.append(
                [
                    entry.result_id,
                    entry.result.source,
                    entry.result.organ,
                    entry.result.year,
                    finding.severity,
                    finding.rule,
                    finding.blame,
                    ", ".join(finding.cells),
                    finding.zh,
                    finding.en,
                    context,
                    "",
                    "",
                    "",
                    "",
                ]
            )
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(rows)
    else:
        _write_xlsx(path, rows)
    return len(rows)


def _write_xlsx(path: Path, rows: list[list[object]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "review"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJKLMNO", (9, 28, 22, 7, 9, 30, 10, 30, 50, 50, 60, 14, 14, 12, 30), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        row[10].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    book.save(path)


def decide(
    store: Store,
    result_id: int,
    reviewer: str,
    decision: str,
    key: str | None = None,
    value: str | None = None,
    note: str | None = None,
) -> int:
    """Record a decision, or a correction of one cell; the result itself is never changed."""
    found = store.result(result_id)
    if found is None:
        raise ValueError(f"no result {result_id} in the store")
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
    if decision == "correct" and (key not in contract() or value is None):
        raise ValueError("a correction needs --key (a flat key of the contract) and --value")
    old = found[1].fields.get(key) if key else None
    return store.review(result_id, reviewer, decision, key, old, value, note)

"""The review queue: flagged reports for a person, worst first, with the source lines behind each finding."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from extractor.document import IngestError
from extractor.export import Column, ExportError, Kind, Row, Table, format_for, write
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


# (header, kind, width in Excel): the queue's columns, the last four left empty for the reviewer.
_COLUMNS: tuple[tuple[str, Kind, int], ...] = (
    ("result id", "int", 9),
    ("source", "text", 28),
    ("organ", "text", 22),
    ("year", "int", 7),
    ("severity", "text", 9),
    ("rule", "text", 30),
    ("blame", "text", 10),
    ("cells", "text", 30),
    ("问题", "text", 50),
    ("finding", "text", 50),
    ("source lines", "text", 60),
    ("decision (accept/reject/correct)", "text", 14),
    ("corrected value", "text", 14),
    ("reviewer", "text", 12),
    ("note", "text", 30),
)
COLUMNS = tuple(header for header, _, _ in _COLUMNS)
TABLE = Table(
    tuple(Column(header, header, kind, width, wrap=header == "source lines") for header, kind, width in _COLUMNS),
    sheet="review",
)
FORMATS = ("csv", "xlsx")


def rows(store: Store) -> Iterator[Row]:
    """A row per finding of every flagged report, worst report first, in TABLE's columns."""
    for entry in queue(store):
        for finding, lines in entry.with_source_lines():
            context = "\n".join(f"{n}: {text}" for n, text in lines)
            yield [
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
                None,  # the reviewer's decision, corrected value, name and note
                None,
                None,
                None,
            ]


def export(store: Store, path: Path) -> int:
    """The queue to `path` (.csv or .xlsx), with empty columns for the reviewer's decision; returns rows written.

    Written by `extractor.export.write`, as `nianbao export` writes: atomically (`path` is replaced only once the
    whole file is written), and no text cell ever a formula.
    """
    format = format_for(path)
    if format not in FORMATS:
        raise ExportError(f"cannot tell the format of {path.name}: the review queue is written to .xlsx or .csv")
    return write(rows(store), TABLE, path, format)


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

"""The review queue: flagged reports for a person, worst first, with the source lines behind each finding."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from extractor.document import Document, IngestError
from extractor.errors import NianbaoError
from extractor.export import Column, ExportError, Kind, Row, Table, format_for, write
from extractor.ingest import read_document
from extractor.pipeline import reverify
from extractor.relations import relations
from extractor.resolver import ground
from extractor.store import ResultSummary, Store
from extractor.values import out_of_bounds, read_cell
from schemas.flat import Value, cell_types, contract
from schemas.report import Amount, Provenance
from schemas.result import Finding, Result, dump_line

# accept: the values as they stand (corrected or not) are right; reject: the file is not a report; correct: one
# cell's value; inconsistency: a relation the report's own printed numbers break (new_value "1" marks it, "0"
# unmarks it); skip: left for later. The review table also records "promote": written to a gold folder.
DECISIONS = ("accept", "reject", "correct", "inconsistency", "skip")


class ReviewError(NianbaoError, ValueError):
    """A decision that cannot be recorded as asked; the message says why."""


class NoSuchResult(ReviewError):
    pass


_CONTEXT = 1  # source lines shown either side of a finding's line


@dataclass
class Item(ResultSummary):
    """A flagged report as the queue lists it, from the store's summary; its whole result is read on first use."""

    store: Store = field(repr=False, compare=False)

    @cached_property
    def result(self) -> Result:
        return stored_result(self.store, self.result_id)[1]

    @property
    def errors(self) -> int:
        return sum(severity == "error" for _, severity in self.findings)

    @property
    def warnings(self) -> int:
        return sum(severity == "warning" for _, severity in self.findings)

    @property
    def reasons(self) -> str:
        """The rules behind the errors, most frequent first: "grounding.unread ×3, t3.row_total.new"."""
        counts = Counter(rule for rule, severity in self.findings if severity == "error")
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
    items = [Item(**vars(summary), store=store) for summary in store.latest_summaries("flagged")]
    return sorted(items, key=lambda item: (-item.errors, -item.warnings, item.result_id))


def item(store: Store, result_id: int) -> Item | None:
    found = store.summary(result_id)
    return Item(**vars(found), store=store) if found else None


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
                entry.source,
                entry.organ,
                entry.year,
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
    """Record a decision (`nianbao review decide`); returns the review's id. accept and reject also add the
    person's result (see `accept`, `reject`); the machine's result itself is never changed."""
    found = stored_result(store, result_id)
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}")
    if decision == "correct":
        if key not in contract() or value is None:
            raise ReviewError("a correction needs --key (a flat key of the contract) and --value")
        return correct(store, result_id, reviewer, key, value, note)
    if decision == "inconsistency":
        return mark_inconsistency(store, result_id, reviewer, key or "", value != "0", note)
    if decision == "accept":
        return accept(store, result_id, reviewer, source_document(*found), note)[0]
    if decision == "reject":
        return reject(store, result_id, reviewer, note)[0]
    return store.review(result_id, reviewer, decision, note=note)


# A reviewer's draft: the machine's result with the corrections recorded so far, re-verified ---------------------


@dataclass
class Draft:
    result_id: int
    path: str
    machine: Result
    result: Result  # the machine's result with `corrected` applied, re-verified against its source
    corrected: dict[str, Value] = field(default_factory=dict)
    inconsistencies: set[str] = field(default_factory=set)  # relation ids marked as the report's own

    @property
    def relation_ids(self) -> set[str]:
        return {relation.id for relation in relations(self.machine.template)} if self.machine.template else set()


def stored_result(store: Store, result_id: int) -> tuple[str, Result]:
    found = store.result(result_id)
    if found is None:
        raise NoSuchResult(f"no result {result_id} in the store")
    return found


def source_document(path: str, result: Result) -> Document:
    """The result's source file, read again; refused where it changed since it was extracted."""
    try:
        document = read_document(Path(path))
    except IngestError as error:
        raise ReviewError(str(error)) from error
    except OSError as error:
        raise ReviewError(f"{path}: cannot read the source: {error.strerror or error}") from error
    if result.sha256 and document.sha256 != result.sha256:
        raise ReviewError(f"{path}: the source file changed since it was extracted (sha256 differs)")
    return document


def parse_value(result: Result, key: str, text: str | None) -> Value:
    """A reviewer's entry for cell `key`: a number as the report prints it ("1,234", "3.5"), or blank for none."""
    kinds = cell_types(result.template) if result.template else {}
    if key not in kinds:
        raise ReviewError(f"{key} is not a cell of the {result.template} template")
    reading = read_cell(text or "")
    if reading.kind in ("blank", "null"):
        return None
    if reading.kind != "number" or reading.number is None:
        raise ReviewError(f"{key}: {text!r} is not a number")
    amount = kinds[key] is Amount
    problem = out_of_bounds(reading.number, amount=amount, signed=key.endswith(".change"))
    if problem:
        raise ReviewError(f"{key}: {text}: {problem}")
    if amount:
        return reading.number
    if reading.number != reading.number.to_integral_value():
        raise ReviewError(f"{key} counts, so it is a whole number, not {text}")
    return int(reading.number)


def latest_values(reviews: list[dict], decision: str) -> dict[str, str | None]:
    """The newest new_value per key among the reviews of one kind."""
    return {row["key"]: row["new_value"] for row in reviews if row["decision"] == decision and row["key"]}


def draft(store: Store, result_id: int, document: Document) -> Draft:
    path, machine = stored_result(store, result_id)
    reviews = store.reviews(result_id)
    corrected = {key: parse_value(machine, key, text) for key, text in latest_values(reviews, "correct").items()}
    marked = {key for key, flag in latest_values(reviews, "inconsistency").items() if flag == "1"}
    return Draft(result_id, path, machine, corrected_result(machine, corrected, document), corrected, marked)


def corrected_result(machine: Result, corrected: dict[str, Value], document: Document) -> Result:
    """`machine` with the corrected values, each grounded where the document's evidence places it (or nowhere,
    and then the verifier says so), checked by the verifier as `nianbao verify` checks a saved result."""
    if not corrected or machine.template is None:
        return reverify(machine, document) if machine.template else machine
    fields = {**machine.fields, **corrected}
    provenance = {key: source for key, source in machine.provenance.items() if key not in corrected}
    grounded = ground(document, machine.template, fields)
    for key in corrected:
        source = grounded[key].get("source")
        if source:
            provenance[key] = Provenance(**source)
    return reverify(machine.model_copy(update={"fields": fields, "provenance": provenance}), document)


def correct(store: Store, result_id: int, reviewer: str, key: str, text: str | None, note: str | None = None) -> int:
    """Record one cell's correction (blank: the report gives no number), with the value it replaces."""
    _, machine = stored_result(store, result_id)
    value = parse_value(machine, key, text)
    earlier = latest_values(store.reviews(result_id), "correct")
    old = earlier[key] if key in earlier else machine.fields.get(key)
    return store.review(result_id, reviewer, "correct", key, old, _plain(value), note)


def mark_inconsistency(
    store: Store, result_id: int, reviewer: str, relation_id: str, marked: bool, note: str | None = None
) -> int:
    """Mark (or unmark) a relation as broken by the report's own printed numbers, kept as printed."""
    _, machine = stored_result(store, result_id)
    known = {relation.id for relation in relations(machine.template)} if machine.template else set()
    if relation_id not in known:
        raise ReviewError(f"{relation_id!r} is not a relation of the {machine.template} template")
    earlier = latest_values(store.reviews(result_id), "inconsistency").get(relation_id)
    return store.review(result_id, reviewer, "inconsistency", relation_id, earlier, "1" if marked else "0", note)


def accept(store: Store, result_id: int, reviewer: str, document: Document, note: str | None = None) -> tuple[int, int]:
    """The values as they now stand are right: a new result (status `reviewed`) holds them, corrections applied
    and re-verified, with whatever the verifier still reports. Returns (review id, the new result's id)."""
    reviewed = draft(store, result_id, document).result.model_copy(update={"status": "reviewed"})
    review_id = store.review(result_id, reviewer, "accept", note=note)
    return review_id, store.save_reviewed(result_id, review_id, reviewed, dump_line(reviewed), "reviewed")


def reject(store: Store, result_id: int, reviewer: str, note: str | None = None) -> tuple[int, int]:
    """The file is not a report: a new result (status `rejected`) that exports show as failed, with why."""
    _, machine = stored_result(store, result_id)
    why = f"not a report (rejected by {reviewer}{': ' + note if note else ''})"
    rejected = Result(source=machine.source, sha256=machine.sha256, status="failed", error=why)
    review_id = store.review(result_id, reviewer, "reject", note=note)
    return review_id, store.save_reviewed(result_id, review_id, rejected, dump_line(rejected), "rejected")


def _plain(value: Value) -> str | None:
    return None if value is None else str(value)


# The queue as a person works through it ---------------------------------------------------------------------

FILTERS = ("organ", "year", "template", "rule", "format")


def format_of(source: str) -> str:
    return Path(source).suffix.lstrip(".").lower() or "?"


def matches(entry: Item, wanted: dict[str, str]) -> bool:
    """`entry` passes every non-empty filter: organ (a part of its name), year, template, rule (a part of a
    finding's rule id) and format (the file's suffix)."""
    checks = {
        "organ": lambda text: text in (entry.organ or ""),
        "year": lambda text: str(entry.year) == text,
        "template": lambda text: entry.template == text,
        "rule": lambda text: any(text in rule for rule, _ in entry.findings),
        "format": lambda text: format_of(entry.source) == text.lower().lstrip("."),
    }
    return all(checks[name](text) for name, text in wanted.items() if text and name in checks)


def pending(store: Store, wanted: dict[str, str] | None = None) -> list[Item]:
    """The queue left to review, worst first, reports a reviewer skipped after the rest; filtered by `wanted`."""
    decided = store.decisions()
    entries = [entry for entry in queue(store) if matches(entry, wanted or {})]
    return sorted(entries, key=lambda entry: "skip" in decided.get(entry.result_id, set()))


def progress(store: Store) -> tuple[int, int]:
    """(reviewed, left): documents a person accepted, corrected or rejected, and flagged ones still waiting."""
    counts = store.latest_counts()
    return counts.get("reviewed", 0) + counts.get("rejected", 0), counts.get("flagged", 0)

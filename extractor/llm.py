"""The LLM backends, and the loop where the verifier's findings drive the re-asks.

- `llm`: the model reads each table from its section of the report.
- `hybrid`: the template parser reads first; the model is asked only for the tables
  where the verifier finds an extraction error (a number unread, unproven or ambiguous
  included). Where both give a value, agreement counts as evidence and disagreement is
  a finding: the value the document proves is kept (the parser's, where both are).

Each round, the verifier checks everything read so far. Cells it refuses and that the
model gave are asked again, alone, with the rule they broke and their rows of the
source. The loop stops when nothing is left to fix, when the same findings come back,
or when the budget of rounds is spent. A value that is never grounded in the source is
not kept: its cell is null, and a finding records what the model said.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from extractor.document import Document
from extractor.evidence import RowEvidence, evidence, prove
from extractor.inference import LLM
from extractor.layout import Layout, detect_template, layout
from extractor.meta import read_meta
from extractor.parser import parse, report_page
from extractor.resolver import ground
from extractor.settings import Settings
from extractor.verifier import verify
from prompts import load
from schemas.answers import TABLE_TITLES, answer_to_fields, cells_answer, cells_to_fields, table_answer
from schemas.flat import TABLES, build_report, cell_types, iter_cells, label
from schemas.report import Count, Meta, Report, Template
from schemas.result import Attempt, Finding, Usage

_MAX_CELLS_PER_REASK = 40
_MAX_PROBLEMS_PER_REASK = 20
_CONTEXT_LINES = 2  # source lines shown around each re-asked row


@dataclass
class Session:
    """One report's extraction with the LLM."""

    document: Document
    page: Layout
    meta: Meta
    template: Template
    llm: LLM
    backend: str
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)  # flat key → cell fields
    from_parser: set[str] = field(default_factory=set)
    parser_proven: set[str] = field(default_factory=set)  # parser cells the evidence places where the parser did
    from_llm: set[str] = field(default_factory=set)
    calls: list[Attempt] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # findings of the loop itself
    agreed: list[str] = field(default_factory=list)  # cells the parser and the model read alike
    _checked: tuple[Report, list[Finding]] | None = None
    deadline: float = float("inf")  # time.monotonic() by which the report's LLM work ends

    def past_deadline(self) -> bool:
        return time.monotonic() >= self.deadline

    # Reading -------------------------------------------------------------------

    def read_table(self, table: str, round: int) -> bool:
        """Ask for a whole table; False when no answer came."""
        lines = self.page.sections[table]
        context = {
            "source": self.document.source,
            "table_title": TABLE_TITLES[table],
            "section": self.document.text[lines[0].start : lines[-1].end],
        }
        answer = self._ask("extract", context, table_answer(table, self.template), step=table, round=round)
        if answer is not None:
            self._merge(answer_to_fields(answer, table, self.template))
        return answer is not None

    def reask(self, findings: list[Finding], round: int) -> None:
        keys = self._suspects(findings)[:_MAX_CELLS_PER_REASK]
        if not keys:
            return
        context = {
            "source": self.document.source,
            "problems": self._problems(findings, keys),
            "cells": [f"{key}: {label(key)}" for key in keys],
            "section": self._rows_text(keys),
        }
        answer = self._ask("reask", context, cells_answer(tuple(keys)), step="reask", round=round)
        self.calls[-1].cells = keys
        if answer is not None:
            self._merge(cells_to_fields(answer, tuple(keys), self.template))

    def _problems(self, findings: list[Finding], keys: list[str]) -> list[str]:
        """What the verifier said about the cells asked for (at most a screenful)."""
        lines = {n for row in self._printed_rows() if set(row.keys) & set(keys) for n in row.lines}
        relevant = [f.en for f in findings if set(f.cells) & set(keys) or set(f.lines) & lines]
        return list(dict.fromkeys(relevant))[:_MAX_PROBLEMS_PER_REASK]

    def _ask(self, prompt: str, context: dict[str, Any], answer: Any, step: str, round: int) -> Any:
        result, call = self.llm.ask(
            load(prompt),
            context,
            answer,
            source=self.document.source,
            sha256=self.document.sha256,
            step=step,
            round=round,
            deadline=self.deadline,
        )
        self.calls.append(call)
        return result

    def _merge(self, values: dict[str, Any]) -> None:
        types = cell_types(self.template)
        for key, value in list(values.items()):
            if types[key] is Count and value is not None and not float(value).is_integer():
                self.notes.append(_refused(key, value))  # a fraction is no count: refused at once
                values[key] = None
        for key, cell in ground(self.document, self.template, values).items():
            if key in self.from_parser:
                self._compare_with_parser(key, cell)
            else:
                self.cells[key] = cell
                self.from_llm.add(key)
                self._checked = None

    def _compare_with_parser(self, key: str, cell: dict[str, Any]) -> None:
        ours = self.cells[key]["value"]
        if cell.get("value") == ours:
            self.agreed.append(key)
            if key not in self.parser_proven and cell.get("source") is not None:
                self.cells[key] = cell  # the same number, at the span the document proves
                self._checked = None
            return
        if key not in self.parser_proven and cell.get("source") is not None:
            self._take_models(key, cell, ours)
            return
        self.notes.append(
            _disagreement(
                key,
                f"{key}：模型读作 {cell.get('value')}，模板解析读作 {ours}（已在原文定位），保留后者",
                f"{key}: the model read {cell.get('value')}, the template parser {ours} (grounded); kept the parser's",
            )
        )

    def _take_models(self, key: str, cell: dict[str, Any], ours: Any) -> None:
        """The model's value, proven by the document, over a parser value it does not prove."""
        self.cells[key] = cell
        self.from_parser.discard(key)
        self.from_llm.add(key)
        self._checked = None
        self.notes.append(
            _disagreement(
                key,
                f"{key}：模板解析读作 {ours}，原文不能证实；模型读作 {cell['value']}（已在原文定位），采用后者",
                f"{key}: the template parser read {ours}, which the source does not prove; the model read"
                f" {cell['value']} (grounded); kept the model's",
            )
        )

    # Checking --------------------------------------------------------------------

    def checked(self) -> tuple[Report, list[Finding]]:
        """The report as read so far, and the verifier's findings on it (kept until a cell changes)."""
        if self._checked is None:
            report = build_report(self.template, self.meta, self.cells)
            self._checked = (report, verify(report, self.document))
        return self._checked

    def fixable(self) -> list[Finding]:
        """Extraction errors the model can still fix: on cells it gave, or numbers left unread."""
        _, findings = self.checked()
        return [f for f in findings if f.severity == "error" and f.blame == "extraction" and self._suspects([f])]

    def _suspects(self, findings: list[Finding]) -> list[str]:
        """The cells to ask again: the model's ungrounded ones, and those of rows with unread numbers."""
        keys: list[str] = []
        for finding in findings:
            if finding.rule == "grounding.unread":  # the row's cells that hold no grounded number yet
                rows = self._rows_on(finding.lines)
                keys += [k for row in rows for k in row.keys if k not in self.from_parser and not self._grounded(k)]
            keys += [k for k in finding.cells if k in self.from_llm and self._ungrounded(k)]
        return list(dict.fromkeys(keys))

    def _grounded(self, key: str) -> bool:
        return self.cells.get(key, {}).get("source") is not None

    def _ungrounded(self, key: str) -> bool:
        cell = self.cells.get(key, {})
        return cell.get("value") is not None and cell.get("source") is None

    def _printed_rows(self) -> list[RowEvidence]:
        """The rows the document prints, as the evidence layer finds them."""
        regions = evidence(self.document.text, self.template).regions.values()
        return [row for region in regions for row in region.rows.values()]

    def _rows_on(self, lines: list[int]) -> list[RowEvidence]:
        return [row for row in self._printed_rows() if set(row.lines) & set(lines)]

    def _rows_text(self, keys: list[str]) -> str:
        """The source lines of the rows these cells belong to, with a little context; or whole sections."""
        rows = {k: row for row in self._printed_rows() for k in row.keys}
        wanted: set[int] = set()
        for key in keys:
            if key in rows:
                for number in rows[key].lines:
                    wanted.update(range(number - _CONTEXT_LINES, number + _CONTEXT_LINES + 1))
            else:
                wanted.update(line.number for line in self.page.sections[key.split(".")[0]])
        return "\n".join(self.document.text[line.start : line.end] for line in self.page.lines if line.number in wanted)

    # Finishing -------------------------------------------------------------------

    def finish(self, settings: Settings) -> LLMOutcome:
        """Refuse what never grounded, verify once more, and account for every call."""
        if self.past_deadline():
            self.notes.append(_deadline_passed(settings.deadline, len(self.calls)))
        for key in sorted(self.from_llm):
            if self._ungrounded(key):
                self.notes.append(_refused(key, self.cells[key]["value"]))
                self.cells[key] = {}
                self._checked = None
        if self.agreed:
            self.notes.append(_agreement(self.agreed))
        report, findings = self.checked()
        attempts = self.calls
        tokens_in = sum(a.tokens_in for a in attempts)
        tokens_out = sum(a.tokens_out for a in attempts)
        usage = Usage(
            calls=sum(a.http_calls for a in attempts),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=settings.cost(settings.model or "", tokens_in, tokens_out),
        )
        return LLMOutcome(report, findings + self.notes, attempts, usage)


@dataclass(frozen=True)
class LLMOutcome:
    report: Report
    findings: list[Finding]
    attempts: list[Attempt]
    usage: Usage


def _agreement(keys: list[str]) -> Finding:
    return Finding(
        rule="hybrid.agreement",
        severity="info",
        blame="extraction",
        cells=sorted(set(keys)),
        zh=f"模板解析与模型对 {len(set(keys))} 个单元格的读数一致",
        en=f"the template parser and the model read {len(set(keys))} cells alike",
    )


def _disagreement(key: str, zh: str, en: str) -> Finding:
    return Finding(rule="hybrid.disagreement", severity="warning", blame="extraction", cells=[key], zh=zh, en=en)


def _deadline_passed(seconds: float, calls: int) -> Finding:
    return Finding(
        rule="llm.deadline",
        severity="error",
        blame="extraction",
        zh=f"模型调用超过了每份报告 {seconds:g} 秒的时限（已调用 {calls} 次），未读完的单元格留空",
        en=f"the report's LLM deadline of {seconds:g} s passed after {calls} call(s); cells not read are left null",
    )


def _refused(key: str, value: Any) -> Finding:
    return Finding(
        rule="grounding.span",
        severity="error",
        blame="extraction",
        cells=[key],
        zh=f"{key}：模型读作 {value}，但原文该行没有这个数字，未采用（留空）",
        en=f"{key}: the model read {value}, which its row of the source does not show; not kept (left null)",
    )


def _tables_with_extraction_errors(report: Report, findings: list[Finding], page: Layout) -> list[str]:
    section_of_line = {line.number: name for name in TABLES for line in page.sections[name]}
    tables: set[str] = set()
    for finding in findings:
        if finding.severity != "error" or finding.blame != "extraction":
            continue
        tables.update(key.split(".")[0] for key in finding.cells)
        tables.update(section_of_line[n] for n in finding.lines if n in section_of_line)
    return [table for table in TABLES if table in tables and page.sections[table]]


def _proven(report: Report, document: Document) -> set[str]:
    """The parser's cells that the evidence proves at the very span the parser recorded."""
    cells = dict(iter_cells(report))
    proof = prove(evidence(document.text, report.template), {key: cell.value for key, cell in cells.items()})
    return {
        key
        for key, span in proof.spans.items()
        if (source := cells[key].source) is not None and (source.start, source.end) == (span.start, span.end)
    }


def extract_with_llm(document: Document, llm: LLM, settings: Settings, backend: str) -> LLMOutcome:
    """The `llm` and `hybrid` backends, for one document."""
    page = layout(document.text)
    session: Session
    if backend == "hybrid":
        report = parse(document)  # raises NotAReport, as the rules backend does
        findings = verify(report, document)
        tables = _tables_with_extraction_errors(report, findings, page)
        session = Session(document, page, report.meta, report.template, llm, backend)
        session.cells = {key: cell.model_dump() for key, cell in iter_cells(report) if cell.value is not None}
        session.from_parser = set(session.cells)
        session.parser_proven = _proven(report, document)
    else:
        page = report_page(document)  # raises NotAReport, as the parser does
        meta = read_meta(page.lines)
        template = detect_template(page.table_lines, year=meta.year)
        tables = [table for table in TABLES if page.sections[table]]
        session = Session(document, page, meta, template, llm, backend)

    session.deadline = time.monotonic() + settings.deadline
    unread = [table for table in tables if session.past_deadline() or not session.read_table(table, round=1)]
    seen: set[frozenset[tuple[str, tuple[str, ...]]]] = set()
    for round in range(2, settings.max_attempts + 1):
        if session.past_deadline():
            break
        if unread:  # a table whose answer never came (cut off, refused, API down) is asked whole again
            unread = [table for table in unread if not session.read_table(table, round)]
            continue
        fixable = session.fixable()
        signature = frozenset((f.rule, tuple(f.cells)) for f in fixable)
        if not fixable or signature in seen:
            break  # nothing left the model can fix, or the same findings came back
        seen.add(signature)
        session.reask(fixable, round)
    return session.finish(settings)

"""One report from file to verified result: read → parse → verify → status."""

from __future__ import annotations

from pathlib import Path

from extractor.document import Document, IngestError
from extractor.inference import LLM
from extractor.ingest import read_document
from extractor.llm import extract_with_llm
from extractor.meta import organ_key
from extractor.parser import NotAReport, parse
from extractor.verifier import verify
from schemas.flat import iter_cells, unflatten
from schemas.report import Meta, Provenance, Report
from schemas.result import Finding, Result, Status


def status_of(findings: list[Finding]) -> Status:
    return "flagged" if any(finding.severity == "error" for finding in findings) else "verified"


def to_result(report: Report, document: Document, findings: list[Finding]) -> Result:
    cells = dict(iter_cells(report))
    provenance = {key: cell.source for key, cell in cells.items() if cell.source and cell.value is not None}
    for name, span in (("organ", report.meta.organ_at), ("year", report.meta.year_at)):
        if span is not None:
            start, end = span
            provenance[name] = Provenance(
                raw=document.text[start:end], start=start, end=end, page=document.page_at(start)
            )
    if document.char_boxes:
        provenance = {key: placed(source, document) for key, source in provenance.items()}
    return Result(
        source=document.source,
        sha256=document.sha256,
        organ=report.meta.organ,
        organ_key=organ_key(report.meta.organ),
        year=report.meta.year,
        template=report.template,
        status=status_of(findings),
        fields={key: cell.value for key, cell in cells.items()},
        findings=findings,
        provenance=provenance,
    )


def placed(source: Provenance, document: Document) -> Provenance:
    """`source` with the page and box its text was printed in (its first line's, for a span over lines), and the
    OCR's confidence where OCR read it."""
    boxes = document.boxes_at(source.start, source.end)
    if not boxes:
        return source
    page, box = boxes[0]
    confidence = document.confidence_at(source.start, source.end)
    update: dict[str, object] = {"page": page, "bbox": [round(value, 2) for value in box]}
    if confidence is not None:
        update["confidence"] = round(confidence, 3)
    return source.model_copy(update=update)


def failed(source: str, problem: str, sha256: str | None = None) -> Result:
    return Result(source=source, sha256=sha256, status="failed", error=problem)


def extract_document(document: Document, llm: LLM | None = None) -> Result:
    """The rules backend without `llm`; with it, the backend its settings choose."""
    try:
        if llm is None or llm.settings.chosen_backend == "rules":
            report = parse(document)
            return to_result(report, document, verify(report, document))
        backend = llm.settings.chosen_backend
        outcome = extract_with_llm(document, llm, llm.settings, backend)
    except NotAReport as error:
        return failed(document.source, str(error), document.sha256)
    result = to_result(outcome.report, document, outcome.findings)
    result = result.model_copy(update={"backend": backend, "attempts": outcome.attempts, "usage": outcome.usage})
    deadline = next((f for f in outcome.findings if f.rule == "llm.deadline"), None)
    if deadline is not None and all(value is None for value in result.fields.values()):
        return result.model_copy(update={"status": "failed", "error": deadline.en, "fields": {}, "provenance": {}})
    return result


def extract_file(path: Path, llm: LLM | None = None) -> Result:
    try:
        document = read_document(path)
    except IngestError as error:
        return failed(path.name, error.problem)
    return extract_document(document, llm)


def report_from_result(result: Result) -> Report:
    """A saved result back as a report, provenance included. Raises ValueError if its keys don't fit its template."""
    if result.template is None:
        raise ValueError("the result has no template (was it a failed read?)")
    organ_at, year_at = (result.provenance.get(name) for name in ("organ", "year"))
    meta = Meta(
        organ=result.organ,
        year=result.year,
        organ_at=(organ_at.start, organ_at.end) if organ_at else None,
        year_at=(year_at.start, year_at.end) if year_at else None,
    )
    report = unflatten(result.template, result.fields, meta)
    for key, cell in iter_cells(report):
        cell.source = result.provenance.get(key)
    return report


def reverify(result: Result, document: Document) -> Result:
    """`nianbao verify`: check a saved result against its source again, from scratch."""
    try:
        report = report_from_result(result)
    except ValueError as error:
        finding = Finding(
            rule="structure.keys",
            severity="error",
            blame="extraction",
            zh=f"结果的字段与模板不符：{error}",
            en=f"the result's fields do not fit its template: {error}",
        )
        return result.model_copy(update={"status": "flagged", "findings": [finding]})
    return to_result(report, document, verify(report, document)).model_copy(
        update={"organ": result.organ, "organ_key": organ_key(result.organ), "year": result.year}
    )


def extract_safely(path: Path, llm: LLM | None = None) -> Result:
    """One file's result; a bug on one file fails that file, never the batch."""
    try:
        return extract_file(path, llm)
    except Exception as error:
        return failed(path.name, f"internal error: {type(error).__name__}: {error}")

"""Aligning the LLM's values to the source, so each carries its span like the parser's do.

A value is grounded where the document's own evidence (`extractor.evidence`) places
it: printed in its row, at its column's place. A value of a row that can be read
more than one way keeps the span of the one reading that fits all the row's values,
and the verifier flags the ambiguity. A value that cannot be grounded keeps no
source, and the verifier refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from extractor.document import Document
from extractor.evidence import Span, evidence, prove
from schemas.flat import Value
from schemas.report import Template


def ground(document: Document, template: Template, values: Mapping[str, Value]) -> dict[str, dict[str, Any]]:
    """Each value as the cell model's fields: {"value", "source"}, with "source" None where it is not grounded."""
    proof = prove(evidence(document.text, template), values)
    spans = {**proof.candidates, **proof.spans}
    return {key: _cell(document, value, spans.get(key)) for key, value in values.items()}


def _cell(document: Document, value: Value, span: Span | None) -> dict[str, Any]:
    if value is None:
        return {}
    if span is None:
        return {"value": value, "source": None}
    page = document.page_at(span.start)
    return {"value": value, "source": {"raw": span.text, "start": span.start, "end": span.end, "page": page}}

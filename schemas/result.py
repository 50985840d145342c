"""What `nianbao extract` writes: one result per report, one JSON line each."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.report import Provenance, Template

Severity = Literal["error", "warning", "info"]
Blame = Literal["source", "extraction"]
Status = Literal["verified", "flagged", "failed"]


class Finding(BaseModel):
    """One thing the verifier found. `blame` says whose fault: the report's own numbers, or ours."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    severity: Severity
    blame: Blame
    cells: list[str] = []
    lines: list[int] = []  # 1-based lines of the document text it refers to
    zh: str
    en: str


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    sha256: str | None = None
    organ: str | None = None
    year: int | None = None
    template: Template | None = None
    status: Status
    fields: dict[str, int | Decimal | None] = {}
    findings: list[Finding] = []
    provenance: dict[str, Provenance] = {}  # where each non-null field was read
    error: str | None = None  # why a `failed` report could not be read

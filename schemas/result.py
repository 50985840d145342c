"""What `nianbao extract` writes: one result per report, one JSON line each."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.report import Provenance, Template

Severity = Literal["error", "warning", "info"]
Blame = Literal["source", "extraction"]
Status = Literal["verified", "flagged", "failed", "reviewed"]  # reviewed: a person accepted it (`review`)


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


class Attempt(BaseModel):
    """One LLM call for a report: a table's extraction (round 1) or a re-ask (round 2 on)."""

    model_config = ConfigDict(extra="forbid")

    step: str  # "t2", "t3", "t4" or "reask"
    round: int
    outcome: str  # ok, cached, invalid, truncated, transient, failed
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    http_calls: int = 0
    cells: list[str] = []  # the cells a re-ask asked for
    error: str | None = None


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None  # USD, where the price table knows the model


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    sha256: str | None = None
    organ: str | None = None
    organ_key: str | None = None  # the organ's name normalised: its reports from different years group by it
    year: int | None = None
    template: Template | None = None
    status: Status
    fields: dict[str, int | Decimal | None] = {}
    findings: list[Finding] = []
    provenance: dict[str, Provenance] = {}  # where each non-null field was read, and the organ and year
    error: str | None = None  # why a `failed` report could not be read
    backend: str = "rules"
    attempts: list[Attempt] = []  # every LLM call made for this report
    usage: Usage | None = None


def _plain(value: object) -> object:
    """JSON numbers for Decimals, kept as printed: "96171.6" → 96171.6, "24220" → 24220."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def dump_line(result: Result) -> str:
    return json.dumps(_plain(result.model_dump(exclude_none=True)), ensure_ascii=False)


def load_line(line: str) -> Result:
    return Result.model_validate_json(line)  # JSON numbers with a fraction become exact Decimals

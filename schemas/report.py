"""Strict Pydantic models of one annual report, in both template versions.

Every cell holds its value and where it was read from. The models flatten to
the contract's keys (`shared/spec/fields.json`) by joining attribute names with
dots, so `Report2021.t3.denied.state_secret.natural` is `t3.denied.state_secret.natural`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

Template = Literal["2019", "2021"]
TEMPLATES: tuple[Template, ...] = ("2019", "2021")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Provenance(Strict):
    """Where a value was read: `raw` is `document.text[start:end]`."""

    raw: str
    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    page: int | None = None
    # For a PDF: the box the value was printed in on `page`, [x0, top, x1, bottom] in PDF points
    # from the top left of the page as shown.
    bbox: list[float] | None = None
    # Read by OCR: the confidence of its least sure character, 0 to 1 (none for a text layer's characters).
    confidence: float | None = None


class Count(Strict):
    value: StrictInt | None = None
    source: Provenance | None = None


class Amount(Strict):
    """A money amount (万元 or 元), kept exactly as printed: no unit conversion."""

    value: Decimal | None = None
    source: Provenance | None = None


# 表二 主动公开 ---------------------------------------------------------------


class Documents2019(Strict):
    made: Count = Count()
    published: Count = Count()
    total_published: Count = Count()


class Items2019(Strict):
    prev_items: Count = Count()
    change: Count = Count()
    decisions: Count = Count()


class Fees2019(Strict):
    prev_items: Count = Count()
    change: Count = Count()


class Procurement2019(Strict):
    items: Count = Count()
    amount: Amount = Amount()


class Table2Of2019(Strict):
    rules: Documents2019 = Documents2019()
    normative: Documents2019 = Documents2019()
    licensing: Items2019 = Items2019()
    other_services: Items2019 = Items2019()
    penalty: Items2019 = Items2019()
    coercion: Items2019 = Items2019()
    fees: Fees2019 = Fees2019()
    procurement: Procurement2019 = Procurement2019()


class Documents2021(Strict):
    issued: Count = Count()
    repealed: Count = Count()
    in_force: Count = Count()


class Decisions2021(Strict):
    decisions: Count = Count()


class Fees2021(Strict):
    amount: Amount = Amount()


class Table2Of2021(Strict):
    rules: Documents2021 = Documents2021()
    normative: Documents2021 = Documents2021()
    licensing: Decisions2021 = Decisions2021()
    penalty: Decisions2021 = Decisions2021()
    coercion: Decisions2021 = Decisions2021()
    fees: Fees2021 = Fees2021()


# 表三 依申请公开 -------------------------------------------------------------


class Applicants(Strict):
    """One row of 表三: the six applicant columns and their 总计."""

    natural: Count = Count()
    commercial: Count = Count()
    research: Count = Count()
    social: Count = Count()
    legal: Count = Count()
    other: Count = Count()
    total: Count = Count()


class Denied(Strict):
    state_secret: Applicants = Applicants()
    law_forbidden: Applicants = Applicants()
    three_safety: Applicants = Applicants()
    third_party: Applicants = Applicants()
    internal_affairs: Applicants = Applicants()
    process_info: Applicants = Applicants()
    enforcement_file: Applicants = Applicants()
    admin_query: Applicants = Applicants()


class Unavailable(Strict):
    not_held: Applicants = Applicants()
    needs_creation: Applicants = Applicants()
    unclear: Applicants = Applicants()


class NotProcessed(Strict):
    complaint: Applicants = Applicants()
    duplicate: Applicants = Applicants()
    publication: Applicants = Applicants()
    excessive: Applicants = Applicants()
    confirmation: Applicants = Applicants()


class OtherHandling2021(Strict):
    no_correction: Applicants = Applicants()
    unpaid_fee: Applicants = Applicants()
    other: Applicants = Applicants()


class Table3Of2019(Strict):
    new: Applicants = Applicants()
    carried_over: Applicants = Applicants()
    granted: Applicants = Applicants()
    partial: Applicants = Applicants()
    denied: Denied = Denied()
    unavailable: Unavailable = Unavailable()
    not_processed: NotProcessed = NotProcessed()
    other_handling: Applicants = Applicants()
    total_handled: Applicants = Applicants()
    carried_forward: Applicants = Applicants()


class Table3Of2021(Table3Of2019):
    other_handling: OtherHandling2021 = OtherHandling2021()  # type: ignore[assignment]


# 表四 复议诉讼 ---------------------------------------------------------------


class Outcomes(Strict):
    upheld: Count = Count()
    corrected: Count = Count()
    other: Count = Count()
    pending: Count = Count()
    total: Count = Count()


class Table4(Strict):
    reconsideration: Outcomes = Outcomes()
    litigation_direct: Outcomes = Outcomes()
    litigation_after: Outcomes = Outcomes()


# The report -------------------------------------------------------------------


class Meta(Strict):
    organ: str | None = None
    year: int | None = Field(default=None, description="The year the statistics cover.")
    organ_at: tuple[int, int] | None = Field(default=None, description="The organ's span in the document text.")
    year_at: tuple[int, int] | None = Field(default=None, description="The year's span in the document text.")
    title: str | None = None
    doc_number: str | None = Field(default=None, description="文号, where printed.")
    date: datetime.date | None = Field(default=None, description="成文日期, where printed.")


class Report2019(Strict):
    template: Literal["2019"] = "2019"
    meta: Meta = Meta()
    t2: Table2Of2019 = Table2Of2019()
    t3: Table3Of2019 = Table3Of2019()
    t4: Table4 = Table4()


class Report2021(Strict):
    template: Literal["2021"] = "2021"
    meta: Meta = Meta()
    t2: Table2Of2021 = Table2Of2021()
    t3: Table3Of2021 = Table3Of2021()
    t4: Table4 = Table4()


Report = Report2019 | Report2021
REPORT_MODELS: dict[str, type[Report2019] | type[Report2021]] = {"2019": Report2019, "2021": Report2021}

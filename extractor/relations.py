"""The template's cross-sums (勾稽关系), declared as data from the template's rows.

Ids are the spec's: `t3.row_total.<row>`, `t3.handled_sum.<applicant>`,
`t3.balance.<applicant>`, `t4.block_total.<block>`. Each holds wherever all of its terms are non-null.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from schemas.report import Template
from schemas.template import APPLICANTS, OUTCOMES, T3_ROWS, T4_BLOCKS

_NOT_OUTCOMES = {"t3.new", "t3.carried_over", "t3.total_handled", "t3.carried_forward"}


@dataclass(frozen=True)
class Relation:
    id: str
    left: tuple[str, ...]  # sum(left) must equal sum(right)
    right: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return self.left + self.right


@cache
def relations(template: Template) -> tuple[Relation, ...]:
    rows = [spec.key for spec in T3_ROWS[template]]
    outcomes = [row for row in rows if row not in _NOT_OUTCOMES]
    found: list[Relation] = []
    for row in rows:
        found.append(
            Relation(f"t3.row_total.{row[3:]}", (f"{row}.total",), tuple(f"{row}.{a}" for a in APPLICANTS[:-1]))
        )
    for a in APPLICANTS:
        found.append(Relation(f"t3.handled_sum.{a}", (f"t3.total_handled.{a}",), tuple(f"{r}.{a}" for r in outcomes)))
    for a in APPLICANTS:
        found.append(
            Relation(
                f"t3.balance.{a}",
                (f"t3.new.{a}", f"t3.carried_over.{a}"),
                (f"t3.total_handled.{a}", f"t3.carried_forward.{a}"),
            )
        )
    for block in T4_BLOCKS:
        found.append(
            Relation(f"t4.block_total.{block}", (f"t4.{block}.total",), tuple(f"t4.{block}.{o}" for o in OUTCOMES[:-1]))
        )
    return tuple(found)

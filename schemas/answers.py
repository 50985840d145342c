"""What the LLM fills: one table at a time, each row a short list of values in column order.

Rows as lists keep both the schema and the answer small. The models are made
from the template's declared rows, so they cannot drift from the report models.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from instructor import OpenAISchema
from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

from schemas.flat import cell_types, label
from schemas.report import Amount, Template
from schemas.template import T2_ROWS, T3_ROWS, T4_BLOCKS, T4_KEYS, RowSpec

TABLE_TITLES = {
    "t2": "表二 主动公开政府信息情况（第二十条第（一）（五）（六）（八）（九）项）",
    "t3": "表三 收到和处理政府信息公开申请情况",
    "t4": "表四 政府信息公开行政复议、行政诉讼情况",
}
Number = float | None  # JSON numbers; counts come back as whole numbers


def _drop_titles(schema: dict[str, Any]) -> None:
    """Field titles repeat the names; leaving them out saves the model's tokens."""
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


class Answer(OpenAISchema):  # instructor's own base: it then skips re-wrapping the model on every call
    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=_drop_titles)


def answer_rows(table: str, template: Template) -> list[tuple[str, list[str]]]:
    """(row name, its flat keys in column order) for each row of a table."""
    if table == "t4":
        return [(block, [k for k in T4_KEYS if k.startswith(f"t4.{block}.")]) for block in T4_BLOCKS]
    specs: tuple[RowSpec, ...] = (T2_ROWS if table == "t2" else T3_ROWS)[template]
    return [(spec.key.removeprefix(f"{table}."), spec.cell_keys()) for spec in specs]


@cache
def _row_type(width: int) -> type[RootModel]:
    """A row of `width` values, defined once in the schema and referenced by every row that wide."""
    row = Annotated[list[Number], Field(min_length=width, max_length=width)]
    return create_model(f"Row{width}", __base__=RootModel[row])


@cache
def table_answer(table: str, template: Template) -> type[Answer]:
    """The answer model for one table: a field per row, holding a fixed-length list of values."""
    rows = answer_rows(table, template)
    columns = {row: ", ".join(label(key).rsplit(" · ", 1)[-1] for key in keys) for row, keys in rows}
    uniform = len(set(columns.values())) == 1
    fields: dict[str, Any] = {}
    for index, (row, keys) in enumerate(rows):
        row_label = label(keys[0]).rsplit(" · ", 1)[0]
        kind = _row_type(len(keys))
        description = row_label if uniform else f"{row_label}: [{columns[row]}]"
        fields[f"r{index}"] = (kind, Field(alias=row, description=description))
    doc = TABLE_TITLES[table] + (f". Every row lists [{columns[rows[0][0]]}]" if uniform else "")
    return create_model(f"Table{table[1]}Of{template}", __base__=Answer, __doc__=doc, **fields)


def answer_to_fields(answer: Answer, table: str, template: Template) -> dict[str, Any]:
    """Flat key → value, the way the contract spells it (counts int, amounts Decimal)."""
    types = cell_types(template)
    out: dict[str, Any] = {}
    for index, (_row, keys) in enumerate(answer_rows(table, template)):
        for key, value in zip(keys, getattr(answer, f"r{index}").root, strict=True):
            out[key] = _as_contract_value(value, types[key] is Amount)
    return out


@cache
def cells_answer(keys: tuple[str, ...]) -> type[Answer]:
    """The answer model of a re-ask: exactly the cells asked for, named by their flat keys."""
    fields: dict[str, Any] = {
        f"c{index}": (Number, Field(alias=key, description=label(key))) for index, key in enumerate(keys)
    }
    return create_model("Cells", __base__=Answer, __doc__="The cells asked for, by their keys.", **fields)


def cells_to_fields(answer: Answer, keys: tuple[str, ...], template: Template) -> dict[str, Any]:
    types = cell_types(template)
    return {key: _as_contract_value(getattr(answer, f"c{i}"), types[key] is Amount) for i, key in enumerate(keys)}


def _as_contract_value(value: Number, amount: bool) -> int | Decimal | float | None:
    if value is None:
        return None
    if amount:
        return Decimal(str(value))
    return int(value) if value.is_integer() else value  # a fraction stays, for the verifier to refuse


@cache
def schema_version(model: type[BaseModel]) -> str:
    """A short hash of the JSON Schema the model is shown: part of the response cache key."""
    text = json.dumps(model.model_json_schema(by_alias=True), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]

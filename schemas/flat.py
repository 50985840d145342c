"""The bridge between the nested models and the contract's flat keys."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel

from schemas.report import REPORT_MODELS, Amount, Count, Meta, Report, Template

Cell = Count | Amount
Value = int | Decimal | None
TABLES = ("t2", "t3", "t4")


@cache
def contract() -> dict[str, dict[str, Any]]:
    """`fields.json`: every flat key with its Chinese label and templates."""
    return json.loads(resources.files("schemas").joinpath("fields.json").read_text("utf-8"))


def label(key: str) -> str:
    return contract()[key]["label"]


def _cell_paths(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, type[Cell]]]:
    for name, info in model.model_fields.items():
        kind = info.annotation
        path = f"{prefix}.{name}"
        if kind in (Count, Amount):
            yield path, kind
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _cell_paths(kind, path)


@cache
def cell_types(template: Template) -> dict[str, type[Cell]]:
    """Every flat key of a template, in table order, with its cell type."""
    model = REPORT_MODELS[template]
    out: dict[str, type[Cell]] = {}
    for table in TABLES:
        table_model = model.model_fields[table].annotation
        assert isinstance(table_model, type) and issubclass(table_model, BaseModel)
        out.update(_cell_paths(table_model, table))
    return out


def flat_keys(template: Template) -> list[str]:
    return list(cell_types(template))


def get_cell(report: Report, key: str) -> Cell:
    node: Any = report
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _walk(node: BaseModel, prefix: str) -> Iterator[tuple[str, Cell]]:
    for name, child in node.__dict__.items():
        if isinstance(child, Count | Amount):
            yield f"{prefix}.{name}", child
        elif isinstance(child, BaseModel):
            yield from _walk(child, f"{prefix}.{name}")


def iter_cells(report: Report) -> Iterator[tuple[str, Cell]]:
    """Every cell with its flat key, in table order."""
    for table in TABLES:
        yield from _walk(getattr(report, table), table)


def flatten(report: Report) -> dict[str, Value]:
    return {key: cell.value for key, cell in iter_cells(report)}


@cache
def _key_paths(template: Template) -> list[tuple[str, list[str], str]]:
    return [(key, key.split(".")[:-1], key.rsplit(".", 1)[1]) for key in cell_types(template)]


def build_report(template: Template, meta: Meta, cells: Mapping[str, Cell | dict[str, Any]]) -> Report:
    """A report from the cells that were read (models, or dicts to validate); every other cell is null.

    The whole tree is validated in one call, which is much faster than building each cell on its own.
    """
    nested: dict[str, Any] = {}
    for key, parents, last in _key_paths(template):
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = cells.get(key, {})
    return REPORT_MODELS[template].model_validate({"template": template, "meta": meta, **nested})


def unflatten(template: Template, fields: Mapping[str, Value], meta: Meta | None = None) -> Report:
    """Load flat fields back into a report. Every key of the template must be there, and no other."""
    types = cell_types(template)
    missing = sorted(set(types) - set(fields))
    unknown = sorted(set(fields) - set(types))
    if missing or unknown:
        raise ValueError(f"fields do not match template {template}: missing {missing[:5]}, unknown {unknown[:5]}")
    return build_report(template, meta or Meta(), {key: {"value": value} for key, value in fields.items()})

"""The models flatten losslessly to the contract's keys, and the exported JSON Schemas match the models."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from schemas.export import json_schema, schema_path
from schemas.flat import contract, flat_keys, flatten, unflatten
from schemas.report import TEMPLATES, Count, Provenance

SHARED_FIELDS = Path(__file__).parent.parent.parent / "shared" / "spec" / "fields.json"


def full_fields(template: str) -> dict:
    return {key: (Decimal("96171.6") if key.endswith("amount") else i) for i, key in enumerate(flat_keys(template))}


def test_the_bundled_contract_is_the_shared_one() -> None:
    if not SHARED_FIELDS.exists():
        pytest.skip("../shared is not beside this checkout")
    assert contract() == json.loads(SHARED_FIELDS.read_text("utf-8"))


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_template_flattens_to_exactly_its_contract_keys(template: str) -> None:
    expected = {key for key, spec in contract().items() if template in spec["templates"]}
    assert set(flat_keys(template)) == expected
    assert len(flat_keys(template)) == {"2019": 198, "2021": 200}[template]


@pytest.mark.parametrize("template", TEMPLATES)
def test_flatten_and_unflatten_round_trip(template: str) -> None:
    fields = full_fields(template)
    fields[next(iter(fields))] = None
    assert flatten(unflatten(template, fields)) == fields


def test_unflatten_refuses_missing_or_unknown_keys() -> None:
    fields = full_fields("2021")
    with pytest.raises(ValueError, match="missing"):
        unflatten("2021", {k: v for k, v in fields.items() if k != "t3.new.total"})
    with pytest.raises(ValueError, match="unknown"):
        unflatten("2021", {**fields, "t2.procurement.items": 1})


def test_cells_are_strict() -> None:
    with pytest.raises(ValidationError):
        Count(value="3")  # a string is not a count
    with pytest.raises(ValidationError):
        Count(value=3, note="x")  # no undeclared fields
    with pytest.raises(ValidationError):
        Provenance(raw="3", start=-1, end=1)


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_exported_schema_files_match_the_models(template: str) -> None:
    on_disk = json.loads(schema_path(template).read_text("utf-8"))
    assert on_disk == json_schema(template), "run `nianbao schema` to re-export"


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_dumped_report_validates_against_its_schema_and_a_bad_one_does_not(template: str) -> None:
    schema = json.loads(schema_path(template).read_text("utf-8"))
    report = unflatten(template, full_fields(template))
    jsonschema.validate(report.model_dump(mode="json"), schema)
    bad = report.model_dump(mode="json")
    bad["t3"]["new"]["total"]["value"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    wrong_template = report.model_dump(mode="json")
    wrong_template["template"] = "2021" if template == "2019" else "2019"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong_template, schema)

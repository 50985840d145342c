"""Gold files: the spec's format (one JSON file per report), reading them, and linting them.

`nianbao gold check DIR` runs `check`: every problem a gold folder can have, each naming its file,
so hand-labelled and promoted gold can be trusted before anything is scored against it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from extractor.errors import NianbaoError
from extractor.relations import Relation, relations
from schemas.flat import Value, flat_keys
from schemas.report import Template


class GoldError(NianbaoError):
    """A gold file that cannot be used; the message names the file and the problem."""


class Gold(BaseModel):
    """The spec's gold file; `sha256` (of the source file's bytes) is ours, and optional."""

    model_config = ConfigDict(extra="forbid")

    source: str
    organ: str | None
    year: int | None
    template: Template
    fields: dict[str, int | Decimal | None]
    source_inconsistencies: list[str] = []
    sha256: str | None = None


def read_gold(path: Path) -> Gold:
    """One gold file, its format and its template's keys checked."""
    try:
        gold = Gold.model_validate(json.loads(path.read_text("utf-8"), parse_float=Decimal))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as error:
        raise GoldError(f"{path}: not a gold file: {_first_line(error)}") from error
    expected = set(flat_keys(gold.template))
    missing, unknown = sorted(expected - set(gold.fields)), sorted(set(gold.fields) - expected)
    if missing or unknown:
        raise GoldError(
            f"{path}: fields do not match the {gold.template} template's keys"
            f" (missing {_few(missing)}; not in the template {_few(unknown)})"
        )
    return gold


def load_gold(directory: Path) -> list[Gold]:
    if not directory.is_dir():
        raise GoldError(f"{directory}: not a folder of gold files")
    return [read_gold(path) for path in sorted(directory.glob("*.json"))]


def gold_json(gold: Gold) -> str:
    """The file's text, as `review promote` writes it and the spec shows it."""
    data = gold.model_dump(mode="json", exclude_none=False)
    if data["sha256"] is None:
        del data["sha256"]
    data["fields"] = {key: _plain(value) for key, value in gold.fields.items()}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _plain(value: Value) -> int | float | None:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# Lint ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


def check(directory: Path, sources: Path | None = None) -> list[Problem]:
    """Every problem of the gold folder: format and keys, declared inconsistencies, source file and sha256.

    Sources are looked for in `sources`, by default the folder `corpus` beside the gold folder.
    """
    folder = sources or directory.parent / "corpus"
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            gold = read_gold(path)
        except GoldError as error:
            problems.append(Problem(path.name, str(error).removeprefix(f"{path}: ")))
            continue
        if gold.source in seen:
            problems.append(Problem(path.name, f"labels {gold.source}, which {seen[gold.source]} labels too"))
        seen[gold.source] = path.name
        problems += [Problem(path.name, text) for text in _inconsistency_problems(gold)]
        problems += [Problem(path.name, text) for text in _source_problems(gold, folder)]
    if not seen and not problems:
        problems.append(Problem(str(directory), "no gold files (*.json) in this folder"))
    return problems


def _inconsistency_problems(gold: Gold) -> list[str]:
    """Declared inconsistencies must be relations of the template that the gold numbers break, and all of them."""
    by_id = {relation.id: relation for relation in relations(gold.template)}
    declared = set(gold.source_inconsistencies)
    problems = [
        f"source_inconsistencies names {rid}, not a relation of the {gold.template} template"
        for rid in sorted(declared - set(by_id))
    ]
    broken = {rid for rid, relation in by_id.items() if _breaks(gold, relation)}
    problems += [
        f"source_inconsistencies names {rid}, but the gold numbers satisfy it (or leave a term null)"
        for rid in sorted((declared & set(by_id)) - broken)
    ]
    problems += [
        f"the gold numbers break {rid}, which source_inconsistencies does not declare"
        for rid in sorted(broken - declared)
    ]
    return problems


def _breaks(gold: Gold, relation: Relation) -> bool:
    values = [gold.fields.get(key) for key in relation.keys]
    if any(value is None for value in values):
        return False
    return _sum(gold, relation.left) != _sum(gold, relation.right)


def _sum(gold: Gold, keys: tuple[str, ...]) -> Decimal:
    return sum((Decimal(str(gold.fields[key])) for key in keys), Decimal(0))


def _source_problems(gold: Gold, folder: Path) -> list[str]:
    path = folder / gold.source
    if Path(gold.source).name != gold.source:
        return [f"source {gold.source!r} is not a plain file name"]
    if not path.is_file():
        return [f"source {gold.source} not found in {folder}"]
    if gold.sha256 is None:
        return [f"no sha256 recorded for {gold.source} (it is {_sha256(path)})"]
    if _sha256(path) != gold.sha256:
        return [f"{gold.source} has changed: its sha256 is {_sha256(path)}, the gold records {gold.sha256}"]
    return []


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _few(keys: list[str]) -> str:
    return (", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")) if keys else "none"


def _first_line(error: Exception) -> str:
    return " ".join(str(error).split())[:200]

"""A reviewed report as a gold file: what a person accepted or corrected becomes what `nianbao eval` scores against.

The file is the spec's gold format (`extractor.gold.Gold`): the reviewed result's organ, year, template and every
field of its template, and the relations the reviewer marked as the report's own inconsistencies. It is written
whole or not at all, and the promotion is recorded in the review table.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from extractor.gold import Gold, GoldError, gold_json, read_gold
from extractor.review import NoSuchResult, ReviewError, latest_values
from extractor.store import Store
from schemas.flat import flat_keys


def gold_for(store: Store, result_id: int) -> Gold:
    """The gold of the document result `result_id` belongs to, from its newest result, which a person reviewed."""
    newest = store.newest(result_id)
    if newest is None:
        raise NoSuchResult(f"no result {result_id} in the store")
    _, status, result = newest
    if status != "reviewed" or result.template is None:
        raise ReviewError(
            f"result {result_id} ({result.source}) has not been accepted or corrected by a reviewer"
            f" (its newest result is {status}); only a reviewed report becomes gold"
        )
    marked = latest_values(store.reviews(result_id), "inconsistency")
    return Gold(
        source=result.source,
        sha256=result.sha256,
        organ=result.organ,
        year=result.year,
        template=result.template,
        fields={key: result.fields.get(key) for key in flat_keys(result.template)},
        source_inconsistencies=sorted(key for key, flag in marked.items() if flag == "1"),
    )


def gold_path(folder: Path, gold: Gold) -> Path:
    """The file for `gold` in `folder`: its source's name with .json, as eval/gold names them."""
    return folder / (Path(gold.source).stem + ".json")


def promote(store: Store, result_id: int, folder: Path, reviewer: str | None = None) -> Path:
    """Write the reviewed report `result_id` to `folder` as a gold file; returns its path. The promotion is recorded
    as `reviewer`'s (by default, whoever accepted the report last).

    A file already there is replaced only if it is the gold of the same source (a report reviewed again).
    """
    gold = gold_for(store, result_id)
    if not folder.is_dir():
        raise ReviewError(f"{folder}: no such gold folder")
    target = gold_path(folder, gold)
    if target.exists():
        try:
            existing = read_gold(target).source
        except GoldError:
            existing = None
        if existing != gold.source:
            raise ReviewError(f"{target}: already holds the gold of another file; not replaced")
    _write_atomically(target, gold_json(gold))
    accepted = [row["reviewer"] for row in store.reviews(result_id) if row["decision"] == "accept"]
    store.review(result_id, reviewer or (accepted[-1] if accepted else "?"), "promote", note=str(target))
    return target


def _write_atomically(target: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o644)  # as any file the user writes, not mkstemp's 0600
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def reviewed_ids(store: Store) -> list[int]:
    """The queue ids (machine results) of every document whose newest result a person reviewed."""
    return sorted(
        result_id
        for result_id, decided in store.decisions().items()
        if "accept" in decided and (newest := store.newest(result_id)) is not None and newest[1] == "reviewed"
    )

"""Does the verifier catch a wrong number? Single-cell mutations of verified results, re-checked.

    python benchmarks/bench_mutations.py [--count 8]

Every verified result of the gold set (eval/gold, tests/cases) and of generated reports in each layout
is mutated one cell at a time, and each mutant is re-checked from scratch against its source, as
`nianbao verify` does (`pipeline.reverify`). The mutations:

- off by one: a value plus one, its span kept;
- swap in row: two cells of one row trade value and span;
- swap across rows: a cell trades value and span with the same column of another row;
- to null: a value dropped (its span too);
- elsewhere: a number printed elsewhere in the text, given with its real span.

A mutation that leaves every value unchanged (two equal values swapped, a number taken from elsewhere
that equals the cell's) is trivial and counted apart. Printed: the share of the others caught (the
mutant is no longer `verified`), per kind. Target: 100%.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "eval"))

import generate  # noqa: E402

from extractor.document import Document  # noqa: E402
from extractor.ingest import read_document  # noqa: E402
from extractor.pipeline import extract_file, reverify  # noqa: E402
from schemas.report import Provenance  # noqa: E402
from schemas.result import Result  # noqa: E402

KINDS = ("off by one", "swap in row", "swap across rows", "to null", "elsewhere")
_NUMBER = re.compile(r"(?<![\d.])\d+(?![\d.])")


def sources(folder: Path, count: int) -> Iterator[Path]:
    """The gold set's sources and generated reports in every layout."""
    yield from (ROOT / "eval" / "corpus").glob("*.*")
    yield from (ROOT / "tests" / "cases").glob("*.txt")
    for kind in ("text", *generate.RENDERINGS):
        for index in range(count):
            s = generate.generate(11, index)
            if kind == "text":
                yield generate.write_text(s, folder / kind)
            else:
                yield generate.write_rendering(s, folder / kind, kind)


def row_of(key: str) -> str:
    return key.rsplit(".", 1)[0]


def mutants(result: Result, document: Document, rng: random.Random) -> Iterator[tuple[str, Result, bool]]:
    """(kind, mutant, trivial) for every single-cell mutation of one verified result."""
    cells = {key: value for key, value in result.fields.items() if value is not None}
    keys = sorted(cells)
    for key in keys:
        value = cells[key]
        yield "off by one", changed(result, {key: (value + 1, result.provenance[key])}), False
        yield "to null", changed(result, {key: (None, None)}), False
        place = other_number(document, result.provenance[key], rng)
        if place is not None:
            number, span = place
            yield "elsewhere", changed(result, {key: (number, span)}), number == value
    for key in keys:
        for other in keys:
            if other <= key:
                continue
            same_row = row_of(key) == row_of(other)
            same_column = key.rsplit(".", 1)[1] == other.rsplit(".", 1)[1] and key.split(".")[0] == other.split(".")[0]
            if not (same_row or same_column):
                continue
            swap = {key: (cells[other], result.provenance[other]), other: (cells[key], result.provenance[key])}
            yield ("swap in row" if same_row else "swap across rows"), changed(result, swap), cells[key] == cells[other]


def other_number(document: Document, own: Provenance, rng: random.Random) -> tuple[int, Provenance] | None:
    """A number printed somewhere else in the document, with its span."""
    found = [m for m in _NUMBER.finditer(document.text) if not (own.start <= m.start() < own.end)]
    if not found:
        return None
    match = rng.choice(found)
    return int(match.group()), Provenance(raw=match.group(), start=match.start(), end=match.end())


def changed(result: Result, edits: dict[str, tuple[object, Provenance | None]]) -> Result:
    fields = dict(result.fields)
    provenance = dict(result.provenance)
    for key, (value, span) in edits.items():
        fields[key] = value  # type: ignore[assignment]
        if span is None:
            provenance.pop(key, None)
        else:
            provenance[key] = span
    return result.model_copy(update={"fields": fields, "provenance": provenance})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=8, help="generated reports per layout")
    args = parser.parse_args(argv)
    rng = random.Random(7)
    caught: Counter[str] = Counter()
    tried: Counter[str] = Counter()
    trivial: Counter[str] = Counter()
    missed: list[str] = []
    reports = 0
    with tempfile.TemporaryDirectory() as scratch:
        for path in sources(Path(scratch), args.count):
            result = extract_file(path)
            if result.status != "verified":
                continue
            reports += 1
            document = read_document(path)
            for kind, mutant, is_trivial in mutants(result, document, rng):
                if is_trivial:
                    trivial[kind] += 1
                    continue
                tried[kind] += 1
                if reverify(mutant, document).status != "verified":
                    caught[kind] += 1
                elif len(missed) < 10:
                    missed.append(f"{kind}: {path.name}")
    print(f"{reports} verified reports mutated, one cell at a time, each mutant re-checked as `nianbao verify` does")
    print(f"{'mutation':18} {'mutants':>8} {'caught':>8} {'share':>8} {'trivial':>8}")
    for kind in KINDS:
        share = caught[kind] / tried[kind] if tried[kind] else 1.0
        print(f"{kind:18} {tried[kind]:8} {caught[kind]:8} {share:8.2%} {trivial[kind]:8}")
    total = sum(tried.values())
    print(
        f"{'all':18} {total:8} {sum(caught.values()):8} {sum(caught.values()) / total:8.2%} {sum(trivial.values()):8}"
    )
    for line in missed:
        print("  missed:", line)
    print("target: 100% of non-trivial mutations caught:", "meets" if not missed else "DOES NOT MEET")
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())

"""The `nianbao` command line.

Results go to stdout (or --output) as JSON lines; tables and summaries go to stderr.
Exit codes: 0 every report verified; 1 some flagged, none failed; 2 bad usage;
3 some report could not be read. `eval` exits 1 when a verified report holds a wrong number.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.table import Table

from extractor.document import IngestError
from extractor.evaluate import Scorecard, load_gold, score
from extractor.inference import LLM
from extractor.ingest import SUPPORTED_SUFFIXES, read_document
from extractor.pipeline import extract_file, failed, reverify
from extractor.settings import Settings
from extractor.store import Store
from schemas.export import write_schemas
from schemas.result import Result, dump_line, load_line

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)  # logs get room to read

EXIT_FLAGGED, EXIT_USAGE, EXIT_FAILED = 1, 2, 3


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given; folders searched recursively for the formats we read."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            yield path


def extract_safely(path: Path, llm: LLM | None = None) -> Result:
    """One file's result; a bug on one file fails that file, never the batch."""
    try:
        return extract_file(path, llm)
    except Exception as error:
        return failed(path.name, f"internal error: {type(error).__name__}: {error}")


def _write(results: Iterable[Result], output: TextIO) -> list[Result]:
    done = []
    for result in results:
        output.write(dump_line(result) + "\n")
        output.flush()  # a finished report is on disk before the next one starts
        done.append(result)
    return done


def _why(result: Result) -> str:
    """The first error's rule, or the read error, in a few words."""
    if result.error:
        return result.error
    errors = [f.rule for f in result.findings if f.severity == "error"]
    warnings = len(result.findings) - len(errors)
    parts = [errors[0] + (f" +{len(errors) - 1} more" if len(errors) > 1 else "")] if errors else []
    return ", ".join([*parts, f"{warnings} warnings"] if warnings else parts)


def _summary(results: list[Result], quiet: bool) -> int:
    counts = Counter(result.status for result in results)
    if not quiet:
        table = Table("source", "status", "tmpl", "year", "why", box=box.SIMPLE)
        colour = {"verified": "green", "flagged": "yellow", "failed": "red"}
        for r in results:
            table.add_row(r.source, f"[{colour[r.status]}]{r.status}[/]", r.template or "", str(r.year or ""), _why(r))
        err.print(table)
        err.print(
            f"{len(results)} reports: {counts['verified']} verified, {counts['flagged']} flagged, "
            f"{counts['failed']} failed"
        )
    if counts["failed"]:
        return EXIT_FAILED
    return EXIT_FLAGGED if counts["flagged"] else 0


OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write JSON lines here instead of stdout.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No table on stderr.")]


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Report files, or folders to search.")],
    output: OutputOption = None,
    quiet: QuietOption = False,
    backend: Annotated[
        str | None, typer.Option(help="rules, llm or hybrid [default: hybrid with an endpoint, else rules]")
    ] = None,
    model: Annotated[str | None, typer.Option(help="The model's name at the endpoint.")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    ] = None,
    api_key_env: Annotated[str | None, typer.Option(help="The environment variable holding the API key.")] = None,
    mode: Annotated[str | None, typer.Option(help="instructor mode: tools, json_schema, json or md_json.")] = None,
    max_attempts: Annotated[int | None, typer.Option(help="LLM rounds per report (extraction + re-asks).")] = None,
    store: Annotated[Path | None, typer.Option(help="SQLite log of every LLM call, and the cache.")] = None,
) -> None:
    """Extract and verify reports; one JSON line per report.

    Offline by default (the template parser). With --model/--base-url (or NIANBAO_* variables,
    or nianbao.toml) the hybrid backend asks the LLM for what the parser cannot verify.

    Examples: nianbao extract eval/corpus -o results.jsonl;
    nianbao extract report.pdf --backend llm --base-url http://127.0.0.1:8080/v1 --model local
    """
    flags = {
        "backend": backend,
        "model": model,
        "base_url": base_url,
        "api_key_env": api_key_env,
        "mode": mode,
        "max_attempts": max_attempts,
        "store": store,
    }
    try:
        settings = Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as error:
        err.print(f"[red]bad settings:[/] {error}")
        raise typer.Exit(EXIT_USAGE) from error
    files = list(expand(paths))
    if not files:
        err.print("[red]no report files found[/] in " + ", ".join(map(str, paths)))
        raise typer.Exit(EXIT_USAGE)
    llm = None if settings.chosen_backend == "rules" else LLM(settings, Store(settings.store))
    with _open_output(output) as out:
        results = _write((extract_safely(path, llm) for path in files), out)
    if not quiet and llm is not None:
        _print_usage(results)
    raise typer.Exit(_summary(results, quiet))


def _print_usage(results: list[Result]) -> None:
    calls = sum(r.usage.calls for r in results if r.usage)
    tokens_in = sum(r.usage.tokens_in for r in results if r.usage)
    tokens_out = sum(r.usage.tokens_out for r in results if r.usage)
    costs = [r.usage.cost for r in results if r.usage and r.usage.cost is not None]
    cost = f", ${sum(costs):.4f}" if costs else ""
    err.print(f"LLM: {calls} calls, {tokens_in} tokens in, {tokens_out} tokens out{cost}")


@app.command()
def verify(
    results_file: Annotated[Path, typer.Argument(help="A JSON-lines file written by `nianbao extract`.")],
    sources: Annotated[list[Path], typer.Option("--sources", "-s", help="Folders holding the source files.")],
    output: OutputOption = None,
    quiet: QuietOption = False,
) -> None:
    """Re-check saved results against their source files, from scratch.

    Example: nianbao verify results.jsonl --sources eval/corpus
    """
    by_name = {path.name: path for path in expand(sources)}
    with _open_output(output) as out:
        rechecked = _write((_reverify_line(line, by_name) for line in _read_lines(results_file)), out)
    raise typer.Exit(_summary(rechecked, quiet))


def _reverify_line(line: str, sources: dict[str, Path]) -> Result:
    try:
        result = load_line(line)
    except ValueError as error:
        return failed("?", f"not a nianbao result line: {str(error)[:200]}")
    if result.status == "failed":
        return result
    if result.source not in sources:
        return failed(result.source, "source file not found in --sources", result.sha256)
    try:
        document = read_document(sources[result.source])
    except IngestError as error:
        return failed(result.source, error.problem, result.sha256)
    if result.sha256 and document.sha256 != result.sha256:
        return failed(result.source, "the source file changed since it was extracted (sha256 differs)", result.sha256)
    return reverify(result, document)


@app.command(name="eval")
def evaluate(
    gold: Annotated[Path, typer.Option("--gold", help="Folder of gold JSON files.")],
    sources: Annotated[
        Path | None, typer.Option(help="Folder of the gold reports' sources [default: GOLD/../corpus].")
    ] = None,
    results_file: Annotated[
        Path | None, typer.Option("--results", help="Score these results instead of extracting.")
    ] = None,
    all_fields: Annotated[
        bool, typer.Option("--all-fields", help="List every field, not only imperfect ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON on stdout.")] = False,
) -> None:
    """Score extraction against hand-labelled gold files: per field, per table, per report.

    Example: nianbao eval --gold eval/gold
    """
    golds = load_gold(gold)
    if results_file:
        results = {r.source: r for r in map(load_line, _read_lines(results_file))}
    else:
        folder = sources or gold.parent / "corpus"
        results = {g.source: extract_safely(folder / g.source) for g in golds}
    card = score(golds, results)
    if as_json:
        print(json.dumps(_card_json(card), ensure_ascii=False, indent=1))
    else:
        _print_card(card, all_fields)
    raise typer.Exit(1 if card.outcomes()["verified-wrong"] else 0)


def _card_json(card: Scorecard) -> dict:
    return {
        "field_accuracy": card.field_accuracy,
        "outcomes": card.outcomes(),
        "tables": {t: sum(oks) / len(oks) for t, oks in card.per_table.items()},
        "reports": [
            {
                "source": r.source,
                "status": r.status,
                "outcome": r.outcome,
                "right": r.right,
                "total": r.total,
                "exact": r.exact,
                "template_right": r.template_right,
                "meta_right": r.meta_right,
                "wrong": r.wrong_keys,
                "inconsistencies_expected": r.inconsistencies_expected,
                "inconsistencies_flagged": r.inconsistencies_flagged,
            }
            for r in card.reports
        ],
        "fields": {key: sum(oks) / len(oks) for key, oks in card.per_field.items()},
    }


def _print_card(card: Scorecard, all_fields: bool) -> None:
    reports = Table(
        "source",
        "outcome",
        "fields right",
        "tmpl",
        "organ/year",
        "inconsistencies gold | flagged",
        title="Per report",
        box=box.SIMPLE,
    )
    for r in card.reports:
        inconsistencies = (
            f"{', '.join(r.inconsistencies_expected) or '-'} | {', '.join(r.inconsistencies_flagged) or '-'}"
        )
        reports.add_row(
            r.source,
            r.outcome if r.outcome != "verified-wrong" else f"[red]{r.outcome}[/]",
            f"{r.right}/{r.total}",
            "ok" if r.template_right else "[red]wrong[/]",
            "ok" if r.meta_right else "[yellow]differs[/]",
            inconsistencies,
        )
    err.print(reports)
    tables = Table("table", "cells", "accuracy", title="Per table", box=box.SIMPLE)
    for name, oks in sorted(card.per_table.items()):
        tables.add_row(name, str(len(oks)), f"{sum(oks) / len(oks):.1%}")
    err.print(tables)
    fields = Table(
        "field", "reports", "accuracy", box=box.SIMPLE, title="Per field" + ("" if all_fields else " (below 100%)")
    )
    for key, oks in card.per_field.items():
        if all_fields or not all(oks):
            fields.add_row(key, str(len(oks)), f"{sum(oks) / len(oks):.1%}")
    err.print(fields if fields.rows else "Per field: every field 100% (--all-fields lists them)")
    outcomes = card.outcomes()
    exact = sum(r.exact for r in card.reports)
    err.print(
        f"field accuracy {card.field_accuracy:.2%} over {sum(map(len, card.per_field.values()))} cells; "
        f"{exact}/{len(card.reports)} reports exactly right\n"
        f"{outcomes['verified-right']} verified and right, {outcomes['verified-wrong']} verified and wrong, "
        f"{outcomes['flagged']} flagged, {outcomes['failed']} failed"
    )


@app.command()
def schema(
    out: Annotated[Path, typer.Option(help="Folder to write report-2019/2021.schema.json into.")] = Path("schemas"),
) -> None:
    """Export the JSON Schema of each template version."""
    for path in write_schemas(out):
        err.print(f"wrote {path}")


def _read_lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text("utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        err.print(f"[red]{path}: cannot read: {error}[/]")
        raise typer.Exit(EXIT_USAGE) from error


@contextmanager
def _open_output(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a file opened for writing."""
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8") as handle:
        yield handle

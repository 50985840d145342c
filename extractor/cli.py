"""The `nianbao` command line.

Results go to stdout (or --output) as JSON lines; tables and summaries go to stderr.
Exit codes: 0 every report verified; 1 some flagged, none failed; 2 bad usage;
3 some report could not be read. `eval` exits 1 when a verified report holds a wrong number.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from extractor import export, jobs, review
from extractor.document import IngestError
from extractor.evaluate import ReportScore, Scorecard, load_gold, score
from extractor.inference import LLM
from extractor.ingest import SUPPORTED_SUFFIXES, read_document
from extractor.pipeline import extract_safely, failed, reverify
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


BackendOption = Annotated[
    str | None, typer.Option(help="rules, llm or hybrid [default: hybrid with an endpoint, else rules]")
]
ModelOption = Annotated[str | None, typer.Option(help="The model's name at the endpoint.")]
BaseUrlOption = Annotated[str | None, typer.Option(help="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")]
KeyEnvOption = Annotated[str | None, typer.Option(help="The environment variable holding the API key.")]
ModeOption = Annotated[str | None, typer.Option(help="instructor mode: tools, json_schema, json or md_json.")]
AttemptsOption = Annotated[int | None, typer.Option(help="LLM rounds per report (extraction + re-asks).")]
StoreOption = Annotated[Path | None, typer.Option(help="The SQLite store [default: nianbao.db].")]


def _settings(**flags: object) -> Settings:
    """Settings from these flags over NIANBAO_* variables over nianbao.toml; bad ones end with exit 2."""
    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as error:
        err.print(f"[red]bad settings:[/] {error}")
        raise typer.Exit(EXIT_USAGE) from error


def _files(paths: list[Path]) -> list[Path]:
    files = list(expand(paths))
    if not files:
        err.print("[red]no report files found[/] in " + ", ".join(map(str, paths)))
        raise typer.Exit(EXIT_USAGE)
    return files


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Report files, or folders to search.")],
    output: OutputOption = None,
    quiet: QuietOption = False,
    backend: BackendOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    api_key_env: KeyEnvOption = None,
    mode: ModeOption = None,
    max_attempts: AttemptsOption = None,
    store: StoreOption = None,
) -> None:
    """Extract and verify reports; one JSON line per report.

    Offline by default (the template parser). With --model/--base-url (or NIANBAO_* variables,
    or nianbao.toml) the hybrid backend asks the LLM for what the parser cannot verify.

    Examples: nianbao extract eval/corpus -o results.jsonl;
    nianbao extract report.pdf --backend llm --base-url http://127.0.0.1:8080/v1 --model local
    """
    settings = _settings(
        backend=backend,
        model=model,
        base_url=base_url,
        api_key_env=api_key_env,
        mode=mode,
        max_attempts=max_attempts,
        store=store,
    )
    files = _files(paths)
    llm = None if settings.chosen_backend == "rules" else LLM(settings, Store(settings.store))
    with _open_output(output) as out:
        results = _write((extract_safely(path, llm) for path in files), out)
    if not quiet and llm is not None:
        _print_usage(results)
    raise typer.Exit(_summary(results, quiet))


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(help="Folders, files, or a text file of paths given as @LIST.")],
    store: StoreOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
    log: Annotated[Path | None, typer.Option(help="Append machine-readable JSON events here.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [default: one per core].")] = None,
    concurrency: Annotated[int | None, typer.Option(help="LLM calls in flight at once.")] = None,
    requests_per_minute: Annotated[int | None, typer.Option(help="The endpoint's request limit.")] = None,
    tokens_per_minute: Annotated[int | None, typer.Option(help="The endpoint's token limit.")] = None,
    backend: BackendOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    api_key_env: KeyEnvOption = None,
    mode: ModeOption = None,
    max_attempts: AttemptsOption = None,
) -> None:
    """Extract a whole batch into the store: resumable, concurrent, with progress.

    Run the same command again after an interruption: finished reports are not redone.
    A new model, prompt or schema version makes new results beside the old ones.

    Examples: nianbao run reports/ --store reports.db; nianbao run @files.txt --log run.jsonl -q
    """
    settings = _settings(
        backend=backend,
        model=model,
        base_url=base_url,
        api_key_env=api_key_env,
        mode=mode,
        max_attempts=max_attempts,
        store=store,
        concurrency=concurrency,
        requests_per_minute=requests_per_minute,
        tokens_per_minute=tokens_per_minute,
    )
    files = _files(_with_lists(paths))
    events = log.open("a", encoding="utf-8") if log else None
    with BatchProgress(quiet, events) as progress:
        tally = jobs.run(files, Store(settings.store), settings, progress.planned, progress.result, workers)
    raise typer.Exit(EXIT_FAILED if tally.failed else EXIT_FLAGGED if tally.flagged else 0)


def _with_lists(paths: list[Path]) -> list[Path]:
    """`@LIST` stands for the paths written in the file LIST, one a line."""
    out: list[Path] = []
    for path in paths:
        if str(path).startswith("@"):
            listed = Path(str(path)[1:]).read_text("utf-8").splitlines()
            out += [Path(line.strip()) for line in listed if line.strip()]
        else:
            out.append(path)
    return out


class BatchProgress:
    """A live bar with verified/flagged/failed counts, rate and ETA; JSON events for scripts; a summary."""

    def __init__(self, quiet: bool, events: TextIO | None) -> None:
        self.quiet = quiet
        self.events = events
        self.tally = jobs.Tally()
        self.started = time.monotonic()
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=err,
            disable=quiet,
        )
        self.task = self.bar.add_task("reports", total=None, counts="", rate="")

    def __enter__(self) -> BatchProgress:
        return self

    def planned(self, total: int, tally: jobs.Tally) -> None:
        self.bar.start()  # only now: the run forks its workers first, and a fork should not copy a live thread
        self.tally = tally
        self.bar.update(self.task, total=total)
        self._event(event="planned", todo=total, skipped=tally.skipped, duplicates=tally.duplicates)

    def result(self, result: Result) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        counts = (
            f"[green]{self.tally.verified} verified[/] [yellow]{self.tally.flagged} flagged[/] "
            f"[red]{self.tally.failed} failed[/]"
        )
        self.bar.update(self.task, advance=1, counts=counts, rate=f"{self.tally.done / elapsed:.1f}/s")
        errors = sum(f.severity == "error" for f in result.findings)
        self._event(
            event="result",
            source=result.source,
            sha256=result.sha256,
            status=result.status,
            errors=errors,
            error=result.error,
        )

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()
        elapsed = time.monotonic() - self.started
        t = self.tally
        self._event(
            event="summary",
            verified=t.verified,
            flagged=t.flagged,
            failed=t.failed,
            skipped=t.skipped,
            duplicates=t.duplicates,
            seconds=round(elapsed, 3),
        )
        if self.events:
            self.events.close()
        if not self.quiet:
            err.print(
                f"{t.done} reports in {elapsed:.1f} s ({t.done / max(elapsed, 1e-9):.1f}/s): "
                f"{t.verified} verified, {t.flagged} flagged, {t.failed} failed; "
                f"{t.skipped} already done, {t.duplicates} duplicates"
            )

    def _event(self, **event: object) -> None:
        if self.events:
            self.events.write(json.dumps({"time": time.time(), **event}, ensure_ascii=False) + "\n")
            self.events.flush()


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
        "organ_accuracy": card.organ_accuracy,
        "year_accuracy": card.year_accuracy,
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
                "organ_right": r.organ_right,
                "year_right": r.year_right,
                "wrong": r.wrong_keys,
                "inconsistencies_expected": r.inconsistencies_expected,
                "inconsistencies_flagged": r.inconsistencies_flagged,
            }
            for r in card.reports
        ],
        "fields": {key: sum(oks) / len(oks) for key, oks in card.per_field.items()},
    }


def _meta_cell(report: ReportScore) -> str:
    wrong = [name for name, right in (("organ", report.organ_right), ("year", report.year_right)) if not right]
    return f"[red]{' '.join(wrong)}[/]" if wrong else "ok"


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
            _meta_cell(r),
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
        f"organ right {sum(r.organ_right for r in card.reports)}/{len(card.reports)} ({card.organ_accuracy:.2%}), "
        f"year right {sum(r.year_right for r in card.reports)}/{len(card.reports)} ({card.year_accuracy:.2%})\n"
        f"{outcomes['verified-right']} verified and right, {outcomes['verified-wrong']} verified and wrong, "
        f"{outcomes['flagged']} flagged, {outcomes['failed']} failed"
    )


review_app = typer.Typer(no_args_is_help=True, help="The review queue: flagged reports, worst first, for a person.")
app.add_typer(review_app, name="review")


@review_app.command("list")
def review_list(
    store: StoreOption = None,
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = 50,
) -> None:
    """Flagged reports, worst first (most errors), with their reasons.

    Example: nianbao review list --store reports.db
    """
    queue = review.queue(Store(_settings(store=store).store))
    table = Table("id", "source", "errors", "warnings", "reasons", box=box.SIMPLE, title=f"{len(queue)} flagged")
    for item in queue[:limit]:
        table.add_row(str(item.result_id), item.result.source, str(item.errors), str(item.warnings), item.reasons)
    err.print(table)


@review_app.command("show")
def review_show(
    result_id: Annotated[int, typer.Argument(help="The id from `review list`.")],
    store: StoreOption = None,
) -> None:
    """A flagged report's findings, each beside the source lines it refers to.

    Example: nianbao review show 12 --store reports.db
    """
    found = review.item(Store(_settings(store=store).store), result_id)
    if found is None:
        err.print(f"[red]no result {result_id} in the store[/]")
        raise typer.Exit(EXIT_USAGE)
    err.print(
        f"[bold]{found.result.source}[/] {found.result.organ or ''} {found.result.year or ''} "
        f"({found.result.template}), {found.result.status}"
    )
    for finding, lines in found.with_source_lines():
        colour = {"error": "red", "warning": "yellow", "info": "cyan"}[finding.severity]
        err.print(f"[{colour}]{finding.severity}[/] {finding.rule} ({finding.blame}): {finding.zh}\n  {finding.en}")
        for number, text in lines:
            err.print(f"    {number:>5} | {text}", markup=False, highlight=False)


@review_app.command("export")
def review_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="An .xlsx or .csv file.")] = Path("review.xlsx"),
    store: StoreOption = None,
) -> None:
    """The queue as a spreadsheet a reviewer can work in: a row per finding, with columns for the decision.

    Example: nianbao review export -o review.xlsx --store reports.db
    """
    rows = review.export(Store(_settings(store=store).store), output)
    err.print(f"wrote {rows} findings to {output}")


@review_app.command("decide")
def review_decide(
    result_id: Annotated[int, typer.Argument(help="The id from `review list`.")],
    reviewer: Annotated[str, typer.Option(help="Who decides.")],
    decision: Annotated[str, typer.Option(help="accept, reject or correct.")],
    key: Annotated[str | None, typer.Option(help="With correct: the flat key of the cell.")] = None,
    value: Annotated[str | None, typer.Option(help="With correct: its value as printed in the source.")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    store: StoreOption = None,
) -> None:
    """Record a reviewer's decision or correction (kept with who and when; the result itself is not changed).

    Example: nianbao review decide 12 --reviewer 王芳 --decision correct --key t3.new.total --value 288
    """
    try:
        review_id = review.decide(Store(_settings(store=store).store), result_id, reviewer, decision, key, value, note)
    except ValueError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(EXIT_USAGE) from error
    err.print(f"recorded review {review_id}")


@app.command(name="export")
def export_results(
    output: Annotated[Path, typer.Argument(help="The file to write.")],
    format: Annotated[
        str | None, typer.Option(help="csv, xlsx, jsonl or parquet [default: from the file name].")
    ] = None,
    labels: Annotated[str, typer.Option(help="Column headers: en (flat keys) or zh (Chinese labels).")] = "en",
    results_file: Annotated[
        Path | None, typer.Option("--results", help="Export this JSON-lines file instead of the store.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """One row per report and one column per flat key: from the store (each document's newest result), or --results.

    Examples: nianbao export reports.xlsx --labels zh; nianbao export out.parquet --results results.jsonl
    """
    chosen = format or export.format_for(output)
    if chosen is None:
        err.print(f"[red]cannot tell the format of {output.name}[/]: give --format csv|xlsx|jsonl|parquet")
        raise typer.Exit(EXIT_USAGE)
    if results_file:
        rows: Iterable[Result] = (load_line(line) for line in _read_lines(results_file))
    else:
        rows = (result for _, _, result in Store(_settings(store=store).store).latest_results())
    try:
        count = export.export(rows, output, chosen, labels)
    except export.ExportError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(EXIT_USAGE) from error
    err.print(f"wrote {count} reports to {output}")


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

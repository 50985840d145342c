"""The `nianbao` command line.

Results go to stdout (or --output) as JSON lines; tables and summaries go to stderr.
Exit codes: 0 every report verified; 1 some flagged, none failed; 2 bad usage;
3 some report could not be read; 4 an internal error (a bug: --debug shows its traceback);
5 the store cannot be used (in use by another run, damaged, from a newer nianbao, read-only)
or the disk is full. `eval` exits 1 when a verified report holds a wrong number.
"""

from __future__ import annotations

import errno
import functools
import inspect
import json
import os
import stat
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import click
import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from extractor import eval_report, eval_runs, export, jobs, measures, review
from extractor.backends import llm_for
from extractor.document import IngestError
from extractor.errors import NianbaoError
from extractor.evaluate import Gold, ReportScore, Scorecard, load_gold, score
from extractor.gold import check as check_gold
from extractor.inference import LLM
from extractor.ingest import SUPPORTED_SUFFIXES, read_document
from extractor.jobs import Unreadable
from extractor.pipeline import extract_safely, failed, reverify
from extractor.settings import Settings
from extractor.store import Store, StoreError
from schemas.export import write_schemas
from schemas.result import Attempt, Result, dump_line, load_line

err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)  # logs get room to read

EXIT_FLAGGED, EXIT_USAGE, EXIT_FAILED, EXIT_INTERNAL, EXIT_STORE = 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports ^C


# Errors: one line for a person, and the exit code that says what kind ------------------------

DebugOption = Annotated[
    bool, typer.Option("--debug", envvar="NIANBAO_DEBUG", help="On an internal error, show its traceback.")
]


def _say(message: str) -> None:
    """An error, in one line on stderr (never wrapped)."""
    err.print(f"[red]error:[/] {escape(' '.join(message.split()))}", soft_wrap=True, highlight=False)


def _usage(message: str) -> NoReturn:
    _say(message)
    raise typer.Exit(EXIT_USAGE)


def _exit_code(error: Exception, debug: bool) -> int:
    """Say what went wrong in one line; the exit code of its kind."""
    if isinstance(error, StoreError):
        _say(str(error))
        return EXIT_STORE
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        _say(f"disk full: cannot write {error.filename or 'a file'} ({error.strerror}); free some space and run again")
        return EXIT_STORE
    if isinstance(error, NianbaoError):
        _say(str(error))
        return EXIT_USAGE
    first = next(iter(str(error).splitlines()), "")[:300]
    _say(
        f"internal error: {type(error).__name__}: {first}"
        + ("" if debug else " (a bug in nianbao: --debug shows where)")
    )
    return EXIT_INTERNAL


_PASSED_THROUGH = (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException)


def _guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` with --debug, ending every error in one line and its exit code; a traceback only with --debug."""
    signature = inspect.signature(command, eval_str=True)
    debug_flag = inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DebugOption)

    @functools.wraps(command)
    def guarded(*args: Any, debug: bool = False, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except _PASSED_THROUGH:
            raise
        except KeyboardInterrupt:
            _say("interrupted (what was finished is kept; the same command again resumes a run)")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as error:
            if debug:
                traceback.print_exception(error)
            raise typer.Exit(_exit_code(error, debug)) from None

    guarded.__signature__ = signature.replace(parameters=[*signature.parameters.values(), debug_flag])  # type: ignore[attr-defined]
    return guarded


class _Typer(typer.Typer):
    """A Typer whose every command takes --debug and ends an error in one line (`_guarded`)."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        register = super().command(*args, **kwargs)

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            register(_guarded(function))
            return function

        return decorator


app = _Typer(add_completion=False, no_args_is_help=True, help=__doc__)


# Paths ---------------------------------------------------------------------------------------


def expand(paths: Iterable[Path]) -> Iterator[Path | Unreadable]:
    """Files as given; folders searched recursively for the formats we read.

    A path that cannot be looked at (missing, no permission, a symlink loop), one that is no
    regular file, and a folder that cannot be listed come back as `Unreadable`, to fail alone.
    """
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError as error:
            yield Unreadable(path, jobs.path_problem(error))
            continue
        if stat.S_ISDIR(mode):
            yield from sorted(_walk(path), key=lambda item: item.path if isinstance(item, Unreadable) else item)
        elif stat.S_ISREG(mode):
            yield path
        else:
            yield Unreadable(path, "not a regular file")


def _walk(top: Path) -> Iterator[Path | Unreadable]:
    """The report files under `top`, and what cannot be read there; symlinked folders are not followed."""
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as error:
            yield Unreadable(folder, f"cannot list the folder: {jobs.path_problem(error)}")
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(path)
                    continue
                if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                    continue
                mode = os.stat(entry.path).st_mode  # through a symlink, to what it names
            except OSError as error:
                broken = error.errno == errno.ENOENT and entry.is_symlink()
                yield Unreadable(path, "broken symlink" if broken else jobs.path_problem(error))
                continue
            if stat.S_ISREG(mode):
                yield path
            elif not stat.S_ISDIR(mode):
                yield Unreadable(path, "not a regular file")


def _check_output(path: Path | None, inputs: Iterable[Path | Unreadable], flag: str) -> None:
    """A file to write must be in a folder that exists, and no input: opening it would empty it before it is read."""
    if path is None:
        return
    try:
        if path.is_dir():
            _usage(f"{flag} {path}: is a folder, not a file")
        if not path.parent.is_dir():
            _usage(f"{flag} {path}: no such folder {path.parent}")
        if not path.exists():
            return
    except OSError as error:
        _usage(f"{flag} {path}: {jobs.path_problem(error)}")
    for item in inputs:
        if isinstance(item, Path) and _same_file(path, item):
            _usage(f"{flag} {path} is an input too ({item}): writing it would destroy it before it is read")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


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
StoreOption = Annotated[Path | None, typer.Option(help="The SQLite store [default: nianbao.db].")]

# The flags that set a field of Settings, each defined once, under the field's name. A command
# takes those it needs, and gets the Settings they make, through `settings_from`.
SETTINGS_OPTIONS: dict[str, Any] = {
    "backend": Annotated[
        str | None, typer.Option(help="rules, llm or hybrid [default: hybrid with an endpoint, else rules]")
    ],
    "model": Annotated[str | None, typer.Option(help="The model's name at the endpoint.")],
    "base_url": Annotated[
        str | None, typer.Option(help="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    ],
    "api_key_env": Annotated[str | None, typer.Option(help="The environment variable holding the API key.")],
    "mode": Annotated[str | None, typer.Option(help="instructor mode: tools, json_schema, json or md_json.")],
    "max_attempts": Annotated[int | None, typer.Option(help="LLM rounds per report (extraction + re-asks).")],
    "deadline": Annotated[
        float | None, typer.Option(help="Seconds a report's LLM work may take in all [default: 600].")
    ],
    "store": StoreOption,
    "concurrency": Annotated[int | None, typer.Option(help="LLM calls in flight at once.")],
    "requests_per_minute": Annotated[int | None, typer.Option(help="The endpoint's request limit.")],
    "tokens_per_minute": Annotated[int | None, typer.Option(help="The endpoint's token limit.")],
}
LLM_OPTIONS = ("backend", "model", "base_url", "api_key_env", "mode", "max_attempts", "deadline")


def settings_from(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A command decorator: adds the flags `names` of SETTINGS_OPTIONS to the command, and passes it,
    as `settings`, the Settings they make over NIANBAO_* variables and nianbao.toml."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        kept = [parameter for name, parameter in signature.parameters.items() if name != "settings"]
        flags = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=SETTINGS_OPTIONS[name])
            for name in names
        ]

        @functools.wraps(command)
        def with_settings(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in names}
            return command(*args, settings=_settings(**given), **kwargs)

        with_settings.__signature__ = signature.replace(parameters=[*kept, *flags])  # type: ignore[attr-defined]
        return with_settings

    return decorate


def _settings(**flags: object) -> Settings:
    """Settings from these flags over NIANBAO_* variables over nianbao.toml; bad ones end with exit 2."""
    try:
        given: dict[str, Any] = {name: value for name, value in flags.items() if value is not None}
        return Settings(**given)
    except ValidationError as error:
        err.print(f"[red]bad settings:[/] {error}")
        raise typer.Exit(EXIT_USAGE) from error


def _files(paths: list[Path]) -> list[Path | Unreadable]:
    files = list(expand(paths))
    if not files:
        _usage("no report files found in " + ", ".join(map(str, paths)))
    return files


@app.command()
@settings_from(*LLM_OPTIONS, "store")
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Report files, or folders to search.")],
    output: OutputOption = None,
    quiet: QuietOption = False,
    *,
    settings: Settings,
) -> None:
    """Extract and verify reports; one JSON line per report.

    Offline by default (the template parser). With --model/--base-url (or NIANBAO_* variables,
    or nianbao.toml) the hybrid backend asks the LLM for what the parser cannot verify.

    Examples: nianbao extract eval/corpus -o results.jsonl;
    nianbao extract report.pdf --backend llm --base-url http://127.0.0.1:8080/v1 --model local
    """
    files = _files(paths)
    _check_output(output, files, "-o")
    llm = llm_for(settings)
    if llm is not None and not quiet:
        llm.observers.append(_show_call)
    with _open_output(output) as out, jobs.settled_heap():
        results = _write((_extract_one(item, llm) for item in files), out)
    if not quiet and llm is not None:
        _print_usage(results)
    raise typer.Exit(_summary(results, quiet))


def _show_call(source: str, call: Attempt) -> None:
    """Progress of LLM work on stderr: the report, the step and round, and how the call ended."""
    took = f" {call.latency_ms / 1000:.1f}s" if call.latency_ms else ""
    err.print(f"[dim]{source}: {call.step} round {call.round}: {call.outcome}{took}[/]", highlight=False)


def _extract_one(item: Path | Unreadable, llm: LLM | None) -> Result:
    return failed(item.path.name, item.problem) if isinstance(item, Unreadable) else extract_safely(item, llm)


@app.command()
@settings_from("store", *LLM_OPTIONS, "concurrency", "requests_per_minute", "tokens_per_minute")
def run(
    paths: Annotated[list[Path], typer.Argument(help="Folders, files, or a text file of paths given as @LIST.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
    log: Annotated[Path | None, typer.Option(help="Append machine-readable JSON events here.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [default: one per core].")] = None,
    *,
    settings: Settings,
) -> None:
    """Extract a whole batch into the store: resumable, concurrent, with progress.

    Run the same command again after an interruption: finished reports are not redone, failed
    ones are tried again. A new model, prompt or schema version makes new results beside the old
    ones. One run at a time per store: another one started meanwhile (a cron that overlaps
    itself) stops at once, exit 5, saying "store in use by pid N since …".

    Examples: nianbao run reports/ --store reports.db; nianbao run @files.txt --log run.jsonl -q
    """
    files = _files(_with_lists(paths))
    _check_output(log, files, "--log")
    _check_output(settings.store, files, "--store")
    store = Store(settings.store)  # refused here, in one line: damaged, newer, read-only
    try:
        events = log.open("a", encoding="utf-8") if log else None
    except OSError as error:
        _usage(f"--log {log}: cannot write it: {error.strerror or error}")
    with BatchProgress(quiet, events) as progress:
        tally = jobs.run(files, store, settings, progress.planned, progress.result, workers)
    raise typer.Exit(EXIT_FAILED if tally.failed else EXIT_FLAGGED if tally.flagged else 0)


def _with_lists(paths: list[Path]) -> list[Path]:
    """`@LIST` stands for the paths written in the file LIST, one a line."""
    out: list[Path] = []
    for path in paths:
        if str(path).startswith("@"):
            name = Path(str(path)[1:])
            try:
                listed = name.read_text("utf-8").splitlines()
            except OSError as error:
                _usage(f"@{name}: cannot read the list: {jobs.path_problem(error)}")
            except UnicodeDecodeError:
                _usage(f"@{name}: cannot read the list: it is not UTF-8 text")
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

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        self.bar.stop()
        if error is not None:  # said by the command, in one line; a summary would hide it
            with suppress(OSError):
                self._event(event="stopped", error=f"{type(error).__name__}: {error}")
            if self.events:
                with suppress(OSError):
                    self.events.close()
            return
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
    by_name = {path.name: path for path in expand(sources) if isinstance(path, Path)}
    _check_output(output, [results_file, *by_name.values()], "-o")
    lines = _read_lines(results_file)
    with _open_output(output) as out, jobs.settled_heap():
        rechecked = _write((_reverify_line(line, by_name) for line in lines), out)
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


eval_app = _Typer(help="Score extraction against hand-labelled gold; keep, list and compare the runs.")
app.add_typer(eval_app, name="eval")


@settings_from(*LLM_OPTIONS, "store")
def evaluate(
    context: typer.Context,
    gold: Annotated[Path | None, typer.Option("--gold", help="Folder of gold JSON files.")] = None,
    sources: Annotated[
        Path | None, typer.Option(help="Folder of the gold reports' sources [default: GOLD/../corpus].")
    ] = None,
    results_file: Annotated[
        Path | None, typer.Option("--results", help="Score these results instead of extracting.")
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML report here.")] = None,
    label: Annotated[str | None, typer.Option(help="A name for this run in `eval list`.")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the run in the store, for `eval list` and `compare`.")] = True,
    all_fields: Annotated[
        bool, typer.Option("--all-fields", help="List every field, not only imperfect ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON on stdout.")] = False,
    *,
    settings: Settings,
) -> None:
    """Score extraction against hand-labelled gold files: per cell, report, table, template and format.

    It extracts as `extract` does, with the same backend (the template parser offline; an LLM
    backend with --model/--base-url), or scores saved results (--results). Each run is kept in
    the store (`eval list`, `eval compare A B`). Exits 1 when a verified report holds a wrong number.

    Examples: nianbao eval --gold eval/gold; nianbao eval --gold eval/gold --html eval.html;
    nianbao eval --gold eval/gold --backend llm --base-url URL --model M; nianbao eval list; nianbao eval compare 1 2
    """
    if context.invoked_subcommand is not None:
        return
    if gold is None:
        _usage("eval needs --gold FOLDER (or a command: list, compare); nianbao eval --help says more")
    golds = load_gold(gold)
    if results_file:
        card = score(golds, {r.source: r for r in map(load_line, _read_lines(results_file))})
    else:
        card = _extract_and_score(golds, sources or gold.parent / "corpus", settings)
    run_id = eval_runs.save(Store(settings.store), card, settings, gold, label) if keep else None
    if html:
        eval_report.write_html(
            card, html, f"nianbao eval: {gold}", {"id": run_id, "gold": str(gold), **_run_of(settings)}
        )
    if as_json:
        print(json.dumps({**_card_json(card), "run": run_id}, ensure_ascii=False, indent=1))
    else:
        _print_card(card, all_fields)
        err.print(f"kept as eval run {run_id} in {settings.store}" if run_id else "not kept (--no-keep)")
    raise typer.Exit(1 if card.outcomes()["verified-wrong"] else 0)


eval_app.callback(invoke_without_command=True)(_guarded(evaluate))


def _extract_and_score(golds: list[Gold], folder: Path, settings: Settings) -> Scorecard:
    llm = llm_for(settings)
    results, seconds = {}, {}
    with jobs.settled_heap():
        for gold in golds:
            began = time.perf_counter()
            results[gold.source] = extract_safely(folder / gold.source, llm)
            seconds[gold.source] = time.perf_counter() - began
    return score(golds, results, seconds)


def _run_of(settings: Settings) -> dict[str, Any]:
    backend = settings.chosen_backend
    return {"backend": backend, "model": settings.model if backend != "rules" else None}


@eval_app.command("list")
@settings_from("store")
def eval_list(
    as_json: Annotated[bool, typer.Option("--json", help="As JSON on stdout.")] = False, *, settings: Settings
) -> None:
    """The eval runs kept in the store, oldest first.

    Example: nianbao eval list
    """
    runs = eval_runs.runs(Store(settings.store, readonly=True))
    if as_json:
        print(json.dumps(runs, ensure_ascii=False, indent=1))
        return
    table = Table(
        "run",
        "when",
        "label",
        "backend",
        "model",
        "reports",
        "field acc.",
        "precision (95%)",
        "coverage",
        "verified wrong",
        box=box.SIMPLE,
        title=f"Eval runs in {settings.store}",
    )
    for run in runs:
        measures = run["measures"]
        precision = measures["precision"]
        table.add_row(
            str(run["id"]),
            time.strftime("%Y-%m-%d %H:%M", time.localtime(run["created"])),
            escape(run["label"] or ""),
            run["backend"],
            escape(run["model"] or ""),
            str(measures["reports"]),
            _percent(measures["cells"]["accuracy"]),
            f"{_percent(precision['value'])} {_bounds(precision['interval'])}",
            _percent(measures["coverage"]["value"]),
            str(precision["n"] - precision["k"]),
        )
    err.print(table if runs else f"no eval runs in {settings.store} yet (nianbao eval --gold DIR keeps one)")


@eval_app.command("compare")
@settings_from("store")
def eval_compare(
    baseline: Annotated[int, typer.Argument(help="The baseline run's id (`eval list`).")],
    candidate: Annotated[int, typer.Argument(help="The run to compare with it.")],
    limit: Annotated[int, typer.Option(help="List at most this many cells of each kind.")] = 40,
    *,
    settings: Settings,
) -> None:
    """What changed from run A to run B: cells fixed and broken, reports newly flagged or verified.

    Exits 1 when B has more verified-but-wrong reports than A, or a lower auto-accept precision:
    a guard for CI. Example: nianbao eval compare 3 4
    """
    store = Store(settings.store, readonly=True)
    comparison = eval_runs.compare(eval_runs.scorecard(store, baseline), eval_runs.scorecard(store, candidate))
    _print_comparison(comparison, baseline, candidate, limit)
    if comparison.regressions:
        for regression in comparison.regressions:
            _say(f"regression in run {candidate} against run {baseline}: {regression}")
        raise typer.Exit(1)


def _print_comparison(comparison: eval_runs.Comparison, a: int, b: int, limit: int) -> None:
    before, after = comparison.baseline, comparison.candidate
    table = Table("measure", f"run {a}", f"run {b}", box=box.SIMPLE, title=f"Run {a} → run {b}")
    table.add_row("field accuracy", _percent(before.cells.accuracy.value), _percent(after.cells.accuracy.value))
    table.add_row("report accuracy", _percent(before.report_accuracy.value), _percent(after.report_accuracy.value))
    for name in ("precision", "coverage", "flag_recall"):
        first, second = getattr(before, name), getattr(after, name)
        table.add_row(
            name.replace("_", " "),
            f"{_percent(first.value)} {_bounds(first.interval)}",
            f"{_percent(second.value)} {_bounds(second.interval)}",
        )
    table.add_row(
        "verified but wrong", str(before.precision.n - before.precision.k), str(after.precision.n - after.precision.k)
    )
    err.print(table)
    for title, changes in (("fixed", comparison.fixed), ("broken", comparison.broken)):
        err.print(f"{len(changes)} cells {title}" + (":" if changes else ""))
        for change in changes[:limit]:
            err.print(f"  {escape(change.source)}  {change.key}: {change.before} → {change.after}", highlight=False)
    for title, sources in (
        ("newly flagged", comparison.newly_flagged),
        ("newly verified", comparison.newly_verified),
        ("newly verified but wrong", comparison.newly_verified_wrong),
        ("only in the baseline", comparison.only_in_baseline),
        ("only in the candidate", comparison.only_in_candidate),
    ):
        if sources:
            err.print(f"{len(sources)} reports {title}: {escape(', '.join(sources[:limit]))}", highlight=False)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def _bounds(interval: Sequence[float] | None) -> str:
    return "" if interval is None else f"[{interval[0]:.1%}, {interval[1]:.1%}]"


def _card_json(card: Scorecard) -> dict:
    return {
        "field_accuracy": card.field_accuracy,
        "organ_accuracy": card.organ_accuracy,
        "year_accuracy": card.year_accuracy,
        "outcomes": card.outcomes(),
        "measures": measures.measure(card.reports).as_json(),
        "groups": {
            kind: {name: m.as_json() for name, m in members.items()}
            for kind, members in measures.by_group(card).items()
        },
        "tables": {t: m.accuracy.value for t, m in measures.by_table(card).items()},
        "reports": [
            {
                "source": r.source,
                "status": r.status,
                "outcome": r.outcome,
                "format": r.format,
                "template": r.template,
                "right": r.right,
                "total": r.total,
                "exact": r.exact,
                "template_right": r.template_right,
                "organ_right": r.organ_right,
                "year_right": r.year_right,
                "wrong": {key: r.cells[key] for key in r.wrong_keys},
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
        inconsistencies = _inconsistencies_cell(r)
        reports.add_row(
            escape(r.source),
            r.outcome if r.outcome != "verified-wrong" else f"[red]{r.outcome}[/]",
            f"{r.right}/{r.total}",
            "ok" if r.template_right else "[red]wrong[/]",
            _meta_cell(r),
            inconsistencies,
        )
    err.print(reports)
    _print_groups(card)
    fields = Table(
        "field", "reports", "accuracy", box=box.SIMPLE, title="Per field" + ("" if all_fields else " (below 100%)")
    )
    for key, oks in card.per_field.items():
        if all_fields or not all(oks):
            fields.add_row(key, str(len(oks)), f"{sum(oks) / len(oks):.1%}")
    err.print(fields if fields.rows else "Per field: every field 100% (--all-fields lists them)")
    _print_summary(card)


def _inconsistencies_cell(report: ReportScore) -> str:
    """How many gold declares and we flagged; the relations that differ, by name."""
    expected, flagged = set(report.inconsistencies_expected), set(report.inconsistencies_flagged)
    cell = f"{len(expected)} | {len(flagged)}"
    if expected - flagged:
        cell += f" [red]missed {', '.join(sorted(expected - flagged))}[/]"
    if flagged - expected:
        cell += f" [red]not in gold {', '.join(sorted(flagged - expected))}[/]"
    return cell


def _print_groups(card: Scorecard) -> None:
    table = Table(
        "group",
        "reports",
        "cells",
        "accuracy",
        "wrong",
        "value/null",
        "null/value",
        "precision (95%)",
        "coverage",
        box=box.SIMPLE,
        title="Per table, template and format",
    )
    for name, cells in measures.by_table(card).items():
        o = cells.outcomes
        table.add_row(
            f"table {name}",
            "",
            str(cells.cells),
            _percent(cells.accuracy.value),
            str(o["wrong_value"]),
            str(o["value_where_null"]),
            str(o["null_where_value"]),
            "",
            "",
        )
    for kind, members in measures.by_group(card).items():
        for name, m in members.items():
            o = m.cells.outcomes
            table.add_row(
                f"{kind} {escape(name)}",
                str(m.reports),
                str(m.cells.cells),
                _percent(m.cells.accuracy.value),
                str(o["wrong_value"]),
                str(o["value_where_null"]),
                str(o["null_where_value"]),
                f"{_percent(m.precision.value)} {_bounds(m.precision.interval)}",
                _percent(m.coverage.value),
            )
    err.print(table)


def _print_summary(card: Scorecard) -> None:
    m = measures.measure(card.reports)
    outcomes = card.outcomes()
    o = m.cells.outcomes
    lines = [
        f"field accuracy {card.field_accuracy:.2%} over {m.cells.cells} cells: {o['value_right']} values right, "
        f"{o['null_right']} nulls right, {o['wrong_value']} wrong values, {o['value_where_null']} values where gold "
        f"is null, {o['null_where_value']} nulls where gold has a value",
        f"{m.report_accuracy.k}/{m.report_accuracy.n} reports exactly right",
        f"organ right {sum(r.organ_right for r in card.reports)}/{len(card.reports)} ({card.organ_accuracy:.2%}), "
        f"year right {sum(r.year_right for r in card.reports)}/{len(card.reports)} ({card.year_accuracy:.2%})",
        f"{outcomes['verified-right']} verified and right, {outcomes['verified-wrong']} verified and wrong, "
        f"{outcomes['flagged']} flagged, {outcomes['failed']} failed",
        f"auto-accept precision {_percent(m.precision.value)} {_bounds(m.precision.interval)} (95% Wilson), "
        f"coverage {_percent(m.coverage.value)}, flag recall {_percent(m.flag_recall.value)} "
        f"({m.flag_recall.k}/{m.flag_recall.n})",
        f"source inconsistencies: recall {_percent(m.inconsistency_recall.value)} "
        f"({m.inconsistency_recall.k}/{m.inconsistency_recall.n}), precision "
        f"{_percent(m.inconsistency_precision.value)} ({m.inconsistency_precision.k}/{m.inconsistency_precision.n})",
    ]
    cost = m.cost
    if cost.calls:
        usd = f"${cost.usd:.4f}" if cost.usd is not None else "cost unknown (no price for the model)"
        lines.append(
            f"LLM: {cost.calls} calls ({cost.cache_hits} from the cache), {cost.tokens_in} tokens in, "
            f"{cost.tokens_out} out, {usd}; per call p50 {cost.call_ms_p50:.0f} ms, p95 {cost.call_ms_p95:.0f} ms; "
            f"calls per report {cost.attempts}"
            if cost.call_ms_p50 is not None and cost.call_ms_p95 is not None
            else f"LLM: {cost.calls} calls, all from the cache ({cost.cache_hits}); calls per report {cost.attempts}"
        )
    if cost.report_seconds_p50 is not None and cost.report_seconds_p95 is not None:
        lines.append(f"seconds per report: p50 {cost.report_seconds_p50:.2f}, p95 {cost.report_seconds_p95:.2f}")
    err.print("\n".join(lines), highlight=False)


gold_app = _Typer(no_args_is_help=True, help="Gold files: the hand-labelled answers eval scores against.")
app.add_typer(gold_app, name="gold")


@gold_app.command("check")
def gold_check(
    folder: Annotated[Path, typer.Argument(help="The gold folder.")],
    sources: Annotated[
        Path | None, typer.Option(help="Folder of the gold reports' sources [default: FOLDER/../corpus].")
    ] = None,
) -> None:
    """Lint a gold folder: the format and the template's keys; the declared source inconsistencies
    (relations of the template that the gold numbers break, and all of those); each source file,
    present with the recorded sha256. Exits 1 when it finds a problem.

    Example: nianbao gold check eval/gold
    """
    if not folder.is_dir():
        _usage(f"{folder}: not a folder")
    problems = check_gold(folder, sources)
    for problem in problems:
        err.print(f"[red]{escape(problem.file)}[/]: {escape(problem.problem)}", soft_wrap=True, highlight=False)
    count = len(list(folder.glob("*.json")))
    err.print(f"{count} gold files, {len(problems)} problems" if problems else f"{count} gold files, all fine")
    raise typer.Exit(1 if problems else 0)


review_app = _Typer(no_args_is_help=True, help="The review queue: flagged reports, worst first, for a person.")
app.add_typer(review_app, name="review")


@review_app.command("list")
@settings_from("store")
def review_list(
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = 50,
    *,
    settings: Settings,
) -> None:
    """Flagged reports, worst first (most errors), with their reasons. Reads a read-only store.

    Example: nianbao review list --store reports.db
    """
    queue = review.queue(Store(settings.store, readonly=True))
    table = Table("id", "source", "errors", "warnings", "reasons", box=box.SIMPLE, title=f"{len(queue)} flagged")
    for item in queue[:limit]:
        table.add_row(str(item.result_id), item.source, str(item.errors), str(item.warnings), item.reasons)
    err.print(table)


@review_app.command("show")
@settings_from("store")
def review_show(
    result_id: Annotated[int, typer.Argument(help="The id from `review list`.")],
    *,
    settings: Settings,
) -> None:
    """A flagged report's findings, each beside the source lines it refers to. Reads a read-only store.

    Example: nianbao review show 12 --store reports.db
    """
    found = review.item(Store(settings.store, readonly=True), result_id)
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
@settings_from("store")
def review_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="An .xlsx or .csv file.")] = Path("review.xlsx"),
    *,
    settings: Settings,
) -> None:
    """The queue as a spreadsheet a reviewer can work in: a row per finding, with columns for the decision.

    Written as `nianbao export` writes: whole or not at all, and no cell ever a formula. Reads a read-only store.

    Example: nianbao review export -o review.xlsx --store reports.db
    """
    _check_output(output, [], "-o")
    try:
        rows = review.export(Store(settings.store, readonly=True), output)
    except export.ExportError as error:
        _usage(str(error))
    err.print(f"wrote {rows} findings to {output}")


@review_app.command("decide")
@settings_from("store")
def review_decide(
    result_id: Annotated[int, typer.Argument(help="The id from `review list`.")],
    reviewer: Annotated[str, typer.Option(help="Who decides.")],
    decision: Annotated[
        str, typer.Option(help="accept, reject, correct, inconsistency (--key: a relation id) or skip.")
    ],
    key: Annotated[str | None, typer.Option(help="With correct: the flat key of the cell.")] = None,
    value: Annotated[str | None, typer.Option(help="With correct: its value as printed in the source.")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    *,
    settings: Settings,
) -> None:
    """Record a reviewer's decision or correction (kept with who and when; the result itself is not changed).

    Example: nianbao review decide 12 --reviewer 王芳 --decision correct --key t3.new.total --value 288
    """
    try:
        review_id = review.decide(Store(settings.store), result_id, reviewer, decision, key, value, note)
    except ValueError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(EXIT_USAGE) from error
    err.print(f"recorded review {review_id}")


@review_app.command("serve")
@settings_from("store")
def review_serve(
    host: Annotated[str, typer.Option(help="The address to listen on (beyond loopback: with --token).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8765,
    token: Annotated[
        str | None, typer.Option(envvar="NIANBAO_REVIEW_TOKEN", help="An access token every request must carry.")
    ] = None,
    reviewer: Annotated[str | None, typer.Option(help="Who reviews [default: asked on first visit].")] = None,
    gold: Annotated[Path | None, typer.Option(help="The gold folder the promote button writes to.")] = None,
    *,
    settings: Settings,
) -> None:
    """The review queue in the browser: each flagged report beside its source, corrections re-verified live.

    Example: nianbao review serve --store reports.db --gold eval/gold
    """
    import uvicorn

    from extractor.web.app import LOOPBACK, Config, create_app

    loopback = _is_loopback(host)
    if not loopback and not token:
        _usage(f"--host {host} listens beyond this machine: give --token too (any long random text)")
    if not settings.store.is_file():
        _usage(f"{settings.store}: no such store; `nianbao run FILES --store {settings.store}` makes one")
    if gold is not None and not gold.is_dir():
        _usage(f"--gold {gold}: no such folder")
    app = create_app(Config(settings.store, reviewer, token, gold), LOOPBACK if loopback else ("*",))
    shown = f"[{host}]" if ":" in host else host
    err.print(f"reviewing {settings.store} at http://{shown}:{port}/" + (f"?token={token}" if token else ""))
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@review_app.command("promote")
@settings_from("store")
def review_promote(
    result_ids: Annotated[
        list[int] | None, typer.Argument(help="Ids from `review list` [default: every accepted report].")
    ] = None,
    gold: Annotated[Path, typer.Option(help="The gold folder to write to.")] = Path("eval/gold"),
    reviewer: Annotated[str | None, typer.Option(help="Who promotes [default: who accepted it].")] = None,
    *,
    settings: Settings,
) -> None:
    """Write reviewed reports as gold files (the spec's format), which `nianbao eval --gold` then scores against.

    Example: nianbao review promote --gold eval/gold --store reports.db
    """
    from extractor import promote

    store = Store(settings.store)
    chosen = result_ids or promote.reviewed_ids(store)
    if not chosen:
        _usage("no report has been accepted or corrected yet: nothing to promote")
    try:
        for result_id in chosen:
            err.print(f"wrote {promote.promote(store, result_id, gold, reviewer)}")
    except review.ReviewError as error:
        _usage(str(error))


@app.command(name="export")
@settings_from("store")
def export_results(
    output: Annotated[Path, typer.Argument(help="The file to write.")],
    format: Annotated[
        str | None, typer.Option(help="csv, xlsx, jsonl or parquet [default: from the file name].")
    ] = None,
    labels: Annotated[str, typer.Option(help="Column headers: en (flat keys) or zh (Chinese labels).")] = "en",
    results_file: Annotated[
        Path | None, typer.Option("--results", help="Export this JSON-lines file instead of the store.")
    ] = None,
    *,
    settings: Settings,
) -> None:
    """One row per report and one column per flat key: from the store (each document's newest result), or --results.

    A read-only store is read as it is. Examples: nianbao export reports.xlsx --labels zh;
    nianbao export out.parquet --results results.jsonl
    """
    chosen = format or export.format_for(output)
    if chosen is None:
        err.print(f"[red]cannot tell the format of {output.name}[/]: give --format csv|xlsx|jsonl|parquet")
        raise typer.Exit(EXIT_USAGE)
    _check_output(output, [], "export to")
    if results_file:
        rows: Iterable[Result] = (load_line(line) for line in _read_lines(results_file))
    else:
        rows = (result for _, _, result in Store(settings.store, readonly=True).latest_results())
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
    except OSError as error:
        _usage(f"{path}: cannot read it: {jobs.path_problem(error)}")
    except UnicodeDecodeError:
        _usage(f"{path}: cannot read it: it is not UTF-8 text")


@contextmanager
def _open_output(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a file opened for writing (its folder and its not being an input checked before)."""
    if path is None:
        yield sys.stdout
        return
    try:
        handle = path.open("w", encoding="utf-8")
    except OSError as error:
        _usage(f"-o {path}: cannot write it: {error.strerror or error}")
    with handle:
        yield handle

"""Bulk runs: thousands of files into the store, resumable, concurrent, with memory that stays flat.

- Each document is keyed by its content hash; one already done for this extraction
  version is skipped, and the same file twice in a batch is read once. Killing the run
  at any moment loses only what was unfinished: each result is committed on its own.
- The rules backend is CPU-bound and reads files in a process per core. The LLM
  backends spend their time waiting on the endpoint, so reports run in threads, with
  at most `concurrency` of them (and so of LLM calls) in flight.
- Files are submitted a few at a time ahead of the workers, and results are written
  as they finish, never collected.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version as package_version
from pathlib import Path

from extractor.inference import LLM
from extractor.pipeline import extract_safely, failed
from extractor.settings import Settings
from extractor.store import Store
from prompts import load
from schemas.export import json_schema
from schemas.result import Result, dump_line, load_line

_AHEAD = 4  # files submitted per worker ahead of time: enough to keep workers busy, few enough to stay flat


def extraction_version(settings: Settings) -> str:
    """What shapes a result: nianbao's version, the schema, and for the LLM backends the model and prompts."""
    parts: dict[str, object] = {
        "nianbao": package_version("nianbao"),
        "schema": {template: json_schema(template) for template in ("2019", "2021")},
        "backend": settings.chosen_backend,
    }
    if settings.chosen_backend != "rules":
        parts.update(
            model=settings.model,
            base_url=settings.base_url,
            mode=settings.mode,
            prompts=[load(name).id for name in ("extract", "reask")],
            max_attempts=settings.max_attempts,
        )
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False)
    return f"{settings.chosen_backend}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def content_key(path: Path) -> str:
    """The document's identity: the sha256 of its bytes, or its path where it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return f"unread:{path}"
    return digest.hexdigest()


@dataclass
class Tally:
    verified: int = 0
    flagged: int = 0
    failed: int = 0
    skipped: int = 0  # done in an earlier run of this version
    duplicates: int = 0  # the same content as another file of this batch

    @property
    def done(self) -> int:
        return self.verified + self.flagged + self.failed

    def count(self, result: Result) -> None:
        setattr(self, result.status, getattr(self, result.status) + 1)


def plan(files: Iterable[Path], finished: set[str], tally: Tally) -> list[tuple[Path, str]]:
    """The files still to do, with their content keys."""
    todo: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for path in files:
        key = content_key(path)
        if key in finished:
            tally.skipped += 1
        elif key in seen:
            tally.duplicates += 1
        else:
            seen.add(key)
            todo.append((path, key))
    return todo


def _extract_line(path: str) -> str:
    """In a worker process: one file to its JSON line (a line is cheap to send back)."""
    return dump_line(extract_safely(Path(path)))


def run(
    files: Iterable[Path],
    store: Store,
    settings: Settings,
    on_planned: Callable[[int, Tally], None] = lambda total, tally: None,
    on_result: Callable[[Result], None] = lambda result: None,
    workers: int | None = None,
) -> Tally:
    """Extract every file not yet done for this version into the store."""
    version = extraction_version(settings)
    tally = Tally()
    todo = plan(files, store.finished(version), tally)
    on_planned(len(todo), tally)
    run_id = store.start_run(version, settings.model_dump(mode="json"))
    for path, key, line in _results(todo, settings, store, workers):
        result = load_line(line)
        if not result.sha256 or result.sha256 != key:
            result = result.model_copy(update={"sha256": key})
        store.save_result(run_id, version, result, path, line)
        tally.count(result)
        on_result(result)
    store.finish_run(run_id, tally.done)
    return tally


def _results(
    todo: list[tuple[Path, str]], settings: Settings, store: Store, workers: int | None
) -> Iterator[tuple[Path, str, str]]:
    if settings.chosen_backend == "rules":
        count = workers or os.cpu_count() or 1
        yield from _bounded(todo, lambda: ProcessPoolExecutor(count), _extract_line, count)
    else:
        llm = LLM(settings, store)
        step = partial(_extract_with, llm)
        yield from _bounded(todo, lambda: ThreadPoolExecutor(settings.concurrency), step, settings.concurrency)


def _extract_with(llm: LLM, path: str) -> str:
    return dump_line(extract_safely(Path(path), llm))


def _bounded(
    todo: list[tuple[Path, str]], make: Callable[[], Executor], step: Callable[[str], str], workers: int
) -> Iterator[tuple[Path, str, str]]:
    """Results as they finish, with at most `workers * _AHEAD` files submitted at once.

    A worker process that dies (a crash inside a PDF library, say) breaks the pool: the
    files then in flight are tried once more in a new pool, and a file that breaks it
    twice is failed on its own, so the batch goes on.
    """
    queue = [(path, key, 0) for path, key in reversed(todo)]
    executor = make()
    pending: dict[Future[str], tuple[Path, str, int]] = {}
    try:
        while queue or pending:
            while queue and len(pending) < workers * _AHEAD:
                path, key, tries = queue.pop()
                pending[executor.submit(step, str(path))] = (path, key, tries)
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                path, key, tries = pending.pop(future)
                try:
                    yield path, key, future.result()
                except BrokenProcessPool:
                    broken = True
                    if tries:
                        yield path, key, dump_line(failed(path.name, "the reading process crashed on this file", key))
                    else:
                        queue.append((path, key, tries + 1))
            if broken:
                queue += [(path, key, tries + 1) for path, key, tries in pending.values()]
                pending.clear()
                executor.shutdown(cancel_futures=True)
                executor = make()
    finally:
        executor.shutdown(cancel_futures=True)

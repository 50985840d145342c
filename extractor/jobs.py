"""Bulk runs: thousands of files into the store, resumable, concurrent, with memory that stays flat.

- Each document is keyed by its content hash; one already done for this extraction
  version is skipped, and the same file twice in a batch is read once. Killing the run
  at any moment loses only what was unfinished: each result is committed on its own.
- Files are read in a process per core. The LLM backends also spend their time
  waiting on the endpoint, so each process runs reports on threads, with at most
  `concurrency` reports (and so LLM calls) in flight over all of them.
- Files are submitted a few at a time ahead of the workers, and results are written
  as they finish, never collected.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import queue
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from extractor.inference import LLM
from extractor.pipeline import extract_safely, failed
from extractor.settings import Settings
from extractor.store import Store
from prompts import load
from schemas.answers import schema_version, table_answer
from schemas.export import json_schema
from schemas.result import Result, dump_line, load_line

_AHEAD = 4  # files submitted per worker thread ahead of time: enough to keep it busy, few enough to stay flat
_THREADS_PER_PROCESS = 4  # for LLM backends: more threads in a process only queue for its interpreter lock


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


def run(
    files: Iterable[Path],
    store: Store,
    settings: Settings,
    on_planned: Callable[[int, Tally], None] = lambda total, tally: None,
    on_result: Callable[[Result], None] = lambda result: None,
    workers: int | None = None,
) -> Tally:
    """Extract every file not yet done for this version into the store."""
    settings = settings.model_copy(update={"store": store.path})  # workers log LLM calls to this same store
    version = extraction_version(settings)
    pool = _start_pool(settings, workers)  # forked before the caller's progress display starts its thread
    try:
        tally = Tally()
        todo = plan(files, store.finished(version), tally)
        on_planned(len(todo), tally)
        run_id = store.start_run(version, settings.model_dump(mode="json"))
        for path, key, line in pool.results(todo):
            result = load_line(line)
            if not result.sha256 or result.sha256 != key:
                result = result.model_copy(update={"sha256": key})
            store.save_result(run_id, version, result, path, line)
            tally.count(result)
            on_result(result)
        store.finish_run(run_id, tally.done)
    finally:
        pool.close()
    return tally


def _start_pool(settings: Settings, workers: int | None) -> _Pool:
    """Worker processes that turn paths into JSON lines.

    The parser is CPU-bound: one process per core. An LLM backend spends its time waiting
    on the endpoint, and the client's own work between waits (instructor, openai, parsing,
    verifying) needs the cores too: `concurrency` reports run at once on a few threads in
    each of several processes, since many threads in one process queue for its lock.
    """
    cores = os.cpu_count() or 1
    if settings.chosen_backend == "rules":
        threads = [1] * (workers or cores)
    else:
        total = max(1, settings.concurrency)
        processes = min(total, workers or max(cores, -(-total // _THREADS_PER_PROCESS)))
        threads = [total // processes + (number < total % processes) for number in range(processes)]
        _warm_up(settings)
    return _Pool(threads, settings.model_dump(mode="json"))


def _warm_up(settings: Settings) -> None:
    """Import and build here what every worker would otherwise build for itself: they are forked from us."""
    LLM(settings, Store(settings.store))
    for template in ("2019", "2021"):
        for table in ("t2", "t3", "t4"):
            schema_version(table_answer(table, template))


def _work(number: int, settings: dict[str, Any], threads: int, inbox: Queue, outbox: Queue) -> None:
    """A worker process: read paths from `inbox`, extract them on `threads` threads, send lines to `outbox`."""
    chosen = Settings(**settings)
    llm = None if chosen.chosen_backend == "rules" else LLM(chosen, Store(chosen.store))
    parent = os.getppid()

    def one(path: str) -> None:
        outbox.put((number, path, dump_line(extract_safely(Path(path), llm))))

    with ThreadPoolExecutor(threads) as pool:
        while True:
            try:
                path = inbox.get(timeout=1)
            except queue.Empty:
                if os.getppid() != parent:
                    return  # the run was killed: don't linger
                continue
            if path is None:
                return
            pool.submit(one, path)


@dataclass
class _Worker:
    process: BaseProcess
    inbox: Queue
    assigned: dict[str, tuple[Path, str, int]] = field(default_factory=dict)  # path → (path, key, tries)


class _Pool:
    """Worker processes fed a few files ahead of their threads, so memory stays flat.

    A worker that dies (a crash inside a PDF library, say) is replaced: the files it held
    are tried once more, and a file that kills a worker twice is failed on its own.
    """

    def __init__(self, threads: list[int], settings: dict[str, Any]) -> None:
        self.context = multiprocessing.get_context("fork")
        self.threads = threads  # per worker process
        self.settings = settings
        self.outbox: Queue = self.context.Queue()
        self.workers = [self._start(number) for number in range(len(threads))]

    def _start(self, number: int) -> _Worker:
        inbox = self.context.Queue()
        args = (number, self.settings, self.threads[number], inbox, self.outbox)
        process = self.context.Process(target=_work, args=args, daemon=True)
        process.start()
        return _Worker(process, inbox)

    def results(self, todo: list[tuple[Path, str]]) -> Iterator[tuple[Path, str, str]]:
        waiting = deque((path, key, 0) for path, key in todo)
        finished: set[str] = set()
        while waiting or any(worker.assigned for worker in self.workers):
            self._feed(waiting)
            try:
                number, name, line = self.outbox.get(timeout=0.5)
            except queue.Empty:
                yield from self._replace_dead(waiting)
                continue
            held = self.workers[number].assigned.pop(name, None)
            if held and held[1] not in finished:  # a file re-tried after its worker died may come back twice
                finished.add(held[1])
                yield held[0], held[1], line

    def _feed(self, waiting: deque[tuple[Path, str, int]]) -> None:
        for number, worker in enumerate(self.workers):
            while waiting and len(worker.assigned) < self.threads[number] * _AHEAD:
                path, key, tries = waiting.popleft()
                worker.assigned[str(path)] = (path, key, tries)
                worker.inbox.put(str(path))

    def _replace_dead(self, waiting: deque[tuple[Path, str, int]]) -> Iterator[tuple[Path, str, str]]:
        for number, worker in enumerate(self.workers):
            if worker.process.is_alive():
                continue
            for path, key, tries in worker.assigned.values():
                if tries:
                    yield path, key, dump_line(failed(path.name, "the reading process crashed on this file", key))
                else:
                    waiting.append((path, key, tries + 1))
            self.workers[number] = self._start(number)

    def close(self) -> None:
        for worker in self.workers:
            worker.inbox.put(None)
        for worker in self.workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.terminate()

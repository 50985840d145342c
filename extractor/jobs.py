"""Bulk runs: thousands of files into the store, resumable, concurrent, with memory that stays flat.

- Each document is keyed by its content hash; one already done for this extraction
  version is skipped, and the same file twice in a batch is read once. Killing the run
  at any moment loses only what was unfinished: each result is committed on its own.
  A failed result is not done: the next run tries it again, and replaces it.
- One run at a time per store: a second one (a cron that overlaps itself) stops at once
  with "store in use by pid N since …" (`Store.exclusive`), having done nothing.
- Only regular files are opened (a FIFO would block the run forever); a path that cannot
  be read (missing, no permission, a symlink loop, a folder that cannot be listed) fails
  alone, with its reason, as `unread:<path>`.
- Files are read in a process per core. The LLM backends also spend their time
  waiting on the endpoint, so each process runs reports on threads, with at most
  `concurrency` reports (and so LLM calls) in flight over all of them.
- Files are submitted a few at a time ahead of the workers, and results are written
  as they finish, never collected.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import json
import multiprocessing
import os
import queue
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from itertools import chain
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from extractor.backends import llm_for
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


@dataclass(frozen=True)
class Unreadable:
    """A path that cannot be read or listed, and why: it fails alone, as a failed result."""

    path: Path
    problem: str


_PROBLEMS = {
    errno.ELOOP: "symlink loop",
    errno.ENOENT: "no such file",
    errno.ENOTDIR: "no such file (a part of its path is not a folder)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENAMETOOLONG: "file name too long",
}


def path_problem(error: OSError) -> str:
    """What an OSError from looking at a path means, in a few words: "symlink loop", "permission denied"."""
    return _PROBLEMS.get(error.errno or 0) or f"cannot read it: {error.strerror or error}"


def identify(path: Path) -> tuple[str, str | None]:
    """The document's key, and why it cannot be read where it cannot.

    The key is the sha256 of its bytes, or `unread:<path>`. Only a regular file is read: the
    file is opened without blocking and checked before a byte is read, so a FIFO (or a device)
    fails alone instead of blocking the run forever.
    """
    unread = f"unread:{path}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        return unread, path_problem(error)
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as handle:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return unread, "not a regular file"
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        except OSError as error:
            return unread, path_problem(error)
    return digest.hexdigest(), None


def content_key(path: Path) -> str:
    """The document's identity: the sha256 of its bytes, or its path where it cannot be read."""
    return identify(path)[0]


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


@dataclass
class Plan:
    todo: list[tuple[Path, str]] = field(default_factory=list)  # (path, key): for the workers
    unread: list[tuple[Path, str, str]] = field(default_factory=list)  # (path, key, problem): failed as they are


def plan(files: Iterable[Path | Unreadable], finished: set[str], tally: Tally) -> Plan:
    """The files still to do, with their content keys; those that cannot be read, with why."""
    planned = Plan()
    seen: set[str] = set()
    problem: str | None
    for item in files:
        if isinstance(item, Unreadable):
            path, key, problem = item.path, f"unread:{item.path}", item.problem
        else:
            path = item
            key, problem = identify(path)
        if key in finished:
            tally.skipped += 1
        elif key in seen:
            tally.duplicates += 1
        else:
            seen.add(key)
            if problem is None:
                planned.todo.append((path, key))
            else:
                planned.unread.append((path, key, problem))
    return planned


def run(
    files: Iterable[Path | Unreadable],
    store: Store,
    settings: Settings,
    on_planned: Callable[[int, Tally], None] = lambda total, tally: None,
    on_result: Callable[[Result], None] = lambda result: None,
    workers: int | None = None,
) -> Tally:
    """Extract every file not yet done for this version into the store.

    Raises StoreInUse, having done nothing, where another run holds the store; a StoreError
    (StoreFull: the disk is full) stops the run, keeping every result committed before it.
    """
    settings = settings.model_copy(update={"store": store.path})  # workers log LLM calls to this same store
    version = extraction_version(settings)
    with store.exclusive():
        if settings.chosen_backend != "rules":
            _warm_up(settings)  # before the heap is settled, so what it imports is left out of collections too
        with settled_heap():
            pool = _start_pool(settings, workers)  # forked before the caller's progress display starts its thread
            try:
                tally = Tally()
                planned = plan(files, store.finished(version), tally)
                on_planned(len(planned.todo) + len(planned.unread), tally)
                run_id = store.start_run(version, settings.model_dump(mode="json"))
                unread = ((path, key, dump_line(failed(path.name, problem))) for path, key, problem in planned.unread)
                for path, key, line in chain(unread, pool.results(planned.todo)):
                    result = load_line(line)
                    if not key.startswith("unread:") and result.sha256 != key:
                        result = result.model_copy(update={"sha256": key})  # a failed read's result gets its hash too
                        line = dump_line(result)
                    store.save_result(run_id, version, result, path, line, key)
                    tally.count(result)
                    on_result(result)
                store.finish_run(run_id, tally.done)
            except BaseException:
                pool.close(abort=True)  # a full disk, ^C: end the workers now, what they hold is lost anyway
                raise
            pool.close()
    return tally


@contextmanager
def settled_heap() -> Iterator[None]:
    """Within it, the objects alive at its start (modules, settings: kept to the end of a batch) are left out of
    garbage collections. Every full collection walked them all, about 170,000 objects with the rules backend
    and 110 ms each time (one every ~27 PDF reports), while a report's own garbage is mostly freed by reference
    counts. Before a fork, it also keeps the workers' collections from writing to the pages they share with the
    parent (see gc.freeze). At its end they are collected as before."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
    return _Pool(threads, settings.model_dump(mode="json"))


def _warm_up(settings: Settings) -> None:
    """Import and build here what every worker would otherwise build for itself: they are forked from us."""
    llm_for(settings, Store(settings.store, check=False))
    for template in ("2019", "2021"):
        for table in ("t2", "t3", "t4"):
            schema_version(table_answer(table, template))


def _work(number: int, settings: dict[str, Any], threads: int, inbox: Queue, outbox: Queue) -> None:
    """A worker process: read paths from `inbox`, extract them on `threads` threads, send lines to `outbox`."""
    chosen = Settings(**settings)
    llm = llm_for(chosen, Store(chosen.store, check=False))
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

    def close(self, abort: bool = False) -> None:
        """Let the workers finish what they hold and end; with `abort`, end them now."""
        for worker in self.workers:
            if abort:
                worker.process.terminate()
            else:
                worker.inbox.put(None)
        for worker in self.workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.terminate()

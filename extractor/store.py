"""The SQLite store: documents, runs, results and their findings, review decisions, every LLM
exchange (prompt, response, tokens, latency, outcome), and the response cache.

One file, WAL mode; each finished result is committed on its own, so a killed run loses
nothing that was finished. Documents are keyed by content hash; a result by (document,
extraction version), so a new prompt, schema or model makes a new result and never
overwrites an old one. A failed result is the exception: the next run retries it, and what
it gets takes the failed one's place. Requests are stored as sent (messages, model,
parameters), never with headers, so the API key cannot reach the store.

The schema is built by numbered migrations (`MIGRATIONS`), each applied once and recorded:
the store's `PRAGMA user_version` is the number of the last one applied, and `_migrations`
says when each was. A store written before versions were recorded (user_version 0, the
tables of `m001_initial`) is upgraded in place; a store from a newer nianbao is refused.

Every problem with the store itself is a `StoreError`, said in one line that names the file:
damaged, from a newer nianbao, read-only, in use by another run, or on a full disk.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from extractor.errors import NianbaoError
from schemas.result import Result, load_line


class StoreError(NianbaoError):
    """The store cannot be used as asked; the message names the file, says why, and what to do."""


class StoreDamaged(StoreError):
    pass


class StoreTooNew(StoreError):
    pass


class StoreReadOnly(StoreError):
    pass


class StoreInUse(StoreError):
    pass


class StoreFull(StoreError):
    pass


# Migrations --------------------------------------------------------------------------

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []  # in order: the store's user_version is how many of them it has had


def migration(function: Migration) -> Migration:
    """Append `function` to the migrations. Never reorder, edit or remove one a release has shipped."""
    MIGRATIONS.append(function)
    return function


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    """The schema of the nianbao that recorded no version: its stores already hold exactly these tables."""
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS exchanges (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            source TEXT,
            sha256 TEXT,
            step TEXT,            -- "t3" for a table's extraction, "reask" for a re-ask
            round INTEGER,        -- 1 for the first extraction, 2.. for re-asks
            model TEXT,
            prompt_version TEXT,
            schema_version TEXT,
            cache_key TEXT,
            request TEXT,         -- JSON: messages, model, parameters (no headers)
            response TEXT,        -- JSON: the raw completion, or null
            tokens_in INTEGER,
            tokens_out INTEGER,
            latency_ms REAL,
            outcome TEXT,         -- ok, invalid, truncated, transient, failed, cached
            error TEXT
        );
        CREATE TABLE IF NOT EXISTS documents (
            sha256 TEXT PRIMARY KEY,
            source TEXT NOT NULL,  -- the file name it was first seen under
            path TEXT NOT NULL,    -- where it was last read from
            bytes INTEGER,
            first_seen REAL NOT NULL
        );
        CREATE TABLE IF NOT EXISTS runs (
            id INTEGER PRIMARY KEY,
            started REAL NOT NULL,
            finished REAL,
            version TEXT NOT NULL,
            settings TEXT,         -- JSON, without secrets
            done INTEGER DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS results (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL,
            version TEXT NOT NULL, -- the extraction version: backend, model, prompts, schema, parser
            run_id INTEGER,
            source TEXT NOT NULL,
            status TEXT NOT NULL,
            organ TEXT,
            year INTEGER,
            template TEXT,
            errors INTEGER,
            warnings INTEGER,
            result TEXT NOT NULL,  -- the JSON line, as `nianbao extract` writes it
            created REAL NOT NULL,
            UNIQUE (sha256, version)
        );
        CREATE TABLE IF NOT EXISTS findings (
            result_id INTEGER NOT NULL REFERENCES results(id),
            rule TEXT, severity TEXT, blame TEXT, cells TEXT, lines TEXT, zh TEXT, en TEXT
        );
        CREATE INDEX IF NOT EXISTS findings_by_result ON findings(result_id);
        CREATE TABLE IF NOT EXISTS reviews (
            id INTEGER PRIMARY KEY,
            result_id INTEGER NOT NULL REFERENCES results(id),
            reviewer TEXT NOT NULL,
            decision TEXT NOT NULL,  -- accept, reject or correct
            key TEXT,                -- the corrected cell, for "correct"
            old_value TEXT,
            new_value TEXT,
            note TEXT,
            created REAL NOT NULL
        );
        CREATE TABLE IF NOT EXISTS cache (
            key TEXT PRIMARY KEY,
            answer TEXT NOT NULL, -- JSON of the validated answer
            tokens_in INTEGER,
            tokens_out INTEGER,
            created_at REAL NOT NULL
        );
        """,
    )


@migration
def m002_eval_runs(db: sqlite3.Connection) -> None:
    """`nianbao eval` keeps each run: its settings and versions, and every report's cells and costs."""
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS eval_runs (
            id INTEGER PRIMARY KEY,
            created REAL NOT NULL,
            nianbao TEXT NOT NULL,     -- nianbao's version
            backend TEXT NOT NULL,
            model TEXT,
            prompts TEXT,              -- JSON: the prompt ids (name: id)
            schema_version TEXT,
            gold TEXT NOT NULL,        -- the gold folder
            settings TEXT NOT NULL,    -- JSON, without secrets
            label TEXT,
            measures TEXT NOT NULL     -- JSON: the run's measures, as `eval --json` prints them
        );
        CREATE TABLE IF NOT EXISTS eval_reports (
            run_id INTEGER NOT NULL REFERENCES eval_runs(id),
            source TEXT NOT NULL,
            score TEXT NOT NULL,       -- JSON: the report's score, every cell's outcome among it
            PRIMARY KEY (run_id, source)
        );
        """,
    )


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run each statement of `sql` inside the caller's transaction (executescript would commit it)."""
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"an incomplete SQL statement: {statement.strip()[:80]}")


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Apply, in order and each once, the migrations the store has not had, in one transaction."""
    if _due(db, path) is None:
        return
    db.execute("BEGIN IMMEDIATE")  # another process opening the same old store waits, then finds it done
    try:
        current = _due(db, path)
        if current is not None:
            db.execute(
                "CREATE TABLE IF NOT EXISTS _migrations"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL, nianbao TEXT)"
            )
            for number, function in enumerate(MIGRATIONS[current:], start=current + 1):
                function(db)
                db.execute(
                    "INSERT INTO _migrations VALUES (?, ?, ?, ?)",
                    (number, function.__name__, time.time(), _nianbao_version()),
                )
                db.execute(f"PRAGMA user_version = {number}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _due(db: sqlite3.Connection, path: Path) -> int | None:
    """The store's version where migrations are due, None where it is up to date; a newer store is refused."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise StoreTooNew(
            f"{path}: the store is at schema version {current}, written by a newer nianbao; this nianbao "
            f"({_nianbao_version()}) knows versions up to {len(MIGRATIONS)}. Upgrade nianbao, or use another --store"
        )
    return current if current < len(MIGRATIONS) else None


def _nianbao_version() -> str:
    try:
        return package_version("nianbao")
    except Exception:  # not installed, only imported
        return "unknown"


# Errors --------------------------------------------------------------------------------


def store_error(error: BaseException, path: Path | str) -> StoreError | None:
    """`error`, met using the store at `path`, as a one-line StoreError; None where it is no problem of the store."""
    if isinstance(error, StoreError):
        return error
    if isinstance(error, OSError):
        if error.errno == errno.ENOSPC:
            return _full(path, error.strerror or str(error))
        if error.errno == errno.EROFS:
            return StoreReadOnly(f"{path}: the store is on a read-only file system; {_MAKE_WRITABLE}")
        if error.errno in (errno.EACCES, errno.EPERM):
            return StoreError(f"{path}: cannot use the store: {error.strerror}")
        return None
    if not isinstance(error, sqlite3.Error):
        return None
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF  # the primary code of an extended one
    text = str(error)
    if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
        return _full(path, text)
    if code == sqlite3.SQLITE_READONLY:
        return StoreReadOnly(f"{path}: the store is read-only ({text}); {_MAKE_WRITABLE}")
    if code == sqlite3.SQLITE_NOTADB:
        return StoreDamaged(
            f"{path}: not a nianbao store: not an SQLite database, or its header is damaged; if it was a store, "
            + _recover(path)
        )
    if code == sqlite3.SQLITE_CORRUPT:
        return StoreDamaged(f"{path}: the store file is damaged ({text}); " + _recover(path))
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreError(f"{path}: the store stayed locked by another process ({text}); try again when it is done")
    if code == sqlite3.SQLITE_CANTOPEN:
        return StoreError(f"{path}: cannot open the store ({text})")
    if code == sqlite3.SQLITE_IOERR:
        return StoreError(f"{path}: cannot read or write the store file ({text}); check the disk")
    return None


_MAKE_WRITABLE = "run, review decide and LLM calls write to it: make it writable, or copy it somewhere writable"


def _recover(path: Path | str) -> str:
    return (
        f"restore it from a backup, or start a new store (another --store); "
        f"`sqlite3 {path} .recover | sqlite3 recovered.db` saves what can still be read"
    )


def _full(path: Path | str, detail: str) -> StoreFull:
    return StoreFull(
        f"disk full: cannot write to {path} ({detail}); every result committed before is kept: "
        "free some space and run the same command again to resume"
    )


def _read_only_reason(path: Path) -> str | None:
    """Why the store at `path` may not be written, if it may not: its file system, its file's mode, its folder's."""
    folder = path.parent
    with suppress(OSError):
        if folder.is_dir() and os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    if path.is_file():
        mode = path.stat().st_mode
        if not mode & 0o222:  # respected even by root, whom the mode does not stop
            return f"the file's mode is {stat.S_IMODE(mode):04o}"
        if not os.access(path, os.W_OK):
            return "no permission to write the file"
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is read-only, and SQLite writes its -wal and -shm files beside the store"
    return None


def _open(target: str, uri: bool = False) -> sqlite3.Connection:
    connection = sqlite3.connect(target, uri=uri, isolation_level=None, timeout=60)
    try:
        connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opening is lazy: fail here, not later
    except BaseException:
        connection.close()
        raise
    return connection


# The store -------------------------------------------------------------------------------

_held: set[str] = set()  # lock files this process holds: POSIX locks never conflict within one process
_held_guard = threading.Lock()


class Store:
    """The store at `path`.

    Opened for writing by default: created where missing, migrated to this nianbao's schema, and
    refused (a StoreError) where it is read-only, from a newer nianbao or, with `check`, damaged
    (`PRAGMA quick_check`). With `readonly` it is opened through SQLite's `mode=ro`: nothing can
    be written through it, and a read-only file or folder still serves reads.
    """

    def __init__(self, path: Path | str, *, readonly: bool = False, check: bool = True) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._local = threading.local()
        try:
            with self._errors():
                self._open_checked(check)
        except BaseException:
            self.close()
            raise

    def _open_checked(self, check: bool) -> None:
        if self.readonly:
            if not self.path.exists():
                raise StoreError(f"{self.path}: no such store")
            if not self.path.is_file():
                raise StoreError(f"{self.path}: not a store file")
        else:
            if why := _read_only_reason(self.path):
                raise StoreReadOnly(f"{self.path}: the store is read-only ({why}); {_MAKE_WRITABLE}")
            if not self.path.parent.is_dir():
                raise StoreError(f"{self.path}: no such folder {self.path.parent}")
            if self.path.exists() and not self.path.is_file():
                raise StoreError(f"{self.path}: not a store file")
        db = self.connection
        if check:
            self._quick_check(db)
        if not self.readonly:
            migrate(db, self.path)
        elif _due(db, self.path) is not None and not _tables(db) >= {"results", "documents", "reviews"}:
            # Read as it is, not migrated: every migration so far has only added to what older stores hold.
            raise StoreError(f"{self.path}: not a nianbao store (it holds no results)")

    @property
    def connection(self) -> sqlite3.Connection:
        """This thread's connection: a thread waiting on a lock held by another process blocks only itself."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            with self._errors():
                connection = self._connect()
            self._local.connection = connection
        return connection

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            uri = self.path.resolve().as_uri()
            try:
                return _open(f"{uri}?mode=ro", uri=True)
            except sqlite3.OperationalError as error:
                wal = self.path.with_name(self.path.name + "-wal")
                if (error.sqlite_errorcode & 0xFF) != sqlite3.SQLITE_CANTOPEN or (wal.exists() and wal.stat().st_size):
                    raise
                # A read-only folder: SQLite cannot make the -shm file a WAL reader shares with writers. With
                # no -wal file holding commits, no one writes this store, and its file alone is all of it.
                return _open(f"{uri}?mode=ro&immutable=1", uri=True)
        connection = _open(str(self.path))
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives a killed process
        except BaseException:
            connection.close()
            raise
        return connection

    def _quick_check(self, db: sqlite3.Connection) -> None:
        """A damaged store is refused on open, before a run counts its damaged results as done."""
        rows = [row[0] for row in db.execute("PRAGMA quick_check")]
        if rows != ["ok"]:
            lines = [line for row in rows for line in str(row).splitlines() if line.strip()]
            detail = next((line for line in lines if not line.startswith("***")), lines[0] if lines else "?")
            raise StoreDamaged(f"{self.path}: the store file is damaged ({detail}); " + _recover(self.path))

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Problems of the store (damaged, full, read-only, locked) as one-line StoreErrors naming it."""
        try:
            yield
        except (sqlite3.Error, OSError) as error:
            said = store_error(error, self.path)
            if said is None:
                raise
            raise said from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.connection
        with self._errors():
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # after some errors (a full disk) SQLite has rolled back already
                    with suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                raise

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store for one run: another run on it, in another process (a cron that overlaps
        itself) or this one, is refused with StoreInUse ("store in use by pid N since …").

        The lock is a POSIX record lock on `<store>.lock`, a file left in place (holding the holder's
        pid while held). The kernel drops the lock when this process ends, however it ends, `kill -9`
        included, and the worker processes it forks do not inherit it.
        """
        lock = self.path.with_name(self.path.name + ".lock")
        name = str(lock.resolve())
        with _held_guard:
            if name in _held:
                raise self._in_use(f"pid {os.getpid()} (this process)")
            _held.add(name)
        try:
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as error:
                raise StoreReadOnly(
                    f"{self.path}: cannot create its lock file {lock} ({error.strerror}); {_MAKE_WRITABLE}"
                ) from error
            try:
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as error:
                    if error.errno not in (errno.EACCES, errno.EAGAIN):
                        raise
                    raise self._in_use(_holder(fd)) from None
                os.ftruncate(fd, 0)
                holder = {"pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
                os.pwrite(fd, json.dumps(holder).encode(), 0)
                try:
                    yield
                finally:
                    with suppress(OSError):
                        os.ftruncate(fd, 0)
            finally:
                os.close(fd)  # and the lock with it
        finally:
            with _held_guard:
                _held.discard(name)

    def _in_use(self, holder: str) -> StoreInUse:
        return StoreInUse(
            f"{self.path}: store in use by {holder} (another `nianbao run`); "
            "wait for it to end, or give this run another --store"
        )

    # Runs and results -------------------------------------------------------------

    def start_run(self, version: str, settings: dict[str, Any]) -> int:
        with self._errors():
            cursor = self.connection.execute(
                "INSERT INTO runs (started, version, settings) VALUES (?, ?, ?)",
                (time.time(), version, json.dumps(settings, ensure_ascii=False, default=str)),
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, done: int) -> None:
        with self._errors():
            self.connection.execute("UPDATE runs SET finished = ?, done = ? WHERE id = ?", (time.time(), done, run_id))

    def finished(self, version: str) -> set[str]:
        """The documents done for this extraction version: those with a result that did not fail."""
        with self._errors():
            rows = self.connection.execute(
                "SELECT sha256 FROM results WHERE version = ? AND status != 'failed'", (version,)
            ).fetchall()
        return {row[0] for row in rows}

    def save_result(
        self, run_id: int, version: str, result: Result, path: Path, line: str, key: str | None = None
    ) -> int:
        """The document (`key`: its content hash, or `unread:<path>`) and its result with findings, in one transaction.

        A failed result of this version is replaced, never kept beside: the document's own, and the
        `unread:` ones of this path and of the folders above it (read now, so no longer unreadable).
        Reviews of a replaced result move to the new one.
        """
        sha = key or result.sha256 or f"unread:{path}"
        keys = [sha, *{f"unread:{place}" for place in (path, *path.parents)} - {sha}]
        with self._transaction() as db:
            marks = ", ".join("?" * len(keys))
            stale = [
                row[0]
                for row in db.execute(
                    f"SELECT id FROM results WHERE version = ? AND status = 'failed' AND sha256 IN ({marks})",
                    (version, *keys),
                )
            ]
            if stale:
                held = ", ".join("?" * len(stale))
                db.execute(f"DELETE FROM findings WHERE result_id IN ({held})", stale)
                db.execute(f"DELETE FROM results WHERE id IN ({held})", stale)
            db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET path = excluded.path",
                (sha, result.source, str(path), _size(path), time.time()),
            )
            result_id = _insert_result(db, sha, version, run_id, result.status, result, line)
            if stale:
                db.execute(f"UPDATE reviews SET result_id = ? WHERE result_id IN ({held})", (result_id, *stale))
                db.execute(
                    f"DELETE FROM documents WHERE sha256 IN ({marks}) AND sha256 LIKE 'unread:%'"
                    " AND NOT EXISTS (SELECT 1 FROM results WHERE results.sha256 = documents.sha256)",
                    keys,
                )
        return result_id

    def latest_results(self, status: str | None = None) -> Iterator[tuple[int, str, Result]]:
        """(result id, path, result) of the result of each document that stands, oldest document first: the newest
        a person decided (reviewed or rejected), else the newest; a later machine run does not undo a review."""
        query = (
            f"SELECT r.id, d.path, r.result FROM results r JOIN documents d ON d.sha256 = r.sha256"
            f" WHERE r.id IN ({_STANDING})" + (" AND r.status = ?" if status else "") + " ORDER BY r.id"
        )
        with self._errors():
            for result_id, path, line in self.connection.execute(query, (status,) if status else ()):
                yield result_id, path, load_line(line)

    def latest_summaries(self, status: str) -> list[ResultSummary]:
        """`latest_results` of this status as the review queue lists them, from the columns and the findings
        table: no result is parsed, so a queue of thousands opens at once."""
        return self._summaries(f"r.id IN ({_STANDING}) AND r.status = ?", (status,))

    def summary(self, result_id: int) -> ResultSummary | None:
        found = self._summaries("r.id = ?", (result_id,))
        return found[0] if found else None

    def latest_counts(self) -> dict[str, int]:
        """How many documents' standing results (as in `latest_results`) have each status."""
        query = f"SELECT status, COUNT(*) FROM results WHERE id IN ({_STANDING}) GROUP BY status"
        with self._errors():
            return {status: count for status, count in self.connection.execute(query)}

    def _summaries(self, where: str, parameters: tuple[Any, ...]) -> list[ResultSummary]:
        found = "FROM results r JOIN documents d ON d.sha256 = r.sha256 WHERE " + where
        with self._errors():
            rows = self.connection.execute(
                f"SELECT r.id, d.path, r.source, r.organ, r.year, r.template {found} ORDER BY r.id", parameters
            ).fetchall()
            findings: dict[int, list[tuple[str, str]]] = {row[0]: [] for row in rows}
            for result_id, rule, severity in self.connection.execute(
                f"SELECT f.result_id, f.rule, f.severity FROM findings f JOIN (SELECT r.id {found}) k"
                " ON k.id = f.result_id ORDER BY f.rowid",
                parameters,
            ):
                findings[result_id].append((rule, severity))
        return [
            ResultSummary(result_id, path, source, organ, year, template, findings[result_id])
            for result_id, path, source, organ, year, template in rows
        ]

    def result(self, result_id: int) -> tuple[str, Result] | None:
        with self._errors():
            row = self.connection.execute(
                "SELECT d.path, r.result FROM results r JOIN documents d ON d.sha256 = r.sha256 WHERE r.id = ?",
                (result_id,),
            ).fetchone()
        return (row[0], load_line(row[1])) if row else None

    def count(self, table: str) -> int:
        with self._errors():
            return int(self.connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    # Reviews ------------------------------------------------------------------------

    def review(
        self,
        result_id: int,
        reviewer: str,
        decision: str,
        key: str | None = None,
        old_value: Any = None,
        new_value: Any = None,
        note: str | None = None,
    ) -> int:
        with self._errors():
            cursor = self.connection.execute(
                "INSERT INTO reviews (result_id, reviewer, decision, key, old_value, new_value, note, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (result_id, reviewer, decision, key, _text(old_value), _text(new_value), note, time.time()),
            )
        return int(cursor.lastrowid or 0)

    def reviews(self, result_id: int) -> list[dict[str, Any]]:
        with self._errors():
            cursor = self.connection.execute("SELECT * FROM reviews WHERE result_id = ? ORDER BY id", (result_id,))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def decisions(self) -> dict[int, set[str]]:
        """Each reviewed result's id with the kinds of decision recorded on it."""
        with self._errors():
            rows = self.connection.execute("SELECT DISTINCT result_id, decision FROM reviews").fetchall()
        out: dict[int, set[str]] = {}
        for result_id, decision in rows:
            out.setdefault(result_id, set()).add(decision)
        return out

    def newest(self, result_id: int) -> tuple[int, str, Result] | None:
        """(id, status column, result) of the result that stands for the document `result_id` belongs to: as in
        `latest_results`, the newest a person decided, else the newest."""
        with self._errors():
            row = self.connection.execute(
                "SELECT id, status, result FROM results WHERE sha256 = (SELECT sha256 FROM results WHERE id = ?)"
                " ORDER BY status IN ('reviewed', 'rejected') DESC, id DESC LIMIT 1",
                (result_id,),
            ).fetchone()
        return (row[0], row[1], load_line(row[2])) if row else None

    def save_reviewed(self, of: int, review_id: int, result: Result, line: str, status: str) -> int:
        """A person's result for the document of result `of`, as a new row (status `reviewed` or `rejected`) that
        the exports, taking each document's newest result, use. Its version is `of`'s, marked with the review."""
        with self._transaction() as db:
            sha, version = db.execute("SELECT sha256, version FROM results WHERE id = ?", (of,)).fetchone()
            result_id = _insert_result(db, sha, f"{version}+review.{review_id}", None, status, result, line)
        return result_id

    # Eval runs ----------------------------------------------------------------------

    def save_eval_run(self, run: dict[str, Any], scores: dict[str, dict[str, Any]]) -> int:
        """One `nianbao eval` run (columns of eval_runs, JSON values as objects) and each report's score."""
        row = {
            key: value if isinstance(value, str | int | float | None) else _json(value) for key, value in run.items()
        }
        row.setdefault("created", time.time())
        with self._transaction() as db:
            cursor = db.execute(
                f"INSERT INTO eval_runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
            )
            run_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO eval_reports (run_id, source, score) VALUES (?, ?, ?)",
                [(run_id, source, _json(score)) for source, score in scores.items()],
            )
        return run_id

    def eval_runs(self) -> list[dict[str, Any]]:
        """Every eval run, oldest first, with its JSON columns parsed."""
        with self._errors():
            cursor = self.connection.execute("SELECT * FROM eval_runs ORDER BY id")
            names = [d[0] for d in cursor.description]
            return [_parsed(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]

    def eval_scores(self, run_id: int) -> dict[str, dict[str, Any]]:
        with self._errors():
            rows = self.connection.execute(
                "SELECT source, score FROM eval_reports WHERE run_id = ? ORDER BY source", (run_id,)
            ).fetchall()
        return {source: json.loads(score) for source, score in rows}

    # LLM exchanges and the cache ------------------------------------------------------

    def log(self, **exchange: Any) -> None:
        """One HTTP exchange with the LLM."""
        for field in ("request", "response"):
            if field in exchange and not isinstance(exchange[field], str | None):
                exchange[field] = json.dumps(exchange[field], ensure_ascii=False, default=str)
        exchange.setdefault("created_at", time.time())
        columns = ", ".join(exchange)
        marks = ", ".join("?" * len(exchange))
        with self._errors():
            self.connection.execute(f"INSERT INTO exchanges ({columns}) VALUES ({marks})", tuple(exchange.values()))

    def cached(self, key: str) -> tuple[dict[str, Any], int, int] | None:
        with self._errors():
            row = self.connection.execute(
                "SELECT answer, tokens_in, tokens_out FROM cache WHERE key = ?", (key,)
            ).fetchone()
        return (json.loads(row[0]), row[1], row[2]) if row else None

    def remember(self, key: str, answer: dict[str, Any], tokens_in: int, tokens_out: int) -> None:
        with self._errors():
            self.connection.execute(
                "INSERT OR REPLACE INTO cache VALUES (?, ?, ?, ?, ?)",
                (key, json.dumps(answer, ensure_ascii=False), tokens_in, tokens_out, time.time()),
            )

    def exchanges(self, **where: Any) -> list[dict[str, Any]]:
        clause = " AND ".join(f"{column} = ?" for column in where) or "1"
        with self._errors():
            cursor = self.connection.execute(
                f"SELECT * FROM exchanges WHERE {clause} ORDER BY id", tuple(where.values())
            )
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        """This thread's connection."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


# Each document's standing result: the newest a person decided (reviewed or rejected), else the newest.
_STANDING = (
    "SELECT COALESCE(MAX(CASE WHEN status IN ('reviewed', 'rejected') THEN id END), MAX(id))"
    " FROM results GROUP BY sha256"
)


@dataclass
class ResultSummary:
    """What a list of results shows of one, read from the store's columns without parsing the result."""

    result_id: int
    path: str
    source: str
    organ: str | None
    year: int | None
    template: str | None
    findings: list[tuple[str, str]]  # (rule, severity) of each finding, in the result's order


def _holder(fd: int) -> str:
    """Who holds the lock file open at `fd`, as it says: "pid N since …"."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"null")
        return f"pid {int(holder['pid'])} since {holder['since']}"
    except (OSError, ValueError, TypeError, KeyError):
        return "another process"


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _insert_result(
    db: sqlite3.Connection, sha: str, version: str, run_id: int | None, status: str, result: Result, line: str
) -> int:
    """One results row and its findings rows, inside the caller's transaction; returns the row's id."""
    errors = sum(f.severity == "error" for f in result.findings)
    cursor = db.execute(
        "INSERT INTO results (sha256, version, run_id, source, status, organ, year, template, errors,"
        " warnings, result, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sha, version, run_id, result.source, status, result.organ, result.year, result.template, errors,
         len(result.findings) - errors, line, time.time()),
    )  # fmt: skip
    result_id = int(cursor.lastrowid or 0)
    db.executemany(
        "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (result_id, f.rule, f.severity, f.blame, json.dumps(f.cells), json.dumps(f.lines), f.zh, f.en)
            for f in result.findings
        ],
    )
    return result_id


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


_JSON_COLUMNS = ("prompts", "settings", "measures")


def _parsed(row: dict[str, Any]) -> dict[str, Any]:
    return {key: json.loads(value) if key in _JSON_COLUMNS and value else value for key, value in row.items()}

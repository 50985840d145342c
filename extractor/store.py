"""The SQLite store: documents, runs, results and their findings, review decisions, every LLM
exchange (prompt, response, tokens, latency, outcome), and the response cache.

One file, WAL mode; each finished result is committed on its own, so a killed run loses
nothing that was finished. Documents are keyed by content hash; a result by (document,
extraction version), so a new prompt, schema or model makes a new result and never
overwrites an old one. Requests are stored as sent (messages, model, parameters), never
with headers, so the API key cannot reach the store.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from schemas.result import Result, load_line

SCHEMA = """
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
"""


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.connection.executescript(SCHEMA)

    @property
    def connection(self) -> sqlite3.Connection:
        """This thread's connection: a thread waiting on a lock held by another process blocks only itself."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(str(self.path), isolation_level=None, timeout=60)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives a killed process
            self._local.connection = connection
        return connection

    # Runs and results -------------------------------------------------------------

    def start_run(self, version: str, settings: dict[str, Any]) -> int:
        cursor = self.connection.execute(
            "INSERT INTO runs (started, version, settings) VALUES (?, ?, ?)",
            (time.time(), version, json.dumps(settings, ensure_ascii=False, default=str)),
        )
        return int(cursor.lastrowid)

    def finish_run(self, run_id: int, done: int) -> None:
        self.connection.execute("UPDATE runs SET finished = ?, done = ? WHERE id = ?", (time.time(), done, run_id))

    def finished(self, version: str) -> set[str]:
        """The documents that already have a result for this extraction version."""
        rows = self.connection.execute("SELECT sha256 FROM results WHERE version = ?", (version,))
        return {row[0] for row in rows}

    def save_result(self, run_id: int, version: str, result: Result, path: Path, line: str) -> int:
        """The document and its result with findings, in one transaction."""
        errors = sum(f.severity == "error" for f in result.findings)
        sha = result.sha256 or f"unread:{path}"
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            self.connection.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET path = excluded.path",
                (sha, result.source, str(path), path.stat().st_size if path.exists() else None, time.time()),
            )
            cursor = self.connection.execute(
                "INSERT INTO results (sha256, version, run_id, source, status, organ, year, template, errors,"
                " warnings, result, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sha,
                    version,
                    run_id,
                    result.source,
                    result.status,
                    result.organ,
                    result.year,
                    result.template,
                    errors,
                    len(result.findings) - errors,
                    line,
                    time.time(),
                ),
            )
            result_id = int(cursor.lastrowid)
            self.connection.executemany(
                "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (result_id, f.rule, f.severity, f.blame, json.dumps(f.cells), json.dumps(f.lines), f.zh, f.en)
                    for f in result.findings
                ],
            )
            self.connection.execute("COMMIT")
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        return result_id

    def latest_results(self, status: str | None = None) -> Iterator[tuple[int, str, Result]]:
        """(result id, path, result) of the newest result of each document, oldest document first."""
        query = (
            "SELECT r.id, d.path, r.result FROM results r JOIN documents d ON d.sha256 = r.sha256"
            " WHERE r.id IN (SELECT MAX(id) FROM results GROUP BY sha256)"
            + (" AND r.status = ?" if status else "")
            + " ORDER BY r.id"
        )
        for result_id, path, line in self.connection.execute(query, (status,) if status else ()):
            yield result_id, path, load_line(line)

    def result(self, result_id: int) -> tuple[str, Result] | None:
        row = self.connection.execute(
            "SELECT d.path, r.result FROM results r JOIN documents d ON d.sha256 = r.sha256 WHERE r.id = ?",
            (result_id,),
        ).fetchone()
        return (row[0], load_line(row[1])) if row else None

    def count(self, table: str) -> int:
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
        cursor = self.connection.execute(
            "INSERT INTO reviews (result_id, reviewer, decision, key, old_value, new_value, note, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (result_id, reviewer, decision, key, _text(old_value), _text(new_value), note, time.time()),
        )
        return int(cursor.lastrowid)

    def reviews(self, result_id: int) -> list[dict[str, Any]]:
        cursor = self.connection.execute("SELECT * FROM reviews WHERE result_id = ? ORDER BY id", (result_id,))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # LLM exchanges and the cache ------------------------------------------------------

    def log(self, **exchange: Any) -> None:
        """One HTTP exchange with the LLM."""
        for field in ("request", "response"):
            if field in exchange and not isinstance(exchange[field], str | None):
                exchange[field] = json.dumps(exchange[field], ensure_ascii=False, default=str)
        exchange.setdefault("created_at", time.time())
        columns = ", ".join(exchange)
        marks = ", ".join("?" * len(exchange))
        self.connection.execute(f"INSERT INTO exchanges ({columns}) VALUES ({marks})", tuple(exchange.values()))

    def cached(self, key: str) -> tuple[dict[str, Any], int, int] | None:
        row = self.connection.execute(
            "SELECT answer, tokens_in, tokens_out FROM cache WHERE key = ?", (key,)
        ).fetchone()
        return (json.loads(row[0]), row[1], row[2]) if row else None

    def remember(self, key: str, answer: dict[str, Any], tokens_in: int, tokens_out: int) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO cache VALUES (?, ?, ?, ?, ?)",
            (key, json.dumps(answer, ensure_ascii=False), tokens_in, tokens_out, time.time()),
        )

    def exchanges(self, **where: Any) -> list[dict[str, Any]]:
        clause = " AND ".join(f"{column} = ?" for column in where) or "1"
        cursor = self.connection.execute(f"SELECT * FROM exchanges WHERE {clause} ORDER BY id", tuple(where.values()))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.connection.close()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)

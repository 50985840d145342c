"""The SQLite store: every LLM exchange logged (prompt, response, tokens, latency, outcome), and the response cache.

One file, WAL mode. Requests are stored as sent (messages, model, parameters), never with
headers, so the API key cannot reach the store.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

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
        self.connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.executescript(SCHEMA)

    def log(self, **exchange: Any) -> None:
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

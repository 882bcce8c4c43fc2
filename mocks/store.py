"""Embedded SQLite store: one table of JSON records keyed by (collection, sourcedId).

A single generic table keeps the core free of per-API schema: collections come from the specs.
`:memory:` by default; a file path persists across restarts.
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson

from tbconform.mocks.query import casefold_contains

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (collection, id)
);
CREATE INDEX IF NOT EXISTS records_by_collection ON records (collection, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StoreError(Exception):
    """The database file cannot be opened or is not a sandbox store."""


class Store:
    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        try:
            self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use {self.path} as a sandbox database: {exc}") from None
        self.db.create_function("tb_contains", 2, casefold_contains, deterministic=True)
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.RLock()
        self._depth = 0

    # -- transactions -------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator["Store"]:
        """All-or-nothing: a failure anywhere inside rolls every write back."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self.db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.db.execute("COMMIT")

    # -- reads ------------------------------------------------------------------------------
    def get_raw(self, collection: str, record_id: str) -> str | None:
        row = self.db.execute(
            "SELECT data FROM records WHERE collection = ? AND id = ?", (collection, record_id)
        ).fetchone()
        return row[0] if row else None

    def get(self, collection: str, record_id: str) -> dict[str, Any] | None:
        raw = self.get_raw(collection, record_id)
        return orjson.loads(raw) if raw is not None else None

    def exists(self, collection: str, record_id: str) -> bool:
        return self.get_raw(collection, record_id) is not None

    def missing(self, collection: str, ids: Iterable[str]) -> list[str]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        found = {
            row[0]
            for row in self.db.execute(
                "SELECT id FROM records WHERE collection = ? AND id IN (SELECT value FROM json_each(?))",
                (collection, orjson.dumps(wanted).decode()),
            )
        }
        return [i for i in wanted if i not in found]

    def select(
        self,
        collection: str,
        where: str = "1",
        params: list[Any] | None = None,
        order: str = "seq",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[str]:
        sql = f"SELECT data FROM records WHERE collection = ?{len(params or []) + 1} AND {where} ORDER BY {order}"
        args = list(params or []) + [collection]
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return [row[0] for row in self.db.execute(sql, args)]

    def page(self, collection: str, where: str, params: list[Any], order: str, limit: int,
             offset: int) -> tuple[int, list[str]]:
        """One page and the total match count from a single scan (window count)."""
        sql = (f"SELECT data, count(*) OVER () FROM records WHERE collection = ?{len(params) + 1} AND {where} "
               f"ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}")
        rows = self.db.execute(sql, list(params) + [collection]).fetchall()
        if rows:
            return rows[0][1], [row[0] for row in rows]
        return (self.count(collection, where, params) if offset else 0), []

    def count(self, collection: str, where: str = "1", params: list[Any] | None = None) -> int:
        sql = f"SELECT count(*) FROM records WHERE collection = ?{len(params or []) + 1} AND {where}"
        return self.db.execute(sql, list(params or []) + [collection]).fetchone()[0]

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT collection, count(*) FROM records GROUP BY collection ORDER BY collection"))

    def is_empty(self) -> bool:
        return self.db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None

    # -- writes -----------------------------------------------------------------------------
    def insert(self, collection: str, record: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO records (collection, id, data) VALUES (?, ?, ?)",
            (collection, record["sourcedId"], orjson.dumps(record).decode()),
        )

    def replace(self, collection: str, record: dict[str, Any]) -> None:
        """Update in place (keeps the record's position in the default order)."""
        self.db.execute(
            "UPDATE records SET data = ? WHERE collection = ? AND id = ?",
            (orjson.dumps(record).decode(), collection, record["sourcedId"]),
        )

    def load(self, records: Iterable[tuple[str, dict[str, Any]]], batch: int = 5000) -> int:
        """Bulk insert a seed stream inside one transaction."""
        total = 0
        rows: list[tuple[str, str, str]] = []
        with self.transaction():
            for collection, record in records:
                rows.append((collection, record["sourcedId"], orjson.dumps(record).decode()))
                if len(rows) >= batch:
                    self.db.executemany("INSERT INTO records (collection, id, data) VALUES (?, ?, ?)", rows)
                    total += len(rows)
                    rows.clear()
            self.db.executemany("INSERT INTO records (collection, id, data) VALUES (?, ?, ?)", rows)
            total += len(rows)
        return total

    def clear(self) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM records")
            self.db.execute("DELETE FROM meta")

    # -- metadata ---------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.db.close()

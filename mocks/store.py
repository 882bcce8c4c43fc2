"""Embedded SQLite store: one table of JSON records keyed by (collection, sourcedId).

A single generic table keeps the core free of per-API schema: collections come from the specs.
`:memory:` by default; a file path persists across restarts. The fields the specs declare
`indexed` get indexes (mocks/indexes.py); every SQL statement lives here or in mocks/query.py, so
behaviours and actions reach the database only through this API.
"""
from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import orjson

from tbconform.mocks import indexes
from tbconform.mocks.query import TABLE, VALUES_TABLE, casefold_contains, json_expr, sql_literal
from tbconform.specs.fieldpaths import FieldPath

COUNT_MEMO_SIZE = 512
# A value of an indexed field is "common" (IndexStats.common: mocks/query.py then finds a page of
# its records by testing records in order rather than by collecting every match through the index)
# when more of a collection's N records hold it than about sqrt(limit * N * 2.5): collecting costs
# one step per match, testing about limit * N / matches steps for a page. For the default page of
# 100: 16 * sqrt(N), and never below COMMON_MIN.
COMMON_FACTOR = 16
COMMON_MIN = 256
INDEX_SPLIT = 4  # see Store.analyze
PLANNER_STATS = f"analyze+split{INDEX_SPLIT}"  # a file whose statistics were kept otherwise is analyzed again

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
    def __init__(self, path: str | Path = ":memory:", indexed: Iterable[FieldPath] = (),
                 keys: dict[str, str] | None = None) -> None:
        """`indexed`: the field paths the specs declare indexed (their `indexed_in` names the collection).
        `keys`: collection -> the record field that is its key, where it is not `sourcedId`."""
        self.path = str(path)
        self.keys = dict(keys or {})
        self.lock = threading.RLock()
        self._depth = 0
        self._counts: dict[tuple[str, str, tuple[Any, ...]], int] = {}
        self.indexed = [p for p in indexed if p.indexed_in]
        self._array_paths: dict[str, list[FieldPath]] = {}
        for p in indexes.array_paths(self.indexed):
            self._array_paths.setdefault(p.indexed_in or "", []).append(p)
        try:
            self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self.db.executescript(SCHEMA + indexes.VALUES_SCHEMA)
            self.db.create_function("tb_contains", 2, casefold_contains, deterministic=True)
            if self.path != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
            self._ensure_indexes()
            if self.meta("planner-stats") != PLANNER_STATS:
                self.analyze()  # a file from before the store kept these statistics
            else:
                self._learn_common_values()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use {self.path} as a sandbox database: {exc}") from None

    # -- indexes ----------------------------------------------------------------------------
    def _ensure_indexes(self) -> None:
        """Create missing indexes (IF NOT EXISTS: a file from before they existed still opens),
        drop ours the specs no longer declare, and fill the value table for new array paths."""
        wanted = indexes.expression_indexes(self.indexed)
        with self.transaction():
            present = {row[0] for row in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE ?", (indexes.INDEX_PREFIX + "%",))}
            for name in sorted(present - set(wanted)):
                self.db.execute(f'DROP INDEX IF EXISTS "{name}"')
            for statement in wanted.values():
                self.db.execute(statement)
            filled = set(orjson.loads(self.meta("indexed-values") or "[]"))
            paths = [p for group in self._array_paths.values() for p in group]
            keep = {indexes.value_key(p) for p in paths}
            for key in sorted(filled - keep):
                collection, _, field = key.partition(":")
                self.db.execute(f"DELETE FROM {VALUES_TABLE} WHERE collection = ? AND path = ?", (collection, field))
            for p in paths:
                if indexes.value_key(p) not in filled:
                    self.db.execute(indexes.fill_values_sql(p, only_rec=False))
            self.set_meta("indexed-values", orjson.dumps(sorted(keep)).decode())

    def _refill_values(self) -> None:
        """Rebuild the value table from the records (after a bulk load: one statement per path)."""
        self.db.execute(f"DELETE FROM {VALUES_TABLE}")
        for group in self._array_paths.values():
            for p in group:
                self.db.execute(indexes.fill_values_sql(p, only_rec=False))

    def _index_values(self, collection: str, record_id: str) -> None:
        """Keep one record's rows in the value table in step with its data."""
        group = self._array_paths.get(collection)
        if not group:
            return
        row = self.db.execute(f"SELECT seq FROM {TABLE} WHERE collection = ? AND id = ?", (collection, record_id)).fetchone()
        if row is None:
            return
        self.db.execute(f"DELETE FROM {VALUES_TABLE} WHERE rec = ?", (row[0],))
        for p in group:
            self.db.execute(indexes.fill_values_sql(p, only_rec=True), (row[0],))

    def analyze(self) -> None:
        """Refresh the statistics the query planners use. Run after every bulk load; single writes
        leave them slightly stale, which only ever costs speed.

        SQLite's own (ANALYZE) tell it which of two indexed conditions is the more selective
        (`class.sourcedId` over `role`). They know only an average per index, so an indexed field
        whose values are mostly one (`status`) would look useless, and the planner would test
        `json_extract` on every record instead; each index is therefore claimed to split its rows
        at least in four (`INDEX_SPLIT`). An equality on an indexed field then stays on its index
        (which yields its records in the default order, and holds the value: no JSON is parsed),
        while a sort on another indexed field still reads that field's index in order.
        The common values of each index (`IndexStats.common`) serve mocks/query.py.
        """
        with self.lock:
            self.db.execute("ANALYZE")
            for name, stat in self.db.execute(
                    "SELECT idx, stat FROM sqlite_stat1 WHERE idx LIKE ?", (indexes.INDEX_PREFIX + "%",)).fetchall():
                parts = stat.split()
                if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                    parts[1] = str(max(1, min(int(parts[1]), int(parts[0]) // INDEX_SPLIT)))
                    self.db.execute("UPDATE sqlite_stat1 SET stat = ? WHERE idx = ?", (" ".join(parts), name))
            self.db.execute("ANALYZE sqlite_schema")  # reload the statistics just written
            self.set_meta("planner-stats", PLANNER_STATS)
            self._learn_common_values()

    def _learn_common_values(self) -> None:
        """Fill `IndexStats.common` of every indexed path from the data (NULL is never common: no
        comparison matches it). One grouped read per index, along the index itself."""
        sizes = self.counts()

        def common(collection: str, rows: Iterable[tuple[Any, int]]) -> frozenset[Any]:
            floor = COMMON_FACTOR * math.sqrt(sizes.get(collection, 0))
            return frozenset(value for value, n in rows if n >= floor)

        arrays: dict[tuple[str, str], list[tuple[Any, int]]] = {}
        for collection, path, value, n in self.db.execute(
                f"SELECT collection, path, value, count(*) FROM {VALUES_TABLE} "
                "GROUP BY collection, path, value HAVING count(*) >= ?", (COMMON_MIN,)):
            arrays.setdefault((collection, path), []).append((value, n))
        for p in self.indexed:
            if p.stats is None or p.path == "sourcedId":
                continue
            collection = p.indexed_in or ""
            if p.in_array:
                p.stats.common = common(collection, arrays.get((collection, p.path), []))
            else:  # grouped along the field's own expression index (INDEXED BY: on a large collection
                # the planner would rather scan it by `collection` and parse every record's JSON)
                expr = json_expr("data", p.segments)
                p.stats.common = common(collection, self.db.execute(
                    f'SELECT {expr}, count(*) FROM {TABLE} INDEXED BY "{indexes.index_name(p)}" '
                    f"WHERE collection = {sql_literal(collection)} "
                    f"AND {expr} IS NOT NULL GROUP BY {expr} HAVING count(*) >= ?", (COMMON_MIN,)))

    def _written(self) -> None:
        """Every write forgets the memoised counts (they describe the data before it)."""
        self._counts.clear()

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
                    self._written()
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

    def select_sql(self, collection: str, where: str = "1", order: str = "seq", limit: int | None = None,
                   offset: int = 0, what: str = "data") -> str:
        """The statement `select` runs (public so that tests can EXPLAIN QUERY PLAN it).

        The collection is a literal, not a parameter: the partial indexes name it as a constant.
        """
        sql = f"SELECT {what} FROM {TABLE} WHERE collection = {sql_literal(collection)} AND ({where}) ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return sql

    def count_sql(self, collection: str, where: str = "1") -> str:
        return f"SELECT count(*) FROM {TABLE} WHERE collection = {sql_literal(collection)} AND ({where})"

    def select(
        self,
        collection: str,
        where: str = "1",
        params: list[Any] | None = None,
        order: str = "seq",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[str]:
        sql = self.select_sql(collection, where, order, limit, offset)
        return [row[0] for row in self.db.execute(sql, list(params or []))]

    def select_fields(self, collection: str, fields: Sequence[str], where: str = "1",
                      params: list[Any] | None = None, order: str = "seq") -> list[list[Any]]:
        """Only some fields (dotted paths) of each matching record: a list of their values per
        record, in `fields` order, None where a field is missing or lies under a non-object.

        For a reader that needs a few fields of large documents: SQLite walks each document once
        (one json_extract with every path answers a JSON array), and Python parses short arrays
        instead of whole records. Strings, numbers, booleans, objects come back as JSON has them."""
        paths = [sql_literal("$." + name) for name in fields] or [sql_literal("$")]
        what = f"json_extract(data, {', '.join(paths * (2 if len(paths) == 1 else 1))})"  # 2+ paths: an array
        rows = self.db.execute(self.select_sql(collection, where, order, what=what), list(params or [])).fetchall()
        values = orjson.loads("[" + ",".join(row[0] for row in rows) + "]")
        return [v[:1] for v in values] if len(paths) == 1 else values

    def page(self, collection: str, where: str, params: list[Any], order: str, limit: int,
             offset: int) -> tuple[int, list[str]]:
        """One page and the total match count: two indexed statements under the store lock, so no
        write lands between them (a window count would read every matching row's data)."""
        with self.lock:
            rows = self.select(collection, where, params, order, limit, offset)
            if 0 < len(rows) < limit or (not rows and offset == 0):
                return offset + len(rows), rows  # the page ends the listing: the count is known
            return self.count(collection, where, params), rows

    def count(self, collection: str, where: str = "1", params: list[Any] | None = None) -> int:
        """Matching records; memoised until the next write (outside transactions only, so a
        count never outlives a rollback)."""
        key = (collection, where, tuple(params or []))
        with self.lock:
            if self._depth == 0 and key in self._counts:
                return self._counts[key]
            total = self.db.execute(self.count_sql(collection, where), list(params or [])).fetchone()[0]
            if self._depth == 0:
                if len(self._counts) >= COUNT_MEMO_SIZE:
                    self._counts.clear()
                self._counts[key] = total
            return total

    def first(self, collection: str) -> dict[str, Any] | None:
        """The earliest stored record of a collection (default order)."""
        rows = self.select(collection, limit=1)
        return orjson.loads(rows[0]) if rows else None

    def explain(self, sql: str, params: list[Any] | None = None) -> list[str]:
        """SQLite's query plan for a statement, one line per step (tests prove index use with it)."""
        return [row[-1] for row in self.db.execute(f"EXPLAIN QUERY PLAN {sql}", list(params or []))]

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT collection, count(*) FROM records GROUP BY collection ORDER BY collection"))

    def is_empty(self) -> bool:
        return self.db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None

    # -- writes -----------------------------------------------------------------------------
    def key_of(self, collection: str, record: dict[str, Any]) -> str:
        return str(record[self.keys.get(collection, "sourcedId")])

    def insert(self, collection: str, record: dict[str, Any]) -> None:
        with self.transaction():
            self._written()
            self.db.execute(
                "INSERT INTO records (collection, id, data) VALUES (?, ?, ?)",
                (collection, self.key_of(collection, record), orjson.dumps(record).decode()),
            )
            self._index_values(collection, self.key_of(collection, record))

    def replace(self, collection: str, record: dict[str, Any]) -> None:
        """Update in place (keeps the record's position in the default order)."""
        with self.transaction():
            self._written()
            self.db.execute(
                "UPDATE records SET data = ? WHERE collection = ? AND id = ?",
                (orjson.dumps(record).decode(), collection, self.key_of(collection, record)),
            )
            self._index_values(collection, self.key_of(collection, record))

    def delete(self, collection: str, record_id: str) -> None:
        """Remove a record outright (the API soft-deletes; this is for faults and tools)."""
        with self.transaction():
            self._written()
            self.db.execute(f"DELETE FROM {VALUES_TABLE} WHERE rec IN (SELECT seq FROM {TABLE} "
                            "WHERE collection = ? AND id = ?)", (collection, record_id))
            self.db.execute("DELETE FROM records WHERE collection = ? AND id = ?", (collection, record_id))

    def load(self, records: Iterable[tuple[str, dict[str, Any]]], batch: int = 5000) -> int:
        """Bulk insert a seed stream inside one transaction; the value table is rebuilt once after."""
        total = 0
        rows: list[tuple[str, str, str]] = []
        with self.transaction():
            self._written()
            for collection, record in records:
                rows.append((collection, self.key_of(collection, record), orjson.dumps(record).decode()))
                if len(rows) >= batch:
                    self.db.executemany("INSERT INTO records (collection, id, data) VALUES (?, ?, ?)", rows)
                    total += len(rows)
                    rows.clear()
            self.db.executemany("INSERT INTO records (collection, id, data) VALUES (?, ?, ?)", rows)
            total += len(rows)
            self._refill_values()
            self.analyze()
        return total

    def clear(self) -> None:
        with self.transaction():
            self._written()
            self.db.execute("DELETE FROM records")
            self.db.execute(f"DELETE FROM {VALUES_TABLE}")
            self.db.execute("DELETE FROM meta WHERE key NOT IN ('indexed-values', 'planner-stats')")

    # -- metadata ---------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.db.close()

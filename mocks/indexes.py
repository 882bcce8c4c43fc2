"""The indexes a spec's `x-tb-collections … indexed:` declarations ask the store to keep.

A path that crosses no array gets a partial expression index on the records table, spelt with the
exact expression the query compiler emits (`json_extract(data, '$.class.sourcedId')`), so SQLite
matches it. A path that crosses an array (`roles.role`) cannot be an expression index: its element
values live in a side table (`record_values`) that the store fills on every write and after a load.
That table has two indexes, one per way of reading it (mocks/query.py `Compiler._walk` picks one):
`(collection, path, value, rec)` collects the records holding a value, `(rec, path, value)` checks
one record's values. `sourcedId` needs neither: it is the `id` column of the `(collection, id)`
unique index.
"""
from __future__ import annotations

import re
from typing import Iterable

from tbconform.mocks.query import TABLE, VALUES_TABLE, json_expr, sql_literal, value_joins
from tbconform.specs.fieldpaths import FieldPath

VALUES_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {VALUES_TABLE} (collection TEXT NOT NULL, path TEXT NOT NULL, value, rec INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS {VALUES_TABLE}_lookup ON {VALUES_TABLE} (collection, path, value, rec);
CREATE INDEX IF NOT EXISTS {VALUES_TABLE}_probe ON {VALUES_TABLE} (rec, path, value);
"""
INDEX_PREFIX = "tbx_"


def index_name(path: FieldPath) -> str:
    return INDEX_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", f"{path.indexed_in}__{path.path}")


def expression_indexes(paths: Iterable[FieldPath]) -> dict[str, str]:
    """name -> CREATE INDEX statement for every indexed path that crosses no array."""
    out: dict[str, str] = {}
    for path in paths:
        if path.indexed_in and not path.in_array and path.path != "sourcedId":
            out[index_name(path)] = (
                f'CREATE INDEX IF NOT EXISTS "{index_name(path)}" ON {TABLE} '
                f"({json_expr('data', path.segments)}) WHERE collection = {sql_literal(path.indexed_in)}")
    return out


def array_paths(paths: Iterable[FieldPath]) -> list[FieldPath]:
    """Indexed paths kept in the value table."""
    return [p for p in paths if p.indexed_in and p.in_array]


def fill_values_sql(path: FieldPath, only_rec: bool) -> str:
    """INSERT … SELECT of the element values of `path`: every record of its collection, or one
    (`only_rec`: parameter ?1 is its seq). NULLs are left out: no comparison ever matches them;
    a value a record holds twice is kept once."""
    joins, leaf = value_joins("r.data", path.segments)
    where = f"r.collection = {sql_literal(path.indexed_in or '')}" + (" AND r.seq = ?1" if only_rec else "")
    return (f"INSERT INTO {VALUES_TABLE} (collection, path, value, rec) "
            f"SELECT DISTINCT {sql_literal(path.indexed_in or '')}, {sql_literal(path.path)}, {leaf}, r.seq "
            f"FROM {TABLE} AS r, {joins} WHERE {where} AND {leaf} IS NOT NULL")


def value_key(path: FieldPath) -> str:
    return f"{path.indexed_in}:{path.path}"

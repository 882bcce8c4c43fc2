"""Parse the OneRoster filter grammar and compile filters, sorts and searches to SQLite.

Grammar: `field<op>value` joined by ` AND ` / ` OR ` (AND binds tighter), one level of parentheses;
ops `= != ~ > >= < <= @`; values single-quoted (`''` escapes a quote) or bare; `@` takes a
comma list. A path that crosses an array matches when any element matches; `!=` is exactly
the complement of `=`; other comparisons never match a missing value.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Union

from tbconform.specs.fieldpaths import FILTER_OPERATORS, FieldPath

MAX_FILTER_LENGTH = 1024  # the specs' maxLength; keeps SQL within SQLite's depth limits
MAX_TERMS = 400
MAX_NESTING = 1  # the specs' filter pattern allows one level of parentheses


class QueryError(ValueError):
    """A filter, sort, fields or search value the sandbox cannot honour (answered with 400)."""


@dataclass(frozen=True)
class Predicate:
    field: str
    op: str
    value: str


@dataclass(frozen=True)
class BoolExpr:
    op: str  # AND | OR
    parts: tuple["Node", ...]


Node = Union[Predicate, BoolExpr]

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_BARE = re.compile(r"[^\s()']+")
_KEYWORD = re.compile(r"\s+(AND|OR)\s+")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.terms = 0
        self.depth = 0

    def fail(self, why: str) -> QueryError:
        return QueryError(f"invalid filter at position {self.pos}: {why} (filter: {self.text!r})")

    def parse(self) -> Node:
        node = self.parse_or()
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.text[self.pos:self.pos + 12]!r}")
        return node

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def keyword(self, word: str) -> bool:
        match = _KEYWORD.match(self.text, self.pos)
        if match and match.group(1) == word:
            self.pos = match.end()
            return True
        return False

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.keyword("OR"):
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else BoolExpr("OR", tuple(parts))

    def parse_and(self) -> Node:
        parts = [self.parse_atom()]
        while self.keyword("AND"):
            parts.append(self.parse_atom())
        return parts[0] if len(parts) == 1 else BoolExpr("AND", tuple(parts))

    def parse_atom(self) -> Node:
        self.skip_space()
        if self.text.startswith("(", self.pos):
            if self.depth >= MAX_NESTING:
                raise self.fail(f"parentheses may nest only {MAX_NESTING} level deep")
            self.pos += 1
            self.depth += 1
            node = self.parse_or()
            self.depth -= 1
            self.skip_space()
            if not self.text.startswith(")", self.pos):
                raise self.fail("missing ')'")
            self.pos += 1
            return node
        return self.parse_predicate()

    def parse_predicate(self) -> Predicate:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.fail(f"more than {MAX_TERMS} predicates")
        match = _FIELD.match(self.text, self.pos)
        if not match:
            raise self.fail("expected a field name")
        field = match.group(0)
        self.pos = match.end()
        op = next((o for o in FILTER_OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            raise self.fail(f"expected one of {' '.join(FILTER_OPERATORS)} after {field!r}")
        self.pos += len(op)
        return Predicate(field, op, self.parse_value())

    def parse_value(self) -> str:
        if self.text.startswith("'", self.pos):
            out, i = [], self.pos + 1
            while i < len(self.text):
                ch = self.text[i]
                if ch == "'":
                    if self.text.startswith("''", i):
                        out.append("'")
                        i += 2
                        continue
                    self.pos = i + 1
                    return "".join(out)
                out.append(ch)
                i += 1
            raise self.fail("unterminated quoted value")
        match = _BARE.match(self.text, self.pos)
        if not match:
            raise self.fail("expected a value")
        self.pos = match.end()
        return match.group(0)


def parse_filter(text: str) -> Node:
    if len(text) > MAX_FILTER_LENGTH:
        raise QueryError(f"filter longer than {MAX_FILTER_LENGTH} characters")
    if not text.strip():
        raise QueryError("filter is empty")
    return _Parser(text).parse()


def quote(value: str) -> str:
    """Quote a value for the filter grammar (used to substitute path parameters into scopes)."""
    return "'" + value.replace("'", "''") + "'"


def casefold_contains(haystack: Any, needle: Any) -> int:
    """SQL function `tb_contains`: case-insensitive, unicode-aware substring test."""
    if haystack is None or needle is None:
        return 0
    return int(str(needle).casefold() in str(haystack).casefold())


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _coerce(value: str, kind: str) -> Any:
    """Turn a filter literal into the stored type; None when it cannot be that type."""
    if kind in ("integer", "number"):
        if not _NUMBER.fullmatch(value.strip()):
            return None
        number = float(value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "boolean":
        return {"true": 1, "false": 0}.get(value.lower())
    return value


def _json_path(names: list[str]) -> str:
    return "$" + "".join(f".{n}" for n in names)


class Compiler:
    """Compiles filter trees against one collection's field paths. Collects SQL parameters.

    The SQL is a condition on one row of the store's records table (mocks/store.py): `column` names
    its JSON column. On that table (the default, `column="data"`) the compiler also uses its key
    columns and the store's indexes: `sourcedId` is the `id` column, and an indexed path that
    crosses an array is answered from the value table (`record_values`). For any other `column`
    (a caller's own table or expression) it emits plain json_extract / json_each SQL only. Both
    forms select exactly the same records.
    """

    def __init__(self, fields: dict[str, FieldPath], column: str = "data") -> None:
        self.fields = fields
        self.column = column
        self.params: list[Any] = []
        self._alias = 0
        # the collection these fields belong to, as their index declarations name it (if any)
        self.collection = next((p.indexed_in for p in fields.values() if p.indexed_in), None)

    @property
    def on_records(self) -> bool:
        """Compiling for the store's records table, so its key columns and indexes may be used."""
        return self.column == "data"

    def field(self, name: str) -> FieldPath:
        try:
            return self.fields[name]
        except KeyError:
            raise QueryError(f"unknown field {name!r}; filterable fields: {', '.join(sorted(self.fields))}") from None

    def compile(self, node: Node) -> str:
        if isinstance(node, BoolExpr):
            joined = f" {node.op} ".join(self.compile(p) for p in node.parts)
            return f"({joined})"
        return self.predicate(node)

    def predicate(self, pred: Predicate) -> str:
        path = self.field(pred.field)
        if pred.op == "!=":
            # NULL (missing value) must count as "not equal": != is the exact complement of =.
            # No index can find the records that lack a value, so each record is probed.
            return f"(NOT coalesce({self._over(path, '=', pred.value, probe=True)}, 0))"
        return self._over(path, pred.op, pred.value)

    def membership(self, field: str, values: list[str]) -> str:
        """Records whose `field` equals one of `values`."""
        path = self.field(field)
        self.params.append(json.dumps(values))
        placeholder = len(self.params) - 1
        return self._walk(path, lambda expr: f"{expr} IN (SELECT value FROM json_each(?{placeholder + 1}))")

    def driven_by(self, driving: Node, rest: Node) -> str:
        """`driving AND rest`, where only `driving` may choose the plan: `rest` is tested on the rows
        `driving` selects (plain json_extract on `+data`: no index, no `_hint_range` hint). For a
        selective condition beside a range the hint would oversell, e.g. one student's events beside
        a timestamp range that holds most records (mocks/behaviours/edubridge_analytics.py)."""
        first = self.compile(driving)
        column, self.column = self.column, f"+{self.column}"
        try:
            return f"({first} AND {self.compile(rest)})"
        finally:
            self.column = column

    def _over(self, path: FieldPath, op: str, raw: str, probe: bool | None = None) -> str:
        """SQL for `path op raw`. `probe` (value-table paths only): test each record rather than
        collect the matches first; None decides from the index statistics (`common_match`)."""
        if op == "~":
            self.params.append(raw)
            mark = len(self.params)
            if not raw.isascii():
                return self._walk(path, lambda expr: f"tb_contains({expr}, ?{mark})", probe=True)
            # Fast path: for printable-ASCII text SQLite's lower() is exactly casefold; anything
            # else goes to the Python function, so the answer never depends on the path taken.
            self.params.append(raw.lower())
            low = len(self.params)
            return self._walk(path, lambda expr: (
                f"(CASE WHEN CAST({expr} AS TEXT) GLOB '*[^ -~]*' THEN tb_contains({expr}, ?{mark}) "
                f"ELSE instr(lower(CAST({expr} AS TEXT)), ?{low}) > 0 END)"), probe=True)
        if op == "@":
            values = [_coerce(v.strip(), path.type) for v in raw.split(",")]
            values = [v for v in values if v is not None]
            if not values:
                return "0"
            self.params.extend(values)
            start = len(self.params) - len(values) + 1
            marks = [f"?{start + i}" for i in range(len(values))]
            test = f"IN ({', '.join(marks)})"
            bounds = (marks[values.index(min(values))], marks[values.index(max(values))], min(values), max(values))
        else:
            value = _coerce(raw, path.type)
            if value is None:
                return "0"
            self.params.append(value)
            mark = f"?{len(self.params)}"
            values, test = [value], f"{op} {mark}"
            bounds = (mark, mark, value, value)
        many = common_match(path, "=" if op == "@" else op, values)
        if probe is None and self._hint_range(path, op, bounds):
            # The planner would not use the index here (see `_hint_range`); these terms tell it how
            # few rows match. They restate what `test` already implies: the same rows.
            if op in _RANGE_OPS:
                return self._walk(path, lambda expr: f"likelihood({expr} {test}, {HINT_RANGE})")
            low, high = bounds[0], bounds[1]
            return self._walk(path, lambda expr: (
                f"({expr} {test} AND likelihood({expr} >= {low}, {HINT_BOUND}) "
                f"AND likelihood({expr} <= {high}, {HINT_BOUND}))"))
        return self._walk(path, lambda expr: f"{expr} {test}", many if probe is None else probe)

    def _hint_range(self, path: FieldPath, op: str, bounds: tuple[str, str, Any, Any]) -> bool:
        """Whether a condition on a field's expression index needs a selectivity hint.

        SQLite knows only the average number of records per value of an index (ANALYZE), and
        nothing of ranges (it guesses a quarter). So it would scan every record testing json_extract
        for a range that matches few, for a rare value of a field whose records mostly share one
        value (`status='tobedeleted'`), or for an `@` list (it prefers the default order to sorting
        the matches). When no common value of the index falls in the range (or between the least
        and greatest value of `=` / `@`), few records match, and `likelihood()` on range terms over
        the index (the one hint SQLite takes for an expression index) says so.
        """
        if not (self.on_records and path.indexed_in and not path.in_array and path.path != "sourcedId"):
            return False
        if op in _RANGE_OPS:
            return not common_match(path, op, [bounds[2]])
        common = path.stats.common if path.stats is not None else frozenset()
        low, high = bounds[2], bounds[3]
        return not any(_comparable(c, low) and low <= c <= high for c in common)

    def member_of(self, field: str, subquery: str) -> str:
        """Records whose `field` equals a value the SQL `subquery` yields (a `via` step's picks).

        SQLite searches an expression index for `expr IN (SELECT …)` no more than it scans, so on
        such a field the picks are joined to the index instead: the same records, found through it.
        """
        path = self.field(field)
        if self.on_records and self.collection and path.indexed_in and not path.in_array and path.path != "sourcedId":
            self._alias += 1
            alias = f"m{self._alias}"
            # `+picks.picked`: SQLite 3.40 looks for an expression index on a join term only when
            # the other side is not a bare column; and the indexed table comes first in FROM
            return (f"{TABLE}.seq IN (SELECT {alias}.seq FROM {TABLE} AS {alias}, ({subquery}) AS picks{self._alias} "
                    f"WHERE {alias}.collection = {sql_literal(self.collection)} "
                    f"AND {json_expr(f'{alias}.{self.column}', path.segments)} = +picks{self._alias}.picked)")
        return self._walk(path, lambda expr: f"{expr} IN ({subquery})")

    def picked(self, collection: str, pick: str, where: str) -> str:
        """SQL yielding the values at `pick` of the records of `collection` that match `where`.

        Used for `via` chains, so the id sets of nested paths are built inside the one page/count
        statement (through the indexes), not by loading rows into Python. Its one column is
        named `picked` (`member_of` joins on it).
        """
        path = self.field(pick)
        base = f"FROM {TABLE} WHERE collection = {sql_literal(collection)} AND ({where})"
        if self.on_records and path.path == "sourcedId":
            return f"SELECT id AS picked {base}"
        if not path.in_array:
            return f"SELECT {json_expr(self.column, path.segments)} AS picked {base}"
        joins, leaf = value_joins(f"src.{self.column}", path.segments)
        return f"SELECT {leaf} AS picked FROM (SELECT {self.column} {base}) AS src, {joins}"

    def _scoped(self, condition: str) -> str:
        """`condition` with the records' collection restated beside it. Redundant for the rows (the
        statement already names it), it lets SQLite use the partial indexes (`WHERE collection =
        '…'`) and the (collection, id) index inside each branch of an OR, which it plans alone."""
        if self.collection is None:
            return condition
        return f"({TABLE}.collection = {sql_literal(self.collection)} AND {condition})"

    def _walk(self, path: FieldPath, condition: Callable[[str], str], probe: bool = False) -> str:
        """Build nested EXISTS over json_each for every array the path crosses.

        On the records table (`on_records`) two shortcuts answer from indexes: `sourcedId` is the
        `id` column, and an indexed path that crosses an array is looked up in the store's value
        table: by default the matching records are collected through its (collection, path,
        value) index (`seq IN (…)`, best when few match); with `probe` each record's own values
        are checked through its (rec, path, value) index (`EXISTS (…)`, best when many match,
        since a page of them is then found after a few records). Every form selects the same rows.
        A condition on an index of the records table names the collection again (`_scoped`).
        """
        if self.on_records and path.path == "sourcedId":
            return self._scoped(condition("id"))
        if self.on_records and path.indexed_in and not path.in_array:
            return self._scoped(condition(json_expr(self.column, path.segments)))
        if self.on_records and path.indexed_in and path.in_array:
            if probe:  # rec decides the collection, so the probe names only (rec, path, value)
                return (f"EXISTS (SELECT 1 FROM {VALUES_TABLE} AS v WHERE v.rec = {TABLE}.seq "
                        f"AND v.path = {sql_literal(path.path)} AND {condition('v.value')})")
            return (f"{TABLE}.seq IN (SELECT v.rec FROM {VALUES_TABLE} AS v WHERE v.collection = "
                    f"{sql_literal(path.indexed_in)} AND v.path = {sql_literal(path.path)} "
                    f"AND {condition('v.value')})")

        def build(source: str, segments: list[tuple[str, bool]]) -> str:
            names: list[str] = []
            for index, (name, is_array) in enumerate(segments):
                names.append(name)
                if is_array:
                    self._alias += 1
                    alias = f"j{self._alias}"
                    rest = segments[index + 1:]
                    inner = build(f"{alias}.value", rest) if rest else condition(f"{alias}.value")
                    return f"EXISTS (SELECT 1 FROM json_each({source}, '{_json_path(names)}') AS {alias} WHERE {inner})"
            return condition(f"json_extract({source}, '{_json_path(names)}')")

        return build(self.column, list(path.segments))


_RANGE_OPS = (">", ">=", "<", "<=")
# What the planner is told a hinted term keeps (Compiler._hint_range): a range 1 %; each bound of
# an equality 5 %, so 1/400 in all: more than one value of a selective index holds (ANALYZE's
# average then still decides between two such indexes), far less than a scan.
HINT_RANGE = 0.01
HINT_BOUND = 0.05

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}


def common_match(path: FieldPath, op: str, values: list[Any]) -> bool:
    """Whether `path op value` (for any of `values`) holds for one of the index's common values.

    Then so many records match that a page of them is found fastest by probing records in order;
    otherwise collecting the few matches through the index is. (Only a plan choice: both forms give
    the same rows.) Values of different kinds (text and number) are never compared.
    """
    common = path.stats.common if path.stats is not None else ()
    compare = _COMPARE.get(op)
    if not common or compare is None:
        return False
    return any(_comparable(c, v) and compare(c, v) for c in common for v in values)


def _comparable(a: Any, b: Any) -> bool:
    """Both text, or both numbers (SQLite orders numbers before text; never NULL)."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str)
    return isinstance(a, (int, float)) and isinstance(b, (int, float))


def sort_expression(field: str, sortable: set[str], column: str = "data") -> str:
    """The ORDER BY expression for `field`: the same text the store's expression indexes use."""
    if field not in sortable:
        raise QueryError(f"cannot sort by {field!r}; sortable fields: {', '.join(sorted(sortable))}")
    if column == "data" and field == "sourcedId":  # on the records table, as Compiler.on_records
        return "id"  # the id column, ordered by the (collection, id) unique index
    return f"json_extract({column}, '{_json_path(field.split('.'))}')"


# -- SQL shared with the store (mocks/store.py): one spelling, so SQLite matches its indexes -------

TABLE = "records"
VALUES_TABLE = "record_values"  # (collection, path, value, rec): element values of indexed array paths


def sql_literal(text: str) -> str:
    """A SQL string literal. Collection names are inlined, not bound: SQLite can use a partial
    index (`WHERE collection = 'users'`) only when the query names the same constant."""
    return "'" + text.replace("'", "''") + "'"


def json_expr(source: str, segments: tuple[tuple[str, bool], ...]) -> str:
    """`json_extract(source, '$.a.b')` for a path that crosses no array (index expression text)."""
    return f"json_extract({source}, '{_json_path([name for name, _ in segments])}')"


def value_joins(source: str, segments: tuple[tuple[str, bool], ...]) -> tuple[str, str]:
    """json_each joins over every array a path crosses, and the leaf value expression.

    The same walk as `Compiler._walk`, so the store's value table holds exactly the values the
    json_each form compares against.
    """
    joins: list[str] = []
    names: list[str] = []
    for name, is_array in segments:
        names.append(name)
        if is_array:
            alias = f"j{len(joins) + 1}"
            joins.append(f"json_each({source}, '{_json_path(names)}') AS {alias}")
            source, names = f"{alias}.value", []
    leaf = f"json_extract({source}, '{_json_path(names)}')" if names else source
    return ", ".join(joins), leaf

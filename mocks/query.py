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
from typing import Any, Union

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
    """Compiles filter trees against one collection's field paths. Collects SQL parameters."""

    def __init__(self, fields: dict[str, FieldPath], column: str = "data") -> None:
        self.fields = fields
        self.column = column
        self.params: list[Any] = []
        self._alias = 0

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
            return f"(NOT coalesce({self._over(path, '=', pred.value)}, 0))"
        return self._over(path, pred.op, pred.value)

    def membership(self, field: str, values: list[str]) -> str:
        """Records whose `field` equals one of `values` (used for `via` id sets)."""
        path = self.field(field)
        self.params.append(json.dumps(values))
        placeholder = len(self.params) - 1
        return self._walk(path, lambda expr: f"{expr} IN (SELECT value FROM json_each(?{placeholder + 1}))")

    def _over(self, path: FieldPath, op: str, raw: str) -> str:
        if op == "@":
            values = [_coerce(v.strip(), path.type) for v in raw.split(",")]
            values = [v for v in values if v is not None]
            if not values:
                return "0"
            self.params.extend(values)
            start = len(self.params) - len(values) + 1
            marks = ", ".join(f"?{start + i}" for i in range(len(values)))
            return self._walk(path, lambda expr: f"{expr} IN ({marks})")
        if op == "~":
            self.params.append(raw)
            mark = len(self.params)
            if not raw.isascii():
                return self._walk(path, lambda expr: f"tb_contains({expr}, ?{mark})")
            # Fast path: for printable-ASCII text SQLite's lower() is exactly casefold; anything
            # else goes to the Python function, so the answer never depends on the path taken.
            self.params.append(raw.lower())
            low = len(self.params)
            return self._walk(path, lambda expr: (
                f"(CASE WHEN CAST({expr} AS TEXT) GLOB '*[^ -~]*' THEN tb_contains({expr}, ?{mark}) "
                f"ELSE instr(lower(CAST({expr} AS TEXT)), ?{low}) > 0 END)"))
        value = _coerce(raw, path.type)
        if value is None:
            return "0"
        self.params.append(value)
        mark = len(self.params)
        return self._walk(path, lambda expr: f"{expr} {op} ?{mark}")

    def _walk(self, path: FieldPath, condition) -> str:
        """Build nested EXISTS over json_each for every array the path crosses."""
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


def sort_expression(field: str, sortable: set[str], column: str = "data") -> str:
    if field not in sortable:
        raise QueryError(f"cannot sort by {field!r}; sortable fields: {', '.join(sorted(sortable))}")
    return f"json_extract({column}, '{_json_path(field.split('.'))}')"

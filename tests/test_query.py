"""The filter grammar: parsing, compiling to SQL, and the sandbox's answer over a tiny table.

Every filter is answered three ways, which must agree: the plain json_extract / json_each SQL over a
table of our own, and the store's records table with every field indexed, once with the value table
searched for the matches and once with each record probed (mocks/query.py `Compiler._walk`).
"""
from __future__ import annotations

import sqlite3
from dataclasses import replace

import orjson
import pytest

from tbconform.mocks.query import BoolExpr, Compiler, Predicate, QueryError, casefold_contains, parse_filter
from tbconform.mocks.store import Store
from tbconform.specs.fieldpaths import IndexStats, field_paths, filter_pattern

SCHEMA = {
    "type": "object",
    "properties": {
        "sourcedId": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "tobedeleted"]},
        "score": {"type": "number"},
        "grades": {"type": "array", "items": {"type": "string"}},
        "roles": {"type": "array", "items": {"type": "object", "properties": {
            "role": {"type": "string"}, "org": {"type": "object", "properties": {"sourcedId": {"type": "string"}}}}}},
        "course": {"type": "object", "properties": {"sourcedId": {"type": "string"}}},
        "metadata": {"type": "object"},
    },
}
FIELDS = field_paths(SCHEMA, lambda n: n)
ROWS = [
    {"sourcedId": "a", "status": "active", "score": 10, "grades": ["3"], "course": {"sourcedId": "c1"},
     "roles": [{"role": "student", "org": {"sourcedId": "s1"}}]},
    {"sourcedId": "b", "status": "tobedeleted", "score": 80.5, "grades": ["4", "5"], "course": {"sourcedId": "c2"},
     "roles": [{"role": "teacher", "org": {"sourcedId": "s2"}}, {"role": "aide", "org": {"sourcedId": "s1"}}]},
    {"sourcedId": "c", "status": "active", "grades": [], "roles": []},
    {"sourcedId": "O'Brien", "status": "active", "score": 100, "course": {"sourcedId": "Ünïcode"}},
]


def run_plain(text: str) -> list[str]:
    """Over a table that is not the store's: the compiler may use no key column and no index."""
    db = sqlite3.connect(":memory:")
    db.create_function("tb_contains", 2, casefold_contains)
    db.execute("CREATE TABLE t (doc TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [(orjson.dumps(r).decode(),) for r in ROWS])
    compiler = Compiler(FIELDS, column="doc")
    where = compiler.compile(parse_filter(text))
    assert "record_values" not in where and "likelihood" not in where
    return [orjson.loads(r[0])["sourcedId"] for r in db.execute(f"SELECT doc FROM t WHERE {where}", compiler.params)]


def indexed_fields() -> dict:
    return {name: replace(path, indexed_in="t", stats=IndexStats()) for name, path in FIELDS.items()}


def run_store(text: str, probe_everything: bool) -> list[str]:
    """Over the store's records table with every field indexed. `probe_everything` claims every
    value common, so array paths are probed record by record and no equality or range is hinted."""
    fields = indexed_fields()
    store = Store(":memory:", fields.values())
    store.load(("t", r) for r in ROWS)
    if probe_everything:
        every = frozenset(v for r in ROWS for v in _leaves(r)) | {True, False, 0, 1}
        for path in fields.values():
            path.stats.common = every
    compiler = Compiler(fields)
    where = compiler.compile(parse_filter(text))
    return [orjson.loads(r)["sourcedId"] for r in store.select("t", where, compiler.params)]


def _leaves(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from _leaves(value)
    else:
        yield node


def run(text: str) -> list[str]:
    plain = run_plain(text)
    assert run_store(text, probe_everything=False) == plain, "indexed (collect) form differs from plain SQL"
    assert run_store(text, probe_everything=True) == plain, "indexed (probe) form differs from plain SQL"
    return plain


def test_parse_precedence_and_groups():
    node = parse_filter("status='active' AND (roles.role='teacher' OR roles.role='aide')")
    assert isinstance(node, BoolExpr) and node.op == "AND"
    assert node.parts[0] == Predicate("status", "=", "active")
    assert isinstance(node.parts[1], BoolExpr) and node.parts[1].op == "OR"
    assert parse_filter("a='1' OR b='2' AND c='3'").parts[1].op == "AND"


def test_quote_escape_and_bare_values():
    assert parse_filter("sourcedId='O''Brien'") == Predicate("sourcedId", "=", "O'Brien")
    assert parse_filter("score>=80") == Predicate("score", ">=", "80")


@pytest.mark.parametrize("text, expected", [
    ("status='active'", ["a", "c", "O'Brien"]),
    ("status!='active'", ["b"]),
    ("score>50", ["b", "O'Brien"]),
    ("score<=10", ["a"]),
    ("score<'abc'", []),
    ("grades='5'", ["b"]),
    ("grades!='5'", ["a", "c", "O'Brien"]),
    ("roles.role='aide'", ["b"]),
    ("roles.org.sourcedId='s1'", ["a", "b"]),
    ("course.sourcedId~'ÜNÏ'", ["O'Brien"]),
    ("course.sourcedId@'c1, c2'", ["a", "b"]),
    ("sourcedId='O''Brien'", ["O'Brien"]),
    ("status='active' AND (score>5 OR grades='3')", ["a", "O'Brien"]),
    ("(status='active' OR status='x') AND sourcedId!='c'", ["a", "O'Brien"]),
    ("roles.role@'aide, student'", ["a", "b"]),
    ("roles.role!='teacher'", ["a", "c", "O'Brien"]),
    ("roles.org.sourcedId>'s1'", ["b"]),
    ("grades~'4'", ["b"]),
    ("grades>='4' AND grades<'5'", ["b"]),
    ("score@'10, 100'", ["a", "O'Brien"]),
    ("score>=10 AND score<=80.5", ["a", "b"]),
    ("status@'tobedeleted'", ["b"]),
    ("sourcedId@'a, c'", ["a", "c"]),
    ("sourcedId>'b'", ["c"]),
])
def test_operators_against_sqlite(text, expected):
    assert run(text) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "status", "status=", "status=='x'", "status='x", "(status='x'", "status='x')",
    "status='x' AND", "status='x' and score>1", "((status='x'))", "(status='x' AND (score>1 OR score<0))", "nosuch='x'", "metadata='x'", "roles='x'", "x" * 1100,
])
def test_bad_filters_raise_clear_errors(text):
    with pytest.raises(QueryError) as info:
        run(text)
    assert str(info.value)


def test_spec_pattern_accepts_what_the_parser_accepts():
    import re
    pattern = re.compile(filter_pattern(sorted(FIELDS)))
    for text in ["status='active'", "score>=80", "roles.org.sourcedId='s1' AND (status='a' OR status='b')",
                 "sourcedId='O''Brien'"]:
        assert pattern.match(text), text
        parse_filter(text)
    assert not pattern.match("nosuch='x'")

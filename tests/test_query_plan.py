"""Indexed queries: SQLite's EXPLAIN QUERY PLAN proves that filters and sorts on the fields the specs
declare `indexed` (x-tb-collections.<name>.indexed) are answered through those indexes, on the
`district` seed, for the statements the store really runs (`Store.select_sql` / `count_sql`).

What "through the index" means in a plan line: the field's expression index (`tbx_<collection>__<field>`),
the value table's search index (`record_values_lookup`) or probe index (`record_values_probe`) for
paths that cross an array, the `(collection, id)` unique index for `sourcedId`. What it must not be:
`records_by_collection (collection=?)` alone, which reads every record of the collection.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson
import pytest

from tbconform.mocks.actions import pick, view_condition
from tbconform.mocks.context import RequestContext
from tbconform.mocks.indexes import index_name
from tbconform.mocks.query import Compiler, parse_filter, quote, sort_expression
from tbconform.mocks.sandbox import Sandbox, SandboxConfig
from tbconform.mocks.store import Store
from tbconform.specs.fieldpaths import IndexStats

MIN_RECORDS = 500  # below this a scan is the right plan, and SQLite rightly picks it
COLLECTION_SCAN = re.compile(r"records_by_collection \(collection=\?\)$|^SCAN records$")


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    # one week of activity history (~50k events) is plenty for the event indexes to win, and
    # boots in a third of the time of the default four
    return Sandbox(SandboxConfig(size="district", history_weeks=1))


def plans(store: Store, collection: str, where: str, params: list[Any], order: str = "seq") -> dict[str, list[str]]:
    return {"page": store.explain(store.select_sql(collection, where, order, 100), params),
            "count": store.explain(store.count_sql(collection, where), params)}


def scans(plan: list[str]) -> list[str]:
    return [line for line in plan if COLLECTION_SCAN.search(line)]


def compiled(sandbox: Sandbox, collection: str, text: str) -> tuple[str, list[Any]]:
    compiler = Compiler(sandbox.collections[collection].fields)
    return compiler.compile(parse_filter(text)), compiler.params


def indexed_cases(sandbox: Sandbox) -> list[tuple[str, str]]:
    store = sandbox.store
    sizes = store.counts()
    return [(name, field) for name, coll in sandbox.collections.items() if sizes.get(name, 0) >= MIN_RECORDS
            for field in coll.indexed]


def rare_values(sandbox: Sandbox, collection: str, field: str, count: int) -> list[str]:  # noqa: D401
    """Stored values of `field` that are not common (else made-up ones): the selective case."""
    path = sandbox.collections[collection].fields[field]
    common = path.stats.common if path.stats else frozenset()
    found: list[str] = []
    for raw in sandbox.store.select(collection, limit=400):
        for value in pick(orjson.loads(raw), field):
            if value not in common and str(value) not in found:
                found.append(str(value))
    return (found + [f"no-such-{field}-{i}" for i in range(count)])[:count]


def test_every_declared_index_exists(sandbox):
    store = sandbox.store
    names = {row for row, in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    values = {(c, p) for c, p in store.db.execute("SELECT DISTINCT collection, path FROM record_values")}
    for name, coll in sandbox.collections.items():
        for field in coll.indexed:
            path = coll.fields[field]
            if field == "sourcedId":
                continue
            if path.in_array:
                if pick(store.first(name) or {}, field):
                    assert (name, field) in values, f"{name}.{field}: no rows in the value table"
            else:
                assert index_name(path) in names, f"{name}.{field}: no expression index"
    assert {"record_values_lookup", "record_values_probe"} <= names


def test_equality_membership_and_range_filters_use_the_index(sandbox):
    """For every indexed field of every collection that is not tiny: `=` and `@` on values that
    few records hold, and ranges that no common value falls in, in the page and the count."""
    checked = 0
    for collection, field in indexed_cases(sandbox):
        path = sandbox.collections[collection].fields[field]
        one, = rare_values(sandbox, collection, field, 1)
        # `@` is hinted by the span of its values: keep the second right after the first
        texts = [f"{field}={quote(one)}", f"{field}@{quote(one + ',' + one + '~')}"]
        if not path.in_array:
            texts += [f"{field}>{quote('~~~~')}", f"{field}<{quote('!')}", f"{field}>={quote(one)} AND {field}<={quote(one)}"]
        expected = ("record_values_lookup" if path.in_array else
                    "sqlite_autoindex_records_1" if field == "sourcedId" else index_name(path))
        for text in texts:
            where, params = compiled(sandbox, collection, text)
            for kind, plan in plans(sandbox.store, collection, where, params).items():
                assert any(expected in line for line in plan), f"{collection} {kind} {text}: {plan}"
                assert not scans(plan), f"{collection} {kind} {text} reads the whole collection: {plan}"
                checked += 1
    assert checked > 300


def test_common_values_are_probed_record_by_record_in_order(sandbox):
    """`roles.role='student'` holds for most users: the page probes users in the default order
    through the (rec, path, value) index and stops after 100, instead of collecting every match."""
    path = sandbox.collections["users"].fields["roles.role"]
    assert "student" in path.stats.common and "teacher" not in path.stats.common
    where, params = compiled(sandbox, "users", "roles.role='student'")
    page = plans(sandbox.store, "users", where, params)["page"]
    assert any("record_values_probe (rec=? AND path=? AND value=?)" in line for line in page), page
    assert not any("TEMP B-TREE" in line for line in page), page
    where, params = compiled(sandbox, "users", "roles.role='teacher'")
    page = plans(sandbox.store, "users", where, params)["page"]
    assert any("record_values_lookup (collection=? AND path=? AND value=?)" in line for line in page), page


def sorted_by_clients(sandbox) -> set[str]:
    """Collections a client can sort: some list binding of theirs takes `?sort=` (Caliper's events
    are listed by a behaviour, oldest first, and never sorted by a field)."""
    return {op.binding["collection"] for op in sandbox.operations
            if op.binding and op.binding.get("action") == "list" and "sort" in op.query_params}


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_sort_on_an_indexed_field_reads_the_index_in_order(sandbox, direction):
    checked = 0
    sortable = sorted_by_clients(sandbox)
    for collection, field in indexed_cases(sandbox):
        coll = sandbox.collections[collection]
        if field not in coll.sortable or collection not in sortable:
            continue
        order = f"{sort_expression(field, coll.sortable)} {direction}, seq {direction}"
        for filtered, params in (("1", []), compiled(sandbox, collection, f"{field}>{quote('!')}")):
            plan = sandbox.store.explain(sandbox.store.select_sql(collection, filtered, order, 100), params)
            expected = "sqlite_autoindex_records_1" if field == "sourcedId" else index_name(coll.fields[field])
            assert any(expected in line for line in plan), f"{collection} sort={field}: {plan}"
            assert not any("TEMP B-TREE" in line for line in plan), f"{collection} sort={field} sorts: {plan}"
            checked += 1
    assert checked > 60


def list_operations(sandbox: Sandbox) -> list[Any]:
    return [op for op in sandbox.operations
            if (op.binding or {}).get("action") == "list" and ((op.binding or {}).get("via") or
                                                             "{" in str((op.binding or {}).get("scope", "")))]


def test_nested_path_lists_use_the_indexes(sandbox):
    """Every nested-path list (`classes/{id}/students`, `schools/{id}/classes`, ...): its scope and
    its `via` chain compile into one page and one count statement, and neither reads a whole
    collection, whatever level of the chain."""
    ops = list_operations(sandbox)
    assert len(ops) >= 25
    for op in ops:
        binding = op.binding
        params = {}
        for name in re.findall(r"\{(\w+)\}", op.op.path):
            owner = (binding.get("requires") or {}).get(name, "users")
            params[name] = (sandbox.store.first(owner) or {}).get("sourcedId", "x")
        ctx = RequestContext(sandbox, op, params, {}, None, None, "http://test", op.op.path, "")
        coll = sandbox.collections[binding["collection"]]
        compiler = Compiler(coll.fields)
        where = " AND ".join(view_condition(ctx, coll, compiler)) or "1"
        tiny = sandbox.store.count(coll.name) < MIN_RECORDS  # then only its via steps must use indexes
        for kind, plan in plans(sandbox.store, coll.name, where, compiler.params).items():
            assert not scans(plan[1:] if tiny else plan), f"{op.op.path} {kind}: {plan}"


def test_the_benchmarked_lists_plan(sandbox):
    store = sandbox.store
    where, params = compiled(sandbox, "users", "status='active' AND roles.role='student'")
    page = plans(store, "users", where, params)["page"]
    assert any("record_values_probe" in line for line in page) and not any("TEMP" in line for line in page), page

    klass = next(c for c in map(orjson.loads, store.select("classes", limit=50))
                 if store.count("enrollments", *compiled(sandbox, "enrollments", f"class.sourcedId={quote(c['sourcedId'])}")))
    where, params = compiled(sandbox, "enrollments", f"class.sourcedId={quote(klass['sourcedId'])}")
    for plan in plans(store, "enrollments", where, params).values():
        assert any("tbx_enrollments__class_sourcedId (<expr>=?)" in line for line in plan), plan

    op = next(o for o in sandbox.operations if o.op.path.endswith("/classes/{classSourcedId}/students")
              and o.op.path.startswith("/ims/oneroster/rostering/v1p2/classes"))
    ctx = RequestContext(sandbox, op, {"classSourcedId": klass["sourcedId"]}, {}, None, None, "", "", "")
    compiler = Compiler(sandbox.collections["users"].fields)
    where = " AND ".join(view_condition(ctx, sandbox.collections["users"], compiler))
    page = plans(store, "users", where, compiler.params)["page"]
    assert any("sqlite_autoindex_records_1 (collection=? AND id=?)" in line for line in page), page
    assert any("tbx_enrollments__class_sourcedId (<expr>=?)" in line for line in page), page


def test_page_counts_without_a_window_and_follows_writes(sandbox):
    """`Store.page` answers the total with its own count (no `count(*) OVER ()`, which reads every
    matching row's data), exactly, and a write is seen by the next page at once."""
    fields = {name: replace(p, stats=IndexStats()) if p.indexed_in else p
              for name, p in sandbox.collections["users"].fields.items()}  # statistics of its own
    store = Store(":memory:", [p for p in fields.values() if p.indexed_in])
    store.load(("users", {"sourcedId": f"u{i:03}", "status": "active", "roles": [{"role": "student"}]})
               for i in range(250))
    total, rows = store.page("users", "1", [], "seq", 100, 0)
    assert total == 250 and len(rows) == 100
    assert store.page("users", "1", [], "seq", 100, 200)[0] == 250  # a short last page counts itself
    assert store.page("users", "1", [], "seq", 100, 300) == (250, [])
    store.insert("users", {"sourcedId": "u999", "status": "active", "roles": [{"role": "teacher"}]})
    assert store.page("users", "1", [], "seq", 100, 0)[0] == 251
    compiler = Compiler(fields)
    where = compiler.compile(parse_filter("roles.role='teacher'"))
    assert store.page("users", where, compiler.params, "seq", 100, 0) == (1, [store.get_raw("users", "u999")])
    store.replace("users", {"sourcedId": "u999", "status": "active", "roles": [{"role": "aide"}]})
    assert store.page("users", where, compiler.params, "seq", 100, 0) == (0, [])
    store.delete("users", "u999")
    assert store.page("users", "1", [], "seq", 100, 0)[0] == 250
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.insert("users", {"sourcedId": "u998", "roles": [{"role": "teacher"}]})
            assert store.count("users") == 251
            raise RuntimeError("roll back")
    assert store.count("users") == 250 and store.page("users", where, compiler.params, "seq", 100, 0) == (0, [])
    assert "OVER" not in store.select_sql("users", "1", "seq", 100) + store.count_sql("users")


def test_an_indexed_declaration_must_name_a_field(tmp_path):
    import yaml

    from tbconform.specs.loader import SpecError

    spec = {
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "x-tb-api": "demo",
        "x-tb-collections": {"things": {"schema": "Thing", "indexed": ["status", "tags.name", "nope.field"]}},
        "components": {"schemas": {"Thing": {"type": "object", "properties": {
            "sourcedId": {"type": "string"}, "status": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}}},
        "paths": {"/things": {"get": {"operationId": "list", "responses": {"200": {"description": "ok"}},
                                      "x-tb-binding": {"collection": "things", "action": "list"}}}},
    }
    def root(name: str):
        (tmp_path / name / "demo").mkdir(parents=True)
        (tmp_path / name / "demo" / "demo.yaml").write_text(yaml.safe_dump(spec))
        return tmp_path / name

    with pytest.raises(SpecError) as info:
        Sandbox(SandboxConfig(spec_root=root("bad"), apis=["demo"]))
    assert "nope.field" in str(info.value) and "x-tb-collections.things.indexed" in str(info.value)
    spec["x-tb-collections"]["things"]["indexed"] = ["status", "tags.name"]
    sandbox = Sandbox(SandboxConfig(spec_root=root("good"), apis=["demo"]))
    fields = sandbox.collections["things"].fields
    assert fields["status"].indexed_in == fields["tags.name"].indexed_in == "things"
    assert fields["sourcedId"].indexed_in is None


def test_a_database_file_keeps_its_indexes_and_statistics(tmp_path, sandbox):
    """Reopened, a file needs no new ANALYZE (its planner statistics are recorded in meta), and the
    common values are learnt again from the data."""
    fresh = lambda: {n: replace(p, stats=IndexStats()) if p.indexed_in else p  # noqa: E731
                     for n, p in sandbox.collections["users"].fields.items()}
    first = fresh()
    store = Store(tmp_path / "s.db", [p for p in first.values() if p.indexed_in])
    store.load(("users", {"sourcedId": f"u{i}", "status": "active", "roles": [{"role": "student"}]})
               for i in range(400))
    assert "student" in first["roles.role"].stats.common and "active" in first["status"].stats.common
    store.close()
    again = fresh()
    reopened = Store(tmp_path / "s.db", [p for p in again.values() if p.indexed_in])
    assert reopened.meta("planner-stats") is not None
    assert "student" in again["roles.role"].stats.common
    compiler = Compiler(again)
    where = compiler.compile(parse_filter("roles.role='student'"))
    assert reopened.page("users", where, compiler.params, "seq", 10, 0)[0] == 400
    assert any("record_values_probe" in line for line in reopened.explain(
        reopened.select_sql("users", where, "seq", 10), compiler.params))

"""Property: for generated filters, the sandbox returns exactly the seeded records that an
independent Python evaluation of the predicate selects; and paging never loses or repeats one."""
from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbconform.fixtures.world import generate
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tests.conftest import GRADEBOOK, RESOURCES, ROSTERING

COLLECTIONS = {
    "users": f"{ROSTERING}/users",
    "classes": f"{ROSTERING}/classes",
    "enrollments": f"{ROSTERING}/enrollments",
    "academicSessions": f"{ROSTERING}/academicSessions",
    "courses": f"{ROSTERING}/courses",
    "lineItems": f"{GRADEBOOK}/lineItems",
    "results": f"{GRADEBOOK}/results",
    "resources": f"{RESOURCES}/resources",
}
OPERATORS = ["=", "!=", "~", ">", ">=", "<", "<=", "@"]


# -- the independent evaluator: plain Python over the seeded records --------------------------

def values_at(record: Any, path: str) -> list[Any]:
    found = [record]
    for name in path.split("."):
        step = []
        for value in found:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and item.get(name) is not None:
                    got = item[name]
                    step.extend(got if isinstance(got, list) else [got])
        found = step
    return found


def as_type(text: str, kind: str) -> Any:
    if kind in ("integer", "number"):
        try:
            return float(text)
        except ValueError:
            return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower())
    return text


def holds(record: dict, field: str, kind: str, op: str, text: str) -> bool:
    if op == "!=":
        return not holds(record, field, kind, "=", text)
    stored = values_at(record, field)
    if op == "~":
        return any(text.casefold() in str(v if not isinstance(v, bool) else str(v).lower()).casefold() for v in stored)
    if op == "@":
        wanted = [as_type(t.strip(), kind) for t in text.split(",")]
        return any(v == w for v in stored for w in wanted if w is not None)
    target = as_type(text, kind)
    if target is None:
        return False
    compare = {"=": lambda a, b: a == b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
               "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}[op]
    return any(compare(v, target) for v in stored if type(v) is not bool or kind == "boolean")


def evaluate(record: dict, tree: Any) -> bool:
    kind = tree[0]
    if kind == "pred":
        _, field, ftype, op, text = tree
        return holds(record, field, ftype, op, text)
    results = [evaluate(record, part) for part in tree[1]]
    return all(results) if kind == "AND" else any(results)


def render(tree: Any, top: bool = True) -> str:
    if tree[0] == "pred":
        _, field, _, op, text = tree
        return f"{field}{op}'{text.replace(chr(39), chr(39) * 2)}'"
    inner = f" {tree[0]} ".join(render(p, False) for p in tree[1])
    return inner if top else f"({inner})"


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for collection, record in generate(42, "small"):
        out.setdefault(collection, []).append(record)
    return out


@pytest.fixture(scope="module")
def client(readonly_sandbox):
    with readonly_sandbox.client() as c:
        yield c


@pytest.fixture(scope="module")
def probing_client(world):
    """A sandbox whose store takes every stored value for a common one. Its SQL is then the other
    form of mocks/query.py: array paths probed record by record, no equality or range hinted (the
    small seed has no common value, so the default sandbox always collects and hints)."""
    with run_sandbox(SandboxConfig()) as running:
        for name, coll in running.sandbox.collections.items():
            for path in coll.fields.values():
                if path.stats is not None:
                    path.stats.common = frozenset(v for r in world.get(name, []) for v in values_at(r, path.path))
        with running.client() as c:
            yield c


def predicate_strategy(collection, fields, records):
    def values_for(path):
        seen = sorted({str(v).lower() if isinstance(v, bool) else str(v)
                       for r in records for v in values_at(r, path)})
        return st.sampled_from(seen) if seen else st.text(max_size=5)

    @st.composite
    def pred(draw):
        path = draw(st.sampled_from(sorted(fields)))
        op = draw(st.sampled_from(OPERATORS))
        real = values_for(path)
        if op == "~":
            text = draw(real.map(lambda v: v[len(v) // 3: len(v) // 3 + 3]) | st.text(min_size=1, max_size=3))
        elif op == "@":
            text = ",".join(draw(st.lists(real, min_size=1, max_size=3)))
        else:
            text = draw(real | st.text(max_size=4))
        return ("pred", path, fields[path].type, op, text)

    def joined(parts):
        return st.tuples(st.sampled_from(["AND", "OR"]), st.lists(parts, min_size=2, max_size=3))

    # The documented grammar allows one level of parentheses.
    return pred() | joined(pred() | joined(pred()))


@pytest.mark.parametrize("form", ["collect", "probe"])
@pytest.mark.parametrize("collection", sorted(COLLECTIONS))
def test_filter_matches_independent_evaluation(collection, form, world, request, readonly_sandbox):
    client = request.getfixturevalue("client" if form == "collect" else "probing_client")
    fields = readonly_sandbox.sandbox.collections[collection].fields
    records = world[collection]
    path = COLLECTIONS[collection]

    @settings(max_examples=40 if form == "collect" else 20, deadline=None,
              suppress_health_check=list(HealthCheck), derandomize=True)
    @given(tree=predicate_strategy(collection, fields, records))
    def check(tree):
        text = render(tree)
        response = client.get(path, params={"filter": text, "limit": 3000})
        assert response.status_code == 200, (text, response.text[:300])
        got = [r["sourcedId"] for r in response.json()[collection]]
        expected = [r["sourcedId"] for r in records if evaluate(r, tree)]
        assert sorted(got) == sorted(expected), text
        assert int(response.headers["X-Total-Count"]) == len(expected)

    check()


@pytest.mark.parametrize("collection", ["users", "results", "enrollments"])
def test_pages_union_equals_unpaged_set(collection, client):
    path = COLLECTIONS[collection]
    everything = client.get(path, params={"limit": 3000})
    full = [r["sourcedId"] for r in everything.json()[collection]]
    total = int(everything.headers["X-Total-Count"])
    assert total == len(full) == len(set(full))

    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(limit=st.integers(1, max(1, total)), sort=st.sampled_from([None, "sourcedId", "dateLastModified", "status"]),
           order=st.sampled_from(["asc", "desc"]))
    def check(limit, sort, order):
        seen: list[str] = []
        params = {"limit": limit, **({"sort": sort, "orderBy": order} if sort else {})}
        for page in range(math.ceil(total / limit)):
            response = client.get(path, params={**params, "offset": page * limit})
            body = response.json()
            assert int(response.headers["X-Total-Count"]) == body["totalCount"] == total
            assert body["pageNumber"] == page + 1 and body["pageCount"] == math.ceil(total / limit)
            seen.extend(r["sourcedId"] for r in body[collection])
            assert ('rel="next"' in response.headers["Link"]) == ((page + 1) * limit < total)
        assert len(seen) == len(set(seen)) and set(seen) == set(full)

    check()


@pytest.mark.parametrize("field", ["familyName", "sourcedId", "dateLastModified"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sort_orders_records(client, world, field, order):
    body = client.get(COLLECTIONS["users"], params={"sort": field, "orderBy": order, "limit": 3000}).json()["users"]
    keys = [u[field] for u in body]
    assert keys == sorted(keys, reverse=order == "desc")
    assert len(body) == len(world["users"])

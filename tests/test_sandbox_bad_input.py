"""Bad-input table: every case is a 4xx in the IMS envelope naming the problem, and the store
is byte-for-byte unchanged afterwards (no partial writes)."""
from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.conftest import GRADEBOOK, ROSTERING

USERS = f"{ROSTERING}/users"
VALID_USER = {"givenName": "A", "familyName": "B", "enabledUser": "true", "email": "a@b.org",
              "roles": [{"roleType": "primary", "role": "student", "org": {"sourcedId": "{school}"}}]}


def fingerprint(sandbox) -> str:
    rows = sandbox.store.db.execute("SELECT collection, id, data FROM records ORDER BY seq").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def user(**changes):
    return {"user": {**VALID_USER, **changes}}


CASES = [
    # (name, method, path, kwargs, status, words expected in the description)
    ("malformed json", "POST", USERS, {"content": b'{"user": {', "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
    ("not an object", "POST", USERS, {"json": [1, 2]}, 400, "body"),
    ("missing wrapper", "POST", USERS, {"json": VALID_USER}, 400, "user"),
    ("wrong type", "POST", USERS, {"json": user(givenName=5)}, 400, "givenName"),
    ("bad enum", "POST", USERS, {"json": user(enabledUser="maybe")}, 400, "enabledUser"),
    ("lone surrogate", "POST", USERS, {"content": b'{"user": {"givenName": "\\ud800"}}', "headers": {"content-type": "application/json"}}, 400, "JSON"),
    ("invalid utf-8", "POST", USERS, {"content": b'{"user": {"givenName": "\xff"}}', "headers": {"content-type": "application/json"}}, 400, "JSON"),
    ("text body", "POST", USERS, {"content": b"hello", "headers": {"content-type": "text/plain"}}, 415, "application/json"),
    ("too large", "POST", USERS, {"json": user(givenName="x" * (1 << 20))}, 413, "larger"),
    ("dangling reference", "POST", USERS, {"json": user(roles=[{"roleType": "primary", "role": "student", "org": {"sourcedId": "ghost-org"}}])}, 422, "ghost-org"),
    ("bulk with one bad item", "POST", f"{GRADEBOOK}/classes/{{klass}}/lineItems", {"json": {"lineItems": [
        {"title": "ok", "assignDate": "2025-09-01T00:00:00Z", "dueDate": "2025-09-02T00:00:00Z", "school": {"sourcedId": "{school}"}, "category": {"sourcedId": "{category}"}},
        {"title": "bad", "assignDate": "2025-09-01T00:00:00Z", "dueDate": "2025-09-02T00:00:00Z", "school": {"sourcedId": "{school}"}, "category": {"sourcedId": "ghost-category"}}]}}, 422, "ghost-category"),
    ("unknown filter field", "GET", USERS, {"params": {"filter": "shoeSize='9'"}}, 400, "shoeSize"),
    ("broken filter", "GET", USERS, {"params": {"filter": "givenName='Ann"}}, 400, "filter"),
    ("lowercase and", "GET", USERS, {"params": {"filter": "givenName='A' and familyName='B'"}}, 400, "filter"),
    ("unknown sort field", "GET", USERS, {"params": {"sort": "shoeSize"}}, 400, "shoeSize"),
    ("bad orderBy", "GET", USERS, {"params": {"orderBy": "sideways"}}, 400, "orderBy"),
    ("unknown fields", "GET", USERS, {"params": {"fields": "givenName,shoeSize"}}, 400, "shoeSize"),
    ("limit 0", "GET", USERS, {"params": {"limit": 0}}, 400, "limit"),
    ("limit 10^9", "GET", USERS, {"params": {"limit": 10**9}}, 400, "limit"),
    ("limit text", "GET", USERS, {"params": {"limit": "ten"}}, 400, "limit"),
    ("negative offset", "GET", USERS, {"params": {"offset": -1}}, 400, "offset"),
    ("limit twice", "GET", f"{USERS}?limit=1&limit=2", {}, 400, "more than once"),
    ("bad percent-encoding", "GET", f"{USERS}/%ff%fe", {}, 400, "percent"),
    ("odd unicode filter value", "GET", USERS, {"params": {"filter": "givenName='\u0000\U0001F600'", "limit": 1}}, 200, ""),
    ("unknown path", "GET", f"{ROSTERING}/unicorns", {}, 404, "unicorns"),
    ("wrong method", "PATCH", USERS, {"json": {}}, 405, "not allowed"),
    ("update missing record", "PUT", f"{USERS}/ghost-user", {"json": user(sourcedId="ghost-user")}, 404, "ghost-user"),
    ("delete missing record", "DELETE", f"{USERS}/ghost-user", {}, 404, "ghost-user"),
    ("missing parent", "GET", f"{ROSTERING}/schools/ghost-school/classes", {}, 404, "ghost-school"),
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids) if "{" in value and "}" in value and not value.startswith("{\"") else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.fixture(scope="module")
def ids(readonly_sandbox):
    with readonly_sandbox.client() as c:
        klass = c.get(f"{ROSTERING}/classes", params={"limit": 1}).json()["classes"][0]
        category = c.get(f"{GRADEBOOK}/categories", params={"limit": 1}).json()["categories"][0]
    return {"klass": klass["sourcedId"], "school": klass["school"]["sourcedId"], "category": category["sourcedId"]}


@pytest.mark.parametrize("name, method, path, kwargs, status, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_cleanly(readonly_sandbox, ids, name, method, path, kwargs, status, words):
    sandbox = readonly_sandbox.sandbox
    before = fingerprint(sandbox)
    kwargs = dict(kwargs)
    if "json" in kwargs:
        kwargs["json"] = _fill(kwargs["json"], ids)
    with readonly_sandbox.client() as c:
        response = c.request(method, path.format(**ids) if "{" in path else path, **kwargs)
    assert response.status_code == status, response.text[:300]
    if status >= 400:
        body = response.json()
        assert body["imsx_codeMajor"] == "failure" and body["imsx_CodeMinor"]["imsx_codeMinorField"]
        assert words.lower() in body["imsx_description"].lower(), body["imsx_description"]
    assert fingerprint(sandbox) == before

"""The sandbox's ingestion gives 1EdTech's official Caliper fixtures the validator's verdicts.

Each valid fixture (an envelope, or an event or entity wrapped in one) is accepted by
`POST /caliper/event` and its events are stored; each common-error fixture is refused whole with
a 4xx in the Caliper envelope that names the fixture's faulty field, and nothing is stored.
Skips with a reason where ../shared is absent (the `shared` fixture).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tbconform.harness.validate import read_document
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tbconform.specs.caliper.validate import kind_of
from tests.test_caliper_schemas import FIXTURES, STRICT_ONLY, UNPARSEABLE, _names, expected_reason

SEND = "/caliper/event"
DATA_VERSION = "http://purl.imsglobal.org/ctx/caliper/v1p2"


def envelope(doc: Any) -> dict[str, Any]:
    if kind_of(doc) == "envelope":
        return doc
    return {"sensor": "https://example.edu/sensors/fixtures", "sendTime": "2026-12-02T10:00:00.000Z",
            "dataVersion": DATA_VERSION, "data": [doc]}


@pytest.fixture(scope="module")
def running():
    with run_sandbox(SandboxConfig(apis=["caliper"])) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(running):
    with running.client() as c:
        yield c


def _load(shared: Path, name: str, negative: bool) -> Any:
    return read_document(str(shared / FIXTURES / ("commonErrorFixtures" if negative else "") / name))


@pytest.mark.parametrize("name", _names(negative=False))
def test_valid_fixture_is_ingested(shared, client, name):
    doc = _load(shared, name, negative=False)
    if kind_of(doc) != "envelope" and "id" not in doc:
        pytest.skip("a value type without an id (e.g. SystemIdentifier) cannot stand alone in envelope data")
    body = envelope(doc)
    sent = client.post(SEND, json=body)
    assert sent.status_code == 200, (name, sent.text[:500])
    for item in body["data"]:
        if isinstance(item, dict) and kind_of(item) == "event":
            got = client.get(f"/caliper/events/{item['id']}")
            assert got.status_code == 200, (name, item["id"], got.text[:300])


@pytest.mark.parametrize("name", _names(negative=True))
def test_error_fixture_is_refused_naming_its_field(shared, running, client, name):
    if name in UNPARSEABLE:
        raw = (shared / FIXTURES / "commonErrorFixtures" / name).read_bytes()
        before = running.sandbox.store.counts()
        answer = client.post(SEND, content=raw, headers={"Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500 and answer.json()["status"] == "error", answer.text[:300]
        assert running.sandbox.store.counts() == before
        return
    if name in STRICT_ONLY:
        pytest.skip("refused only under --strict: Timeback's service accepts an integer Decimal")
    doc = _load(shared, name, negative=True)
    if isinstance(doc, dict) and kind_of(doc) != "envelope" and "id" not in doc:
        pytest.skip("a value type without an id cannot stand alone in envelope data (the validator judges it)")
    before = running.sandbox.store.counts()
    answer = client.post(SEND, json=envelope(doc))
    assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text[:300])
    error = answer.json()
    assert error["status"] == "error" and error["errors"], error
    field, _rules = expected_reason(name)
    named = " ".join(str(e.get("path", "")) for e in error["errors"])
    assert field.split(".")[-1] in named or field in named, (name, field, named)
    assert running.sandbox.store.counts() == before

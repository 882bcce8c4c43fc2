"""Caliper ingestion in the sandbox: the specs cover the catalog, valid envelopes are stored and
answered with a job, invalid ones are refused whole naming each failing event, the stored-event
list filters and pages, bad input never stores anything nor answers 5xx, and parallel senders
never lose (or double) an event."""
from __future__ import annotations

import copy
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tbconform.specs.caliper import _generate
from tests.conftest import catalog_rows, route, spec_routes

REPO = Path(__file__).resolve().parents[1]
SPEC_DIR = REPO / "specs" / "caliper"
CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"
SENSOR = "https://app.example.org/sensors/main"
TSV_APIS = {"Caliper", "Caliper(TimebackEvents)", "Webhooks"}
EXPECTED_TSV_ROWS = 21  # 6 Caliper, 2 Caliper(TimebackEvents), 13 Webhooks
METHODS = ("get", "put", "post", "delete", "patch")


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def activity(event_id: str | None = None, email: str = "ada@example.org", user: str = "user-0001",
             when: str = "2025-09-15T14:03:12.000Z", **over: Any) -> dict[str, Any]:
    """A valid Timeback-profile ActivityEvent."""
    event = {
        "@context": CONTEXT, "id": event_id or urn(), "type": "ActivityEvent", "profile": "TimebackProfile",
        "actor": {"id": f"https://api.alpha-1edtech.ai/ims/oneroster/rostering/v1p2/users/{user}",
                  "type": "TimebackUser", "email": email},
        "action": "Completed",
        "object": {"id": "https://app.example.org/activities/q3", "type": "TimebackActivityContext",
                   "subject": "Math", "app": {"name": "Example Math"}},
        "generated": {"id": "https://app.example.org/metrics/q3/1", "type": "TimebackActivityMetricsCollection",
                      "items": [{"type": "xpEarned", "value": 12}]},
        "eventTime": when,
    }
    event.update(over)
    return event


def envelope(*events: dict[str, Any], sensor: str = SENSOR) -> dict[str, Any]:
    return {"sensor": sensor, "sendTime": "2025-09-15T14:05:00.000Z", "dataVersion": CONTEXT, "data": list(events)}


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(SandboxConfig(apis=["caliper"])) as running:
        yield running


@pytest.fixture(scope="module")
def client(sandbox):
    with sandbox.client() as c:
        yield c


def counts(sandbox) -> dict[str, int]:
    return sandbox.sandbox.store.counts()


def assert_caliper_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status is not None:
        assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error" and isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], list)
    return body


# ----------------------------------------------------------------------------------------------
# The specs
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", _generate.SPECS)
def test_spec_is_valid_and_generated(api: str) -> None:
    text = (SPEC_DIR / f"{api}.yaml").read_text(encoding="utf-8")
    assert text == _generate.render(api), f"{api}.yaml is stale: run `python -m tbconform.specs.caliper._generate`"
    spec = yaml.safe_load(text)
    validate_openapi(spec)
    assert spec["x-tb-api"] == "caliper" and spec["x-tb-error-style"] == "caliper"
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            assert ("x-tb-binding" in op) != ("x-tb-behaviour" in op), (method, path)
            for status, resp in op["responses"].items():
                if status.startswith("4"):
                    name = resp["$ref"].rsplit("/", 1)[1]
                    schema = spec["components"]["responses"][name]["content"]["application/json"]["schema"]
                    assert schema["$ref"].endswith("/CaliperError")


def test_catalog_rows_are_covered() -> None:
    rows = catalog_rows(TSV_APIS)
    have = set()
    for api in _generate.SPECS:
        have |= spec_routes(yaml.safe_load((SPEC_DIR / f"{api}.yaml").read_text(encoding="utf-8")))
    wanted = {route(r["method"], r["path"]) for r in rows}
    assert len(rows) == EXPECTED_TSV_ROWS
    assert not sorted(wanted - have), f"uncovered catalog rows: {sorted(wanted - have)}"
    assert len(have) == 19  # the two TimebackEvents rows share their paths with two Caliper rows


# ----------------------------------------------------------------------------------------------
# Ingestion
# ----------------------------------------------------------------------------------------------


def test_valid_envelope_is_stored_with_a_completed_job(client, sandbox) -> None:
    events = [activity(), activity(email="Bo@Example.org", user="user-0002"),
              {**activity(), "type": "TimeSpentEvent", "action": "SpentTime",
               "generated": {"id": "https://app.example.org/metrics/t/1",
                             "type": "TimebackTimeSpentMetricsCollection", "items": [{"type": "active", "value": 90}]}}]
    entity = {"@context": CONTEXT, "id": "https://app.example.org/activities/q3", "type": "AssignableDigitalResource",
              "name": "Quiz 3"}
    response = client.post("/caliper/event", json=envelope(*events, entity))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "success" and answer["message"] and answer["jobId"]
    job = client.get(f"/jobs/{answer['jobId']}/status").json()["job"]
    assert job["id"] == answer["jobId"] and job["state"] == "completed"
    results = job["returnValue"]["results"]
    assert job["returnValue"]["status"] == "success"
    assert [r["externalId"] for r in results] == [e["id"] for e in events]  # entities are not stored
    for event, result in zip(events, results):
        stored = client.get(f"/caliper/events/{event['id']}").json()["event"]
        assert stored["id"] == int(result["allocatedId"]) and stored["externalId"] == event["id"]
        assert stored["sensor"] == SENSOR and stored["sendTime"] == "2025-09-15T14:05:00.000Z"
        for key in ("type", "profile", "action", "eventTime", "actor", "object", "generated"):
            assert stored[key] == event[key], key
        assert stored["clientAppId"] == "tbconform-sandbox" and stored["created_at"]
        assert not {"sourcedId", "actorId", "actorEmail", "eventTimeUtc"} & set(stored)
    assert client.get(f"/jobs/{uuid.uuid4()}/status").status_code == 404
    assert_caliper_error(client.get(f"/caliper/events/{urn()}"), 404)


def test_invalid_envelope_is_refused_whole_naming_each_event(client, sandbox) -> None:
    good, bad_action = activity(), activity(action="Graded")
    bad_actor = activity(actor={"id": "not an iri", "type": "TimebackUser"})
    before = counts(sandbox)
    response = client.post("/caliper/event", json=envelope(good, bad_action, bad_actor))
    body = assert_caliper_error(response, 400)
    assert counts(sandbox) == before
    assert client.get(f"/caliper/events/{good['id']}").status_code == 404
    by_index: dict[int, list[dict[str, Any]]] = {}
    for problem in body["errors"]:
        assert {"path", "rule", "message", "index", "id", "field"} <= set(problem)
        by_index.setdefault(problem["index"], []).append(problem)
    assert set(by_index) == {1, 2}
    assert all(p["id"] == bad_action["id"] for p in by_index[1])
    assert {p["field"] for p in by_index[1]} == {"action"}
    assert {p["rule"] for p in by_index[1]} == {"caliper.event.action-allowed"}
    assert {"actor.id", "actor.email"} <= {p["field"] for p in by_index[2]}
    assert all(p["path"].startswith("$.data[2].") for p in by_index[2])
    assert bad_action["id"] in body["message"] and bad_actor["id"] in body["message"]
    # the same verdict from validate, which stores nothing either
    check = client.post("/caliper/event/validate", json=envelope(good, bad_action, bad_actor))
    assert check.status_code == 400 and check.json()["errors"] == body["errors"]
    assert counts(sandbox) == before


def test_validate_accepts_without_storing(client, sandbox) -> None:
    before = counts(sandbox)
    event = activity()
    response = client.post("/caliper/event/validate", json=envelope(event))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success" and response.json()["errors"] == []
    assert counts(sandbox) == before
    assert client.get(f"/caliper/events/{event['id']}").status_code == 404


def test_envelope_level_problems_are_named(client, sandbox) -> None:
    before = counts(sandbox)
    cases = [
        ({k: v for k, v in envelope(activity()).items() if k != "sensor"}, "$.sensor"),
        ({**envelope(activity()), "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p1"}, "$.dataVersion"),
        ({**envelope(activity()), "sendTime": "yesterday"}, "$.sendTime"),
        ({**envelope(), "data": []}, "$.data"),
    ]
    for body, path in cases:
        answer = assert_caliper_error(client.post("/caliper/event", json=body), 400)
        assert path in {p["path"] for p in answer["errors"]}, (path, answer)
    assert counts(sandbox) == before


def test_resent_event_is_stored_once(client, sandbox) -> None:
    event = activity()
    first = client.post("/caliper/event", json=envelope(event, copy.deepcopy(event))).json()
    again = client.post("/caliper/event", json=envelope(event)).json()
    jobs = [client.get(f"/jobs/{a['jobId']}/status").json()["job"] for a in (first, again)]
    assert [len(j["returnValue"]["results"]) for j in jobs] == [1, 1]
    assert jobs[0]["returnValue"]["results"] == jobs[1]["returnValue"]["results"]
    listed = client.get("/caliper/events", params={"actorId": event["actor"]["id"], "limit": 3000}).json()
    assert [e["externalId"] for e in listed["events"]].count(event["id"]) == 1


def test_learnwith_ai_path_judges_the_envelope_only(client, sandbox) -> None:
    event = {"@context": CONTEXT, "id": urn(), "type": "ActivityEvent", "profile": "AggregationProfile",
             "actor": {"type": "Person", "id": "https://example.org/users/9"}, "action": "Completed",
             "object": {"type": "AssignableDigitalResource", "id": "https://example.org/a/1"},
             "generated": {"id": urn(), "type": "ActivityMetricsCollection",
                           "items": [{"id": urn(), "type": "ActivityMetric", "metricType": "XpEarned",
                                      "metricValue": 5}]},
             "eventTime": "2025-09-15T14:03:12.000Z", "session": "urn:tag:auto-attach"}
    response = client.post("/caliper/v1p2", json=envelope(event))
    assert response.status_code == 200, response.text
    assert client.get(f"/caliper/events/{event['id']}").json()["event"]["profile"] == "AggregationProfile"
    assert_caliper_error(client.post("/caliper/v1p2", json={**envelope(event), "dataVersion": "x"}), 400)


# ----------------------------------------------------------------------------------------------
# Listing
# ----------------------------------------------------------------------------------------------


def test_list_filters_and_pages(client, sandbox) -> None:
    sensor = f"https://filters.example.org/{uuid.uuid4()}"
    events = [
        activity(email="Cy@Example.org", user="u-cy", when="2025-03-01T10:00:00.000Z"),
        activity(email="cy@example.org", user="u-cy", when="2025-03-01T23:30:00-02:00"),  # 2025-03-02 01:30Z
        activity(email="di@example.org", user="u-di", when="2025-03-03T00:00:00.000Z"),
        activity(email="di@example.org", user="u-di", when="2025-03-04T12:00:00.000Z"),
        activity(email="di@example.org", user="u-di", when="2025-03-05T12:00:00.000Z"),
    ]
    assert client.post("/caliper/event", json=envelope(*events, sensor=sensor)).status_code == 200
    other = activity(user="u-cy", email="cy@example.org")
    assert client.post("/caliper/event", json=envelope(other, sensor=sensor + "-other")).status_code == 200

    def ids(**params: Any) -> list[str]:
        answer = client.get("/caliper/events", params={"sensor": sensor, **params})
        assert answer.status_code == 200, answer.text
        return [e["externalId"] for e in answer.json()["events"]]

    every = [e["id"] for e in events]
    assert ids() == every
    assert ids(actorEmail="CY@example.org") == every[:2]
    assert ids(actorId=events[2]["actor"]["id"]) == every[2:]
    assert ids(startDate="2025-03-02") == every[1:]
    assert ids(endDate="2025-03-01") == every[:1]
    assert ids(startDate="2025-03-02T01:30:00Z", endDate="2025-03-04T12:00:00.000Z") == every[1:4]
    assert ids(startDate="2025-03-03T01:00:00+01:00", endDate="2025-03-03") == every[2:3]
    first = client.get("/caliper/events", params={"sensor": sensor, "limit": 2, "offset": 2}).json()
    assert [e["externalId"] for e in first["events"]] == every[2:4]
    assert first["pagination"] == {"total": 5, "totalPages": 3, "currentPage": 2, "limit": 2}
    assert client.get("/caliper/events", params={"actorId": other["actor"]["id"],
                                                  "sensor": sensor + "-other"}).json()["pagination"]["total"] == 1
    for params in ({"startDate": "March"}, {"endDate": "2025-13-01"}, {"limit": 0}, {"limit": "x"},
                   {"offset": -1}, {"limit": 3001}):
        assert_caliper_error(client.get("/caliper/events", params=params), 400)


# ----------------------------------------------------------------------------------------------
# Bad input: a 4xx in the Caliper envelope, never a 5xx, never a partial store
# ----------------------------------------------------------------------------------------------


def _with_deep_extensions(levels: int) -> bytes:
    """GOOD plus an event whose extensions nest `levels` deep (more than orjson writes: 254)."""
    event = orjson.dumps(activity())[:-1] + b',"extensions":' + b'{"a":' * levels + b"1" + b"}" * levels + b"}"
    return GOOD[:-2] + b"," + event + b"]}"


GOOD = orjson.dumps(envelope(activity(), activity()))
BAD_INPUT = [
    ("over the size cap", GOOD[:-2] + b"," + orjson.dumps(activity(extensions={"pad": "x" * (1 << 20)})) + b"]}",
     "application/json", 413),
    ("malformed JSON", GOOD[:-5], "application/json", 400),
    ("not JSON at all", b"sensor=x", "application/json", 400),
    ("wrong content type", GOOD, "text/plain", 415),
    ("form content type", GOOD, "application/x-www-form-urlencoded", 415),
    ("empty body", b"", "application/json", 400),
    ("a JSON array", b"[" + GOOD + b"]", "application/json", 400),
    ("a JSON string", b'"envelope"', "application/json", 400),
    ("invalid UTF-8", GOOD.replace(b"Math", b"M\xffth"), "application/json", 400),
    ("lone surrogate escape", GOOD.replace(b"Math", b"M\\ud800th"), "application/json", 400),
    ("overlong UTF-8", GOOD.replace(b"Math", b"M\xc0\xafth"), "application/json", 400),
    ("NUL in a key", GOOD.replace(b'"subject"', b'"sub\\u0000ject"'), "application/json", 400),
    ("nested too deep to store", _with_deep_extensions(300), "application/json", 400),
    ("nested beyond the JSON parser", GOOD[:-2] + b"," + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"]}",
     "application/json", 400),
    ("huge integer", GOOD.replace(b'"value":12', b'"value":' + b"9" * 400), "application/json", 400),
    ("data item not an object", orjson.dumps({**envelope(), "data": ["urn:uuid:x", activity()]}),
     "application/json", 400),
    ("null participant", orjson.dumps(envelope(activity(), activity(object=None))), "application/json", 400),
]


@pytest.mark.parametrize("label,body,content_type,status", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_refused_without_storing(client, sandbox, label, body, content_type, status) -> None:
    before = counts(sandbox)
    response = client.post("/caliper/event", content=body, headers={"Content-Type": content_type})
    assert_caliper_error(response, status)
    assert counts(sandbox) == before, label


def test_odd_but_valid_unicode_is_stored_as_sent(client) -> None:
    name = "Ma\u0301th \U0001f9ee \u202e\u200d \ufeff ℌ"
    event = activity(object={"id": "https://app.example.org/activities/%E2%88%9E", "type": "TimebackActivityContext",
                             "subject": "Math", "app": {"name": name}, "href": "/relative/href"})
    assert client.post("/caliper/event", json=envelope(event)).status_code == 200
    stored = client.get(f"/caliper/events/{event['id']}").json()["event"]
    assert stored["object"] == event["object"]  # nor is a relative `href` member rewritten


# ----------------------------------------------------------------------------------------------
# Concurrency
# ----------------------------------------------------------------------------------------------


def test_parallel_senders_store_every_event_exactly_once(sandbox) -> None:
    senders, envelopes_each, per_envelope = 8, 4, 25
    sensor = f"https://parallel.example.org/{uuid.uuid4()}"
    shared = [activity() for _ in range(per_envelope)]  # every sender also sends this same envelope
    plans = [[[activity() for _ in range(per_envelope)] for _ in range(envelopes_each)] + [shared]
             for _ in range(senders)]
    token = sandbox.token()
    failures: list[str] = []
    start = threading.Barrier(senders)

    def run(plan: list[list[dict[str, Any]]]) -> None:
        with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"},
                          timeout=30) as c:
            start.wait()
            for events in plan:
                answer = c.post("/caliper/event", json=envelope(*events, sensor=sensor))
                if answer.status_code != 200:
                    failures.append(answer.text)

    threads = [threading.Thread(target=run, args=(plan,)) for plan in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures
    with sandbox.client() as c:
        listed = c.get("/caliper/events", params={"sensor": sensor, "limit": 3000}).json()
    sent = {e["id"] for plan in plans for events in plan for e in events}
    external = [e["externalId"] for e in listed["events"]]
    assert len(external) == len(sent) == senders * envelopes_each * per_envelope + per_envelope
    assert set(external) == sent
    allocated = [e["id"] for e in listed["events"]]
    assert len(set(allocated)) == len(allocated) and allocated == sorted(allocated)


def test_auth_and_method_errors_use_the_caliper_envelope(sandbox, client) -> None:
    with httpx.Client(base_url=sandbox.base_url, timeout=30) as anonymous:
        assert_caliper_error(anonymous.post("/caliper/event", json=envelope(activity())), 401)
        assert_caliper_error(anonymous.get("/webhooks/", headers={"Authorization": "Bearer forged"}), 401)
    with sandbox.client("tbconform-readonly", "tbconform-readonly-secret") as readonly:
        assert readonly.get("/caliper/events", params={"limit": 1}).status_code == 200
        assert readonly.get("/webhooks").status_code == 200
        assert_caliper_error(readonly.post("/caliper/event", json=envelope(activity())), 403)
        assert_caliper_error(readonly.post("/webhooks", json={"name": "n", "targetUrl": "http://127.0.0.1:9",
                                                              "secret": "s", "active": True}), 403)
    wrong = client.get("/caliper/event")
    assert_caliper_error(wrong, 405)
    assert wrong.headers["Allow"] == "POST"

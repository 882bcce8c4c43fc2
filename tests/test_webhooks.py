"""Webhooks in the sandbox: CRUD with real state, signed background delivery of matching events
only, retries with backoff after a failing receiver, and no delivery after a delete or deactivate."""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from typing import Any

import orjson
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tbconform.mocks.behaviours.caliper import filter_matches, signature
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox

from tests.test_caliper_sandbox import activity, envelope

SECRET = "s3cret-for-tests"
CLOSED = "http://127.0.0.1:9"  # loopback, nothing listening: a webhook here never reaches anything


@pytest.fixture(scope="module")
def sandbox():
    config = SandboxConfig(apis=["caliper"], delivery_attempts=3, delivery_backoff=0.05, delivery_max_delay=0.1,
                           delivery_timeout=3)
    with run_sandbox(config) as running:
        yield running
        running.sandbox.deliveries.close()


@pytest.fixture(scope="module")
def client(sandbox):
    with sandbox.client() as c:
        yield c


@pytest.fixture(scope="module")
def httpserver():
    """The receivers: one threaded server (deliveries run in parallel), a path per receiver."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


class Receiver:
    """What the test's HTTP receiver got, and how it answers (a status per call, last repeated)."""

    def __init__(self, statuses: tuple[int, ...] = (200,), gate: threading.Event | None = None) -> None:
        self.statuses = list(statuses)
        self.gate = gate
        self.got: list[tuple[bytes, dict[str, str]]] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        if self.gate is not None:
            self.gate.wait(10)
        with self.lock:
            self.got.append((request.get_data(), dict(request.headers)))
            status = self.statuses[min(len(self.got), len(self.statuses)) - 1]
        return Response("ok", status=status)


def receiver(httpserver, statuses: tuple[int, ...] = (200,), gate: threading.Event | None = None) -> tuple[Receiver, str]:
    path = f"/hook/{uuid.uuid4().hex}"
    handler = Receiver(statuses, gate)
    httpserver.expect_request(path, method="POST").respond_with_handler(handler)
    return handler, httpserver.url_for(path)


def webhook(client, url: str, **over: Any) -> dict[str, Any]:
    body = {"name": "test hook", "targetUrl": url, "secret": SECRET, "active": True, **over}
    response = client.post("/webhooks/", json=body)
    assert response.status_code == 201, response.text
    return response.json()["webhook"]


def add_filter(client, hook_id: str, key: str, value: str, kind: str = "string", op: str = "eq",
               active: bool = True) -> dict[str, Any]:
    response = client.post("/webhook-filters/", json={"webhookId": hook_id, "filterKey": key, "filterValue": value,
                                                     "filterType": kind, "filterOperator": op, "active": active})
    assert response.status_code == 201, response.text
    return response.json()["filter"]


def send(client, *events: dict[str, Any], sensor: str | None = None) -> None:
    response = client.post("/caliper/event", json=envelope(*events, **({"sensor": sensor} if sensor else {})))
    assert response.status_code == 200, response.text


def settle(sandbox) -> None:
    assert sandbox.sandbox.deliveries.wait_idle(15), "deliveries did not finish"


def attempts(client, hook_id: str) -> list[dict[str, Any]]:
    log = client.get("/_sandbox/webhook-deliveries").json()["attempts"]
    return [a for a in log if a.get("webhookId") == hook_id]


# ----------------------------------------------------------------------------------------------
# CRUD
# ----------------------------------------------------------------------------------------------


def test_webhook_crud_keeps_state(client) -> None:
    sensor = f"https://crud.example.org/{uuid.uuid4()}"
    hook = webhook(client, CLOSED + "/a", sensor=sensor, description="first")
    assert hook["active"] is True and hook["secret"] == SECRET and hook["deleted_at"] is None
    assert hook["created_at"] and hook["updated_at"] and hook["sensor"] == sensor
    assert client.get(f"/webhooks/{hook['id']}").json()["webhook"] == hook
    listed = client.get("/webhooks/", params={"sensor": sensor}).json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert hook["id"] in {h["id"] for h in client.get("/webhooks").json()["webhooks"]}

    changed = client.put(f"/webhooks/{hook['id']}", json={"name": "renamed", "targetUrl": CLOSED + "/b",
                                                          "secret": "other", "active": False})
    assert changed.status_code == 200, changed.text
    after = changed.json()["webhook"]
    assert (after["name"], after["targetUrl"], after["secret"], after["active"]) == \
        ("renamed", CLOSED + "/b", "other", False)
    assert after["sensor"] is None and after["description"] is None and after["created_at"] == hook["created_at"]
    assert client.get("/webhooks/", params={"sensor": sensor}).json()["webhooks"] == []

    assert client.put(f"/webhooks/{hook['id']}/activate").json()["webhook"]["active"] is True
    assert client.get(f"/webhooks/{hook['id']}").json()["webhook"]["active"] is True
    assert client.put(f"/webhooks/{hook['id']}/deactivate").json()["webhook"]["active"] is False
    assert client.get(f"/webhooks/{hook['id']}").json()["webhook"]["active"] is False

    flt = add_filter(client, hook["id"], "type", "ActivityEvent")
    assert client.delete(f"/webhooks/{hook['id']}").json()["message"]
    for path in (f"/webhooks/{hook['id']}", f"/webhook-filters/{flt['id']}", f"/webhook-filters/webhook/{hook['id']}"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.json()["status"] == "error", path
    assert client.delete(f"/webhooks/{hook['id']}").status_code == 404
    assert client.put(f"/webhooks/{hook['id']}/activate").status_code == 404


def test_webhook_input_is_checked(client) -> None:
    for body in ({"name": "x", "targetUrl": "ftp://x.example.org", "secret": "s", "active": True},
                 {"name": "x", "targetUrl": "https://x.example.org", "secret": "", "active": True},
                 {"name": "x", "targetUrl": "https://x.example.org", "secret": "s"},
                 {"name": "x", "targetUrl": "https://x.example.org", "secret": "s", "active": "yes"}):
        answer = client.post("/webhooks/", json=body)
        assert answer.status_code == 400 and answer.json()["status"] == "error", (body, answer.text)


def test_filter_crud_keeps_state(client) -> None:
    hook = webhook(client, CLOSED + "/f")
    other = webhook(client, CLOSED + "/g")
    flt = add_filter(client, hook["id"], "actor.email", "a@example.org,b@example.org", op="in")
    assert {k: flt[k] for k in ("webhookId", "filterKey", "filterValue", "filterType", "filterOperator", "active")} == \
        {"webhookId": hook["id"], "filterKey": "actor.email", "filterValue": "a@example.org,b@example.org",
         "filterType": "string", "filterOperator": "in", "active": True}
    assert client.get(f"/webhook-filters/{flt['id']}").json()["filter"] == flt
    assert [f["id"] for f in client.get(f"/webhook-filters/webhook/{hook['id']}").json()["filters"]] == [flt["id"]]
    assert client.get(f"/webhook-filters/webhook/{other['id']}").json()["filters"] == []
    assert flt["id"] in {f["id"] for f in client.get("/webhook-filters/").json()["filters"]}
    moved = client.put(f"/webhook-filters/{flt['id']}", json={
        "webhookId": other["id"], "filterKey": "generated.items.value", "filterValue": "10", "filterType": "number",
        "filterOperator": "gte", "active": False})
    assert moved.status_code == 200, moved.text
    assert client.get(f"/webhook-filters/webhook/{hook['id']}").json()["filters"] == []
    assert client.get(f"/webhook-filters/webhook/{other['id']}").json()["filters"][0]["filterOperator"] == "gte"
    assert client.delete(f"/webhook-filters/{flt['id']}").json()["message"]
    assert client.get(f"/webhook-filters/{flt['id']}").status_code == 404

    base = {"webhookId": hook["id"], "filterKey": "type", "filterType": "string", "filterOperator": "eq",
            "active": True}
    assert client.post("/webhook-filters/", json={**base, "webhookId": str(uuid.uuid4()),
                                                  "filterValue": "x"}).status_code == 422
    for value, kind, op in (("ten", "number", "gt"), ("1,x", "number", "in"), ("maybe", "boolean", "eq"),
                            ("(unclosed", "string", "regexp")):
        answer = client.post("/webhook-filters/", json={**base, "filterValue": value, "filterType": kind,
                                                        "filterOperator": op})
        assert answer.status_code == 400, (value, answer.text)
    assert client.post("/webhook-filters/", json={**base, "filterValue": "x", "filterOperator": "like"}).status_code == 400
    for h in (hook, other):
        assert client.delete(f"/webhooks/{h['id']}").status_code == 200


# ----------------------------------------------------------------------------------------------
# Delivery
# ----------------------------------------------------------------------------------------------


def test_matching_events_are_delivered_signed(client, sandbox, httpserver) -> None:
    got, url = receiver(httpserver)
    sensor = f"https://deliver.example.org/{uuid.uuid4()}"
    hook = webhook(client, url, sensor=sensor)
    add_filter(client, hook["id"], "type", "ActivityEvent")
    add_filter(client, hook["id"], "generated.items.value", "10", kind="number", op="gte")
    add_filter(client, hook["id"], "action", "Nothing", active=False)  # inactive: ignored
    wanted = activity()
    low_xp = activity(generated={"id": "https://x.example.org/m", "type": "TimebackActivityMetricsCollection",
                                 "items": [{"type": "xpEarned", "value": 3}]})
    time_spent = {**activity(), "type": "TimeSpentEvent", "action": "SpentTime",
                  "generated": {"id": "https://x.example.org/t", "type": "TimebackTimeSpentMetricsCollection",
                                "items": [{"type": "active", "value": 60}]}}
    send(client, wanted, low_xp, time_spent, sensor=sensor)
    send(client, activity(), sensor=sensor + "/elsewhere")  # another sensor: the hook is not for it
    send(client, wanted, sensor=sensor)  # a resend stores nothing new, so nothing fires again
    settle(sandbox)
    assert len(got.got) == 1
    body, headers = got.got[0]
    assert orjson.loads(body) == wanted
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Timeback-Signature"] == expected == signature(SECRET, body)
    assert headers["Content-Type"] == "application/json" and headers["X-Timeback-Webhook-Id"] == hook["id"]
    log = attempts(client, hook["id"])
    assert [(a["attempt"], a["status"], a["outcome"], a["eventId"]) for a in log] == \
        [(1, 200, "delivered", wanted["id"])]


def test_delivery_never_holds_up_ingestion(client, sandbox, httpserver) -> None:
    gate = threading.Event()
    got, url = receiver(httpserver, gate=gate)
    hook = webhook(client, url)
    try:
        started = time.perf_counter()
        send(client, activity(), activity())
        answered = time.perf_counter() - started
        assert not got.got, "the receiver has not answered yet, yet the send was answered"
        assert answered < 5
    finally:
        gate.set()
    settle(sandbox)
    assert len(got.got) == 2
    client.delete(f"/webhooks/{hook['id']}")


def test_failing_receiver_is_retried_with_backoff(client, sandbox, httpserver) -> None:
    got, url = receiver(httpserver, statuses=(500, 503, 200))
    hook = webhook(client, url)
    event = activity()
    send(client, event)
    settle(sandbox)
    assert [orjson.loads(b)["id"] for b, _ in got.got] == [event["id"]] * 3
    assert len({h["X-Timeback-Signature"] for _, h in got.got}) == 1
    assert len({h["X-Delivery-Id"] for _, h in got.got}) == 1
    assert [h["X-Delivery-Attempt"] for _, h in got.got] == ["1", "2", "3"]
    log = attempts(client, hook["id"])
    assert [(a["attempt"], a["status"], a["outcome"]) for a in log] == \
        [(1, 500, "retrying"), (2, 503, "retrying"), (3, 200, "delivered")]
    assert [a["retryInSeconds"] for a in log[:2]] == [0.05, 0.1]  # doubled each time
    client.delete(f"/webhooks/{hook['id']}")

    got, url = receiver(httpserver, statuses=(500,))
    hook = webhook(client, url)
    send(client, activity())
    settle(sandbox)
    assert len(got.got) == 3  # bounded: delivery_attempts
    assert [a["outcome"] for a in attempts(client, hook["id"])] == ["retrying", "retrying", "failed"]
    client.delete(f"/webhooks/{hook['id']}")


@pytest.mark.parametrize("stop", ["deactivate", "delete"])
def test_no_delivery_after_deactivate_or_delete(client, sandbox, httpserver, stop) -> None:
    def stop_hook(hook_id: str) -> None:
        answer = (client.put(f"/webhooks/{hook_id}/deactivate") if stop == "deactivate"
                  else client.delete(f"/webhooks/{hook_id}"))
        assert answer.status_code == 200, answer.text

    got, url = receiver(httpserver)
    hook = webhook(client, url)
    stop_hook(hook["id"])
    send(client, activity())
    settle(sandbox)
    assert got.got == [] and attempts(client, hook["id"]) == []

    # a delivery already retrying stops at its next attempt
    gate = threading.Event()
    failing, url = receiver(httpserver, statuses=(500,), gate=gate)
    config = sandbox.sandbox.deliveries.policy
    saved = (config.backoff, config.max_delay)
    config.backoff = config.max_delay = 1.0
    try:
        hook = webhook(client, url)
        send(client, activity())
        gate.set()
        deadline = time.monotonic() + 10
        while not attempts(client, hook["id"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        stop_hook(hook["id"])
        settle(sandbox)
    finally:
        config.backoff, config.max_delay = saved
    assert len(failing.got) == 1
    assert [a["outcome"] for a in attempts(client, hook["id"])] == ["retrying", "cancelled"]


def test_only_loopback_targets_are_delivered_to(client, sandbox) -> None:
    hook = webhook(client, "https://hooks.example.org/timeback")  # accepted: it is a valid webhook
    send(client, activity())
    settle(sandbox)
    log = attempts(client, hook["id"])
    assert [(a["outcome"], a["status"]) for a in log] == [("refused", None)]
    assert "loopback" in log[0]["error"]
    client.delete(f"/webhooks/{hook['id']}")


def test_reactivated_webhook_delivers_again(client, sandbox, httpserver) -> None:
    got, url = receiver(httpserver)
    hook = webhook(client, url, active=False)
    send(client, activity())
    client.put(f"/webhooks/{hook['id']}/activate")
    event = activity()
    send(client, event)
    settle(sandbox)
    assert [orjson.loads(b)["id"] for b, _ in got.got] == [event["id"]]
    client.delete(f"/webhooks/{hook['id']}")


# ----------------------------------------------------------------------------------------------
# Filter semantics
# ----------------------------------------------------------------------------------------------

EVENT = activity(email="Ada@Example.org", extensions={"flags": [True, False], "score": 7.5, "tags": ["a", "b"]})
FILTER_CASES = [
    ("type", "eq", "string", "ActivityEvent", True),
    ("type", "eq", "string", "activityevent", False),
    ("type", "neq", "string", "TimeSpentEvent", True),
    ("actor.email", "contains", "string", "Example", True),
    ("actor.email", "notContains", "string", "Example", False),
    ("actor.email", "notContains", "string", "example", True),  # case-sensitive
    ("actor.email", "startsWith", "string", "Ada@", True),
    ("actor.email", "endsWith", "string", ".org", True),
    ("actor.email", "regexp", "string", r"^[A-Z][a-z]+@", True),
    ("action", "in", "string", "Started, Completed", True),
    ("action", "notIn", "string", "Started,Completed", False),
    ("generated.items.value", "gt", "number", "11.5", True),
    ("generated.items.value", "lt", "number", "12", False),
    ("generated.items.value", "lte", "number", "12", True),
    ("generated.items.type", "eq", "string", "xpEarned", True),
    ("extensions.score", "gte", "number", "7.5", True),
    ("extensions.score", "in", "number", "1, 7.5", True),
    ("extensions.flags", "eq", "boolean", "false", True),
    ("extensions.tags", "eq", "string", "b", True),
    ("actor", "eq", "string", EVENT["actor"]["id"], True),  # an entity compares by its id
    ("sensor", "startsWith", "string", "https://app.example.org/", True),  # the envelope's sensor
    ("missing.field", "eq", "string", "x", False),
    ("missing.field", "neq", "string", "x", True),
    ("missing.field", "notIn", "string", "x,y", True),
    ("eventTime", "gte", "string", "2025-09-15T00:00:00Z", True),
    ("type", "gt", "number", "1", False),  # not a number: no match
]


@pytest.mark.parametrize("key,op,kind,value,expected", FILTER_CASES,
                         ids=[f"{c[0]} {c[1]} {c[2]} {c[3]}" for c in FILTER_CASES])
def test_filter_operators(key: str, op: str, kind: str, value: str, expected: bool) -> None:
    flt = {"filterKey": key, "filterOperator": op, "filterType": kind, "filterValue": value, "active": True}
    assert filter_matches(flt, EVENT, "https://app.example.org/sensors/main") is expected

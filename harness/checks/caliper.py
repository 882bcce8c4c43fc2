"""Caliper 1.2 and Webhooks semantic rules, for any Caliper receiver (Timeback's paths).

Every rule writes (events cannot be read back without sending them first), so every rule is
registered with `writes=True` and skips with the standard reason when writes are off. What a rule
sends is tagged with the run id: each rule sends under a sensor of its own,
`https://tbconform.example/sensors/<run id>-<label>-<n>`, and every event carries
`extensions.tbconformRun`. Listings are always narrowed to that sensor, so other clients' events
(and the run's other rules) never disturb a verdict. Caliper has no event delete: events stay;
webhooks and webhook filters are deleted at once and registered for cleanup too.

Test events are deterministic: one per Caliper/Timeback event type, built from the declaration
of `specs/caliper/_events.py` (first case, action and profile; the governed properties the case
requires as embedded entities with their required fields; the rest as IRIs).
`caliper.ingest.accepts-every-type` sends, besides those, a few events per type generated from the
same declaration with hypothesis (`harness/caliper_events.py`, drawn from the run's seed) and, when
the target also lists OneRoster users, events acted by one of them (seeded data).

Webhook delivery rules need a receiver the target can reach: for a loopback target the harness
runs its own (`Receiver`, a small HTTP server thread on 127.0.0.1); for any other target they skip
with that reason. The signature is `X-Timeback-Signature: sha256=<hex HMAC-SHA256 of the body
bytes, keyed with the webhook's secret>` (the sandbox's documented header).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import quote

import requests

from tbconform.harness.config import is_loopback
from tbconform.harness.catalog import OpInfo
from tbconform.harness.context import CheckContext
from tbconform.harness.rules import CheckFailed, NotApplicable, rule
from tbconform.harness.checks.kit import operation_at, short

SEND, VALIDATE, LIST, GET = "/caliper/event", "/caliper/event/validate", "/caliper/events", "/caliper/events/{externalId}"
JOB = "/jobs/{jobId}/status"
WEBHOOKS, WEBHOOK, FILTERS = "/webhooks", "/webhooks/{id}", "/webhook-filters"
SIGNATURE_HEADER = "X-Timeback-Signature"
SEND_TIME = "2025-09-15T14:05:00.000Z"
EVENT_TIME = "2025-09-15T14:03:12.000Z"
DELIVERY_WAIT = 5.0   # seconds a matching event may take to reach the receiver
QUIET_WAIT = 0.3      # after the expected delivery, how long unexpected ones may still come
RETRY_WAIT = 4.0      # seconds within which a failed delivery must be attempted again


def _at(method: str, path: str) -> Callable[[OpInfo], bool]:
    return operation_at("caliper", method, path)


# ---------------------------------------------------------------------------------------------
# Events built from the declaration


def _decl() -> Any:
    from tbconform.specs.caliper import _events as D

    return D


def _value(frag: dict[str, Any], depth: int, seed: str) -> Any:
    D = _decl()
    if "x-tb-node" in frag:
        allowed = D.closure(tuple(frag["x-tb-node"]))
        if frag.get("x-tb-iri", True) and depth >= 1:
            return f"https://tbconform.example/entities/{seed}"
        return _entity(allowed[0], depth + 1, seed)
    if frag.get("x-tb-context"):
        return D.CONTEXT_V1P2
    if "enum" in frag:
        return next(v for v in frag["enum"] if v is not None)
    kind, fmt = frag.get("type"), frag.get("format")
    if kind == "string":
        return {"date-time": EVENT_TIME, "duration": "PT5M", "iri": f"https://tbconform.example/{seed}",
                "email": "learner@example.edu", "urn-uuid": f"urn:uuid:{uuid.uuid4()}"}.get(fmt, f"tbconform {seed}")
    if kind == "integer":
        return max(1, frag.get("minimum", 1) or 1)
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "array":
        return [_value(frag["items"], depth, seed)]
    if kind == "object":
        props = frag.get("properties", {})
        return {k: _value(props[k], depth, seed) for k in frag.get("required", [])}
    return {}


def _entity(name: str, depth: int, seed: str) -> dict[str, Any]:
    flat = _decl().flatten(name)
    out: dict[str, Any] = {"id": f"https://tbconform.example/{name.lower()}/{seed}", "type": name}
    for key in flat.required:
        if key not in out:
            out[key] = _value(flat.fields[key], depth, seed)
    return out


def event_types() -> tuple[str, ...]:
    return _decl().EVENT_TYPES


def make_event(ctx: CheckContext, event_type: str = "ActivityEvent", actor: str | None = None,
               when: str = EVENT_TIME, seed: str = "a", email: str | None = None) -> dict[str, Any]:
    """A valid event of `event_type`, tagged with the run id; `actor` replaces the actor's id and
    `email` its email (ActivityEvent's actor is a TimebackUser, which has one)."""
    D = _decl()
    kind = D.EVENTS[event_type]
    case = kind.cases[0]
    action = case.actions[0]
    profile = case.profiles[0] if case.profiles else None
    ranges, required = D.ranges_of(D.event_cases(event_type, action, profile))
    event: dict[str, Any] = {"@context": D.CONTEXT_V1P2, "id": f"urn:uuid:{uuid.uuid4()}", "type": event_type,
                             "action": action, "eventTime": when}
    if profile:
        event["profile"] = profile
    for prop in D.GOVERNED:
        if prop in ("actor", "object") or prop in required:
            event[prop] = _value({"x-tb-node": list(ranges[prop])}, 0, seed)
    if actor is not None and isinstance(event.get("actor"), dict):
        event["actor"]["id"] = actor
    if email is not None and isinstance(event.get("actor"), dict):
        event["actor"]["email"] = email
    event["extensions"] = {"tbconformRun": ctx.config.run_id}
    return event


def envelope(sensor: str, *events: dict[str, Any]) -> dict[str, Any]:
    return {"sensor": sensor, "sendTime": SEND_TIME, "dataVersion": _decl().CONTEXT_V1P2, "data": list(events)}


def new_sensor(ctx: CheckContext, label: str) -> str:
    return f"https://tbconform.example/sensors/{ctx.new_id(label)}"


# ---------------------------------------------------------------------------------------------
# Talking to the receiver




def _refused(status: int) -> bool:
    """A 4xx that judges the input (401/403 would be about the token, not the body)."""
    return 400 <= status < 500 and status not in (401, 403)


def send(ctx: CheckContext, body: dict[str, Any], what: str = "a valid envelope") -> requests.Response:
    response = ctx.request("POST", SEND, json=body)
    if not 200 <= response.status_code < 300:
        raise CheckFailed(f"POST {SEND} with {what} answered {response.status_code}, expected 2xx: "
                          f"{response.text[:300]}")
    return response


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def listing(ctx: CheckContext, **params: Any) -> tuple[list[dict[str, Any]], int | None, requests.Response]:
    """GET /caliper/events with `params`: (events, the total it reports, the response)."""
    response = ctx.get(LIST, params)
    shown = " ".join(f"{k}={v}" for k, v in params.items())
    if response.status_code != 200:
        raise CheckFailed(f"GET {LIST} {shown} answered {response.status_code}, expected 200")
    body = ctx.json(response)
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise CheckFailed(f"GET {LIST} {shown}: the body has no 'events' array")
    paging = body.get("pagination") if isinstance(body.get("pagination"), dict) else {}
    total = paging.get("total")
    if not isinstance(total, int) or isinstance(total, bool):
        header = response.headers.get("X-Total-Count")
        total = int(header) if header and header.isdigit() else None
    return [e for e in events if isinstance(e, dict)], total, response


def _external(stored: dict[str, Any]) -> Any:
    return stored.get("externalId", stored.get("id"))


def _externals(events: list[dict[str, Any]]) -> list[Any]:
    return [_external(e) for e in events]


def _same_time(a: Any, b: Any) -> bool:
    if a == b:
        return True
    try:
        return (datetime.fromisoformat(str(a).replace("Z", "+00:00"))
                == datetime.fromisoformat(str(b).replace("Z", "+00:00")))
    except ValueError:
        return False


def _same(sent: Any, got: Any) -> bool:
    if isinstance(sent, dict):
        return isinstance(got, dict) and all(k in got and _same(v, got[k]) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(got, list) and len(sent) == len(got) and all(_same(s, g) for s, g in zip(sent, got))
    return sent == got or (isinstance(sent, str) and _same_time(sent, got) and "T" in sent)


def differences(sent: dict[str, Any], stored: dict[str, Any], sensor: str) -> list[str]:
    """What a stored event (StoredEvent shape, or the event itself) lost or changed of the sent one."""
    out = []
    if _external(stored) != sent["id"]:
        out.append(f"externalId {short(_external(stored))} instead of {sent['id']!r}")
    if "sensor" in stored and stored["sensor"] != sensor:
        out.append(f"sensor {short(stored['sensor'])} instead of {sensor!r}")
    for key, value in sent.items():
        if key in ("@context", "id"):
            continue
        if not _same(value, stored.get(key)):
            out.append(f"{key} {short(stored.get(key))} instead of {short(value)}")
    return out


# ---------------------------------------------------------------------------------------------
# Rules: ingestion


GENERATED_PER_TYPE = 3   # at most this many hypothesis-generated events per type (fewer with --max-examples)
USERS = "/ims/oneroster/rostering/v1p2/users"


def generated_events(ctx: CheckContext, event_type: str, count: int) -> list[dict[str, Any]]:
    """Up to `count` hypothesis-generated valid events of `event_type` (from the run's seed), each with
    a fresh id and tagged with the run id like `make_event`'s."""
    from tbconform.harness.caliper_events import generated_events as draw

    events = []
    for event in draw(event_type, count, seed=ctx.config.seed or 0):
        extensions = event.get("extensions") if isinstance(event.get("extensions"), dict) else {}
        event = {**event, "id": f"urn:uuid:{uuid.uuid4()}",
                 "extensions": {**extensions, "tbconformRun": ctx.config.run_id}}
        events.append(event)
    return events


def seeded_events(ctx: CheckContext) -> tuple[list[dict[str, Any]], str]:
    """An ActivityEvent and a TimeSpentEvent whose actor is a user the target lists through OneRoster
    (its href as id, its email), and a note; no events, and the reason in the note, when the target
    lists no user to take."""
    try:
        response = ctx.get(USERS, {"limit": 5})
    except requests.RequestException as exc:
        return [], f"no seeded-data events (GET {USERS} failed: {type(exc).__name__})"
    if response.status_code != 200:
        return [], f"no seeded-data events (GET {USERS} answered {response.status_code})"
    body = _body(response)
    users = body.get("users") if isinstance(body, dict) else None
    users = [u for u in users if isinstance(u, dict) and isinstance(u.get("sourcedId"), str)
             and not ctx.own(u)] if isinstance(users, list) else []
    if not users:
        return [], f"no seeded-data events (GET {USERS} listed no user)"
    user = next((u for u in users if isinstance(u.get("email"), str) and "@" in u["email"]), users[0])
    href = user.get("href") if isinstance(user.get("href"), str) else \
        f"{ctx.session.base_url.rstrip('/')}{USERS}/{quote(user['sourcedId'], safe='')}"
    email = user["email"] if isinstance(user.get("email"), str) and "@" in user["email"] else "learner@example.edu"
    events = [make_event(ctx, name, actor=href, email=email, seed="seeded")
              for name in ("ActivityEvent", "TimeSpentEvent")]
    from tbconform.specs.caliper.validate import validate_event

    if any(validate_event(e) for e in events):  # the listed user's href or email is no valid Caliper value
        return [], f"no seeded-data events (user {user['sourcedId']} makes no valid actor)"
    return events, f"seeded-data events for user {user['sourcedId']}"


def stored_ids(ctx: CheckContext, sensor: str, expected: int) -> set[Any]:
    """The externalIds GET /caliper/events lists under `sensor` (paging through `expected` of them)."""
    found: set[Any] = set()
    for offset in range(0, expected + 1, 100):
        events, _, _ = listing(ctx, sensor=sensor, limit=100, offset=offset)
        found.update(_externals(events))
        if len(events) < 100:
            break
    return found


@rule("caliper.ingest.accepts-every-type",
      "A valid event of every Caliper 1.2 and Timeback event type is accepted with a 2xx.",
      _at("POST", SEND), writes=True)
def accepts_every_type(ctx: CheckContext, op: OpInfo) -> None:
    """Per type: the deterministic event, then a few hypothesis-generated ones (each in an envelope of
    its own, under a second sensor, and then required to be listed there); and an ActivityEvent and a
    TimeSpentEvent acted by a user the target lists, when it serves OneRoster users."""
    sensor, generated_sensor = new_sensor(ctx, "types"), new_sensor(ctx, "types-generated")
    count = max(1, min(ctx.config.max_examples or GENERATED_PER_TYPE, GENERATED_PER_TYPE))
    refused: list[tuple[str, str]] = []  # (what, detail)
    sent: list[tuple[str, dict[str, Any]]] = []
    for name in event_types():
        response = ctx.request("POST", SEND, json=envelope(sensor, make_event(ctx, name)))
        if not 200 <= response.status_code < 300:
            refused.append((name, f"{name} ({response.status_code}: {response.text[:120]})"))
    seeded, note = seeded_events(ctx)
    extra = [(f"generated {e['type']}", e) for name in event_types() for e in generated_events(ctx, name, count)]
    extra += [(f"seeded-data {e['type']}", e) for e in seeded]
    for what, event in extra:
        response = ctx.request("POST", SEND, json=envelope(generated_sensor, event))
        if 200 <= response.status_code < 300:
            sent.append((what, event))
        else:
            refused.append((what, f"{what} {event['id']} ({response.status_code}: {response.text[:120]}; "
                                  f"sent {short(event, 300)})"))
    if refused:
        kinds = Counter(what for what, _ in refused)
        raise CheckFailed(f"valid events refused: {len(refused)} of {len(event_types()) + len(extra)} "
                          f"({len(event_types())} one per type, {len(extra)} generated or seeded; {note}): "
                          + ", ".join(f"{what} ×{n}" for what, n in kinds.items()) + ". First: "
                          + "; ".join(detail for _, detail in refused[:3]))
    stored = stored_ids(ctx, generated_sensor, len(sent))
    missing = [f"{what} {event['id']}" for what, event in sent if event["id"] not in stored]
    if missing:
        raise CheckFailed(f"{len(missing)} of {len(sent)} accepted generated or seeded events are not listed "
                          f"under sensor {generated_sensor} ({note}): " + "; ".join(missing[:4]))


def _invalid_events(ctx: CheckContext) -> list[tuple[str, dict[str, Any]]]:
    def mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        event = make_event(ctx)
        change(event)
        return event

    return [
        ("an action the event type does not allow", mutated(lambda e: e.update(action="Submitted"))),
        ("no actor", mutated(lambda e: e.pop("actor"))),
        ("an id that is not a UUID URN", mutated(lambda e: e.update(id=f"{ctx.config.run_id}-not-a-urn"))),
        ("an eventTime that is no date-time", mutated(lambda e: e.update(eventTime="yesterday"))),
        ("an unknown event type", mutated(lambda e: e.update(type="TbconformNoSuchEvent"))),
        ("no @context", mutated(lambda e: e.pop("@context"))),
        ("an object of a type the profile does not allow",
         mutated(lambda e: e.update(object={"id": "https://tbconform.example/x", "type": "Person"}))),
    ]


def _nothing_stored(ctx: CheckContext, sensor: str, what: str) -> None:
    events, _, _ = listing(ctx, sensor=sensor, limit=100)  # the items, not the total: paging has its own rule
    if events:
        raise CheckFailed(f"{what} were refused, but {len(events)} event(s) of their sensor are stored: "
                          f"an envelope must be refused whole")


@rule("caliper.ingest.refuses-invalid-event",
      "An envelope holding an invalid event (action not allowed, no actor, id not a UUID URN, bad eventTime, "
      "unknown type, no @context, object type not allowed) is refused whole with a 4xx, never a 5xx.",
      _at("POST", SEND), writes=True)
def refuses_invalid_event(ctx: CheckContext, op: OpInfo) -> None:
    sensor = new_sensor(ctx, "invalid")
    wrong = []
    for what, bad in _invalid_events(ctx):
        response = ctx.request("POST", SEND, json=envelope(sensor, make_event(ctx), bad))
        if not _refused(response.status_code):
            wrong.append(f"{what}: {response.status_code}")
    if wrong:
        raise CheckFailed(f"POST {SEND} with an invalid event answered other than a 4xx: " + "; ".join(wrong))
    _nothing_stored(ctx, sensor, "envelopes with an invalid event")


def _bad_envelopes(ctx: CheckContext, sensor: str) -> list[tuple[str, bytes, str]]:
    good = envelope(sensor, make_event(ctx))

    def without(key: str) -> bytes:
        return json.dumps({k: v for k, v in good.items() if k != key}).encode()

    raw = json.dumps(good).encode()
    return [
        ("no sensor", without("sensor"), "application/json"),
        ("no sendTime", without("sendTime"), "application/json"),
        ("no dataVersion", without("dataVersion"), "application/json"),
        ("a sendTime that is no date-time", json.dumps({**good, "sendTime": "soon"}).encode(), "application/json"),
        ("a wrong dataVersion", json.dumps({**good, "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p1"}).encode(),
         "application/json"),
        ("an empty data array", json.dumps({**good, "data": []}).encode(), "application/json"),
        ("data that is not an array", json.dumps({**good, "data": good["data"][0]}).encode(), "application/json"),
        ("a JSON array body", json.dumps([good]).encode(), "application/json"),
        ("malformed JSON", raw[:-3], "application/json"),
        ("an empty body", b"", "application/json"),
        ("a text/plain body", raw, "text/plain"),
    ]


@rule("caliper.ingest.refuses-invalid-envelope",
      "An invalid envelope (no sensor, sendTime or dataVersion, bad sendTime, wrong dataVersion, empty or "
      "non-array data, malformed JSON, empty body, wrong content type) is refused with a 4xx, never a 5xx, "
      "and stores nothing.", _at("POST", SEND), writes=True)
def refuses_invalid_envelope(ctx: CheckContext, op: OpInfo) -> None:
    sensor = new_sensor(ctx, "badenv")
    wrong = []
    for what, raw, content_type in _bad_envelopes(ctx, sensor):
        response = ctx.request("POST", SEND, data=raw, headers={"Content-Type": content_type})
        if not _refused(response.status_code):
            wrong.append(f"{what}: {response.status_code}")
    if wrong:
        raise CheckFailed(f"POST {SEND} with an invalid envelope answered other than a 4xx: " + "; ".join(wrong))
    _nothing_stored(ctx, sensor, "invalid envelopes")


def _two_events(ctx: CheckContext, label: str) -> tuple[str, list[dict[str, Any]], requests.Response]:
    sensor = new_sensor(ctx, label)
    events = [make_event(ctx, "ActivityEvent", seed="one"), make_event(ctx, "NavigationEvent", seed="two")]
    events[0]["extensions"]["tbconformNote"] = "kept as sent"
    return sensor, events, send(ctx, envelope(sensor, *events))


@rule("caliper.events.listed-as-sent",
      "Every event of an accepted envelope is listed by GET /caliper/events (narrowed to its sensor) with "
      "the content sent.", _at("GET", LIST), writes=True)
def listed_as_sent(ctx: CheckContext, op: OpInfo) -> None:
    sensor, events, _ = _two_events(ctx, "listed")
    stored, _, _ = listing(ctx, sensor=sensor, limit=100)
    by_id = {_external(e): e for e in stored}
    for event in events:
        found = by_id.get(event["id"])
        if found is None:
            raise CheckFailed(f"sent {len(events)} events under sensor {sensor}; {event['type']} {event['id']} is "
                              f"not listed (listed: {short(list(by_id))})")
        problems = differences(event, found, sensor)
        if problems:
            raise CheckFailed(f"{event['type']} {event['id']} is listed altered: " + "; ".join(problems[:4]))


@rule("caliper.events.get-as-sent",
      "GET /caliper/events/{externalId} answers every event of an accepted envelope with the content sent.",
      _at("GET", GET), writes=True)
def get_as_sent(ctx: CheckContext, op: OpInfo) -> None:
    sensor, events, _ = _two_events(ctx, "get")
    for event in events:
        path = GET.replace("{externalId}", quote(event["id"], safe=""))
        response = ctx.get(path)
        if response.status_code != 200:
            raise CheckFailed(f"GET {path} answered {response.status_code} for an event just accepted")
        body = ctx.json(response)
        found = body.get("event", body) if isinstance(body, dict) else None
        if not isinstance(found, dict):
            raise CheckFailed(f"GET {path}: the body holds no event object")
        problems = differences(event, found, sensor)
        if problems:
            raise CheckFailed(f"GET {path} answers the event altered: " + "; ".join(problems[:4]))


@rule("caliper.jobs.status",
      "The job id a send answers with reports, at GET /jobs/{jobId}/status, a completed job naming every "
      "event's externalId.", _at("GET", JOB), writes=True)
def job_status(ctx: CheckContext, op: OpInfo) -> None:
    sensor, events, response = _two_events(ctx, "job")
    body = _body(response)
    job_id = body.get("jobId") if isinstance(body, dict) else None
    if not isinstance(job_id, str) or not job_id:
        raise NotApplicable(f"POST {SEND} answered no jobId to follow")
    path = JOB.replace("{jobId}", quote(job_id, safe=""))
    status = ctx.get(path)
    if status.status_code != 200:
        raise CheckFailed(f"GET {path} answered {status.status_code} for the job of an accepted send")
    job = ctx.json(status)
    job = job.get("job", job) if isinstance(job, dict) else {}
    state = job.get("state") or job.get("status")
    if str(state).lower() not in ("completed", "complete", "success"):
        raise CheckFailed(f"GET {path}: the job's state is {short(state)}, expected completed")
    named = json.dumps(job)
    missing = [e["id"] for e in events if e["id"] not in named]
    if missing:
        raise CheckFailed(f"GET {path}: the completed job names none of {missing} (of the {len(events)} events sent)")


@rule("caliper.validate.agrees",
      "POST /caliper/event/validate gives the verdict ingestion gives (2xx for a valid envelope, 4xx for each "
      "invalid one) and stores nothing.", _at("POST", VALIDATE), writes=True)
def validate_agrees(ctx: CheckContext, op: OpInfo) -> None:
    only = new_sensor(ctx, "validate-only")
    sent = new_sensor(ctx, "validate-sent")
    cases = [("a valid envelope", make_event(ctx), None)]
    cases += [(what, bad, None) for what, bad in _invalid_events(ctx)[:4]]
    cases.append(("an envelope without sensor", make_event(ctx), "sensor"))
    disagree = []
    for what, event, drop in cases:
        verdicts = []
        for sensor, path in ((only, VALIDATE), (sent, SEND)):
            body = {k: v for k, v in envelope(sensor, event).items() if k != drop}
            response = ctx.request("POST", path, json=body)
            if response.status_code >= 500:
                raise CheckFailed(f"POST {path} with {what} answered {response.status_code}")
            verdicts.append(200 <= response.status_code < 300)
        if verdicts[0] != verdicts[1]:
            disagree.append(f"{what}: validate {'accepts' if verdicts[0] else 'refuses'}, ingestion "
                            f"{'accepts' if verdicts[1] else 'refuses'}")
    if disagree:
        raise CheckFailed("validate and ingestion disagree: " + "; ".join(disagree))
    events, _, _ = listing(ctx, sensor=only, limit=100)
    if events:
        raise CheckFailed(f"POST {VALIDATE} stored {len(events)} event(s); it must store nothing")


# ---------------------------------------------------------------------------------------------
# Rules: listing


def _expect_ids(what: str, events: list[dict[str, Any]], wanted: list[str]) -> None:
    got = _externals(events)
    if sorted(map(str, got)) != sorted(wanted):
        extra = [g for g in got if g not in wanted]
        missing = [w for w in wanted if w not in got]
        raise CheckFailed(f"{what} listed {len(got)} event(s), expected {len(wanted)}"
                          + (f"; unexpected {short(extra)}" if extra else "")
                          + (f"; missing {short(missing)}" if missing else ""))


def _send_each(ctx: CheckContext, sensor: str, events: list[dict[str, Any]]) -> list[str]:
    for event in events:
        send(ctx, envelope(sensor, event))
    return [e["id"] for e in events]


@rule("caliper.list.filter-sensor",
      "GET /caliper/events?sensor=S lists exactly the events sent under sensor S.", _at("GET", LIST), writes=True)
def filter_sensor(ctx: CheckContext, op: OpInfo) -> None:
    first, second = new_sensor(ctx, "sensor-a"), new_sensor(ctx, "sensor-b")
    mine = _send_each(ctx, first, [make_event(ctx), make_event(ctx, "NavigationEvent")])
    theirs = _send_each(ctx, second, [make_event(ctx)])
    events, _, _ = listing(ctx, sensor=first, limit=100)
    _expect_ids(f"GET {LIST} sensor={first}", events, mine)
    events, _, _ = listing(ctx, sensor=second, limit=100)
    _expect_ids(f"GET {LIST} sensor={second}", events, theirs)


@rule("caliper.list.filter-actor",
      "GET /caliper/events?actorId=A lists exactly the events whose actor is A.", _at("GET", LIST), writes=True)
def filter_actor(ctx: CheckContext, op: OpInfo) -> None:
    _exact_actor_filter(ctx, "actor", "actorId", "id",
                        lambda name: f"https://tbconform.example/users/{ctx.config.run_id}-{name}")


@rule("caliper.list.filter-actor-email",
      "GET /caliper/events?actorEmail=E lists exactly the events whose actor's email is E.", _at("GET", LIST),
      writes=True)
def filter_actor_email(ctx: CheckContext, op: OpInfo) -> None:
    _exact_actor_filter(ctx, "email", "actorEmail", "email", lambda name: f"{ctx.config.run_id}-{name}@example.edu")


def _exact_actor_filter(ctx: CheckContext, tag: str, param: str, field: str,
                        value_for: Callable[[str], str]) -> None:
    """Send events of two actors (one twice) under a fresh sensor; `?<param>=v` must list exactly
    the events whose actor's `field` is v, for each of them."""
    sensor = new_sensor(ctx, tag)
    ada, bob = value_for("ada"), value_for("bob")
    argument = "actor" if field == "id" else field
    events = [make_event(ctx, **{argument: who}) for who in (ada, bob, ada)]
    _send_each(ctx, sensor, events)
    for who in (ada, bob):
        listed, _, _ = listing(ctx, sensor=sensor, limit=100, **{param: who})
        _expect_ids(f"GET {LIST} sensor=… {param}={who}", listed,
                    [e["id"] for e in events if e["actor"][field] == who])


@rule("caliper.list.filter-dates",
      "GET /caliper/events?startDate=&endDate= lists exactly the events whose eventTime lies in the range "
      "(bounds inclusive).", _at("GET", LIST), writes=True)
def filter_dates(ctx: CheckContext, op: OpInfo) -> None:
    sensor = new_sensor(ctx, "dates")
    times = ["2025-01-10T10:00:00.000Z", "2025-02-10T10:00:00.000Z", "2025-03-10T10:00:00.000Z"]
    events = [make_event(ctx, when=t) for t in times]
    ids = _send_each(ctx, sensor, events)
    start, end = "2025-02-01T00:00:00.000Z", "2025-02-28T23:59:59.000Z"
    for params, wanted in (({"startDate": start}, ids[1:]), ({"endDate": end}, ids[:2]),
                           ({"startDate": start, "endDate": end}, ids[1:2])):
        listed, _, _ = listing(ctx, sensor=sensor, limit=100, **params)
        _expect_ids(f"GET {LIST} sensor=… " + " ".join(f"{k}={v}" for k, v in params.items()), listed, wanted)


@rule("caliper.list.paging",
      "GET /caliper/events pages with limit and offset: pages do not overlap, together hold every event once, "
      "and each reports the true total.", _at("GET", LIST), writes=True)
def paging(ctx: CheckContext, op: OpInfo) -> None:
    sensor = new_sensor(ctx, "paging")
    ids = _send_each(ctx, sensor, [make_event(ctx, seed=str(n)) for n in range(5)])
    seen: list[Any] = []
    for offset in (0, 2, 4):
        events, total, _ = listing(ctx, sensor=sensor, limit=2, offset=offset)
        wanted = min(2, len(ids) - offset)
        if len(events) != wanted:
            raise CheckFailed(f"GET {LIST} sensor=… limit=2 offset={offset} listed {len(events)} event(s), "
                              f"expected {wanted} of {len(ids)}")
        if total is not None and total != len(ids):
            raise CheckFailed(f"GET {LIST} sensor=… limit=2 offset={offset} reports a total of {total}, "
                              f"but {len(ids)} events match")
        seen += _externals(events)
    if sorted(map(str, seen)) != sorted(ids):
        raise CheckFailed(f"the pages of limit 2 held {short(seen)}, expected each of {short(ids)} once")


# ---------------------------------------------------------------------------------------------
# Rules: webhooks


def _hook_body(ctx: CheckContext, sensor: str, target: str, secret: str, active: bool, name: str) -> dict[str, Any]:
    return {"name": f"{ctx.config.run_id} {name}", "targetUrl": target, "secret": secret, "active": active,
            "sensor": sensor, "description": f"tbconform run {ctx.config.run_id}"}


def _unwrap(ctx: CheckContext, response: requests.Response, key: str) -> dict[str, Any]:
    body = ctx.json(response)
    item = body.get(key, body) if isinstance(body, dict) else None
    if not isinstance(item, dict):
        raise CheckFailed(f"{response.request.method} {response.url}: the body holds no {key} object")
    return item


def create_webhook(ctx: CheckContext, body: dict[str, Any]) -> dict[str, Any]:
    response = ctx.request("POST", WEBHOOKS, json=body)
    if not 200 <= response.status_code < 300:
        raise CheckFailed(f"POST {WEBHOOKS} with a valid webhook answered {response.status_code}: {response.text[:200]}")
    hook = _unwrap(ctx, response, "webhook")
    if not hook.get("id"):
        raise CheckFailed(f"POST {WEBHOOKS} answered a webhook without an id")
    ctx.cleanup.add(f"{WEBHOOKS}/{quote(str(hook['id']), safe='')}", f"webhook {hook['id']}")
    return hook


def create_filter(ctx: CheckContext, hook_id: str, key: str, value: str) -> dict[str, Any]:
    body = {"webhookId": hook_id, "filterKey": key, "filterValue": value, "filterType": "string",
            "filterOperator": "eq", "active": True}
    response = ctx.request("POST", FILTERS, json=body)
    if not 200 <= response.status_code < 300:
        raise CheckFailed(f"POST {FILTERS} answered {response.status_code}: {response.text[:200]}")
    flt = _unwrap(ctx, response, "filter")
    ctx.cleanup.add(f"{FILTERS}/{quote(str(flt.get('id')), safe='')}", f"webhook filter {flt.get('id')}")
    return flt


def _read(ctx: CheckContext, path: str, key: str) -> dict[str, Any]:
    response = ctx.get(path)
    if response.status_code != 200:
        raise CheckFailed(f"GET {path} answered {response.status_code}, expected 200")
    return _unwrap(ctx, response, key)


def _check_fields(what: str, sent: dict[str, Any], got: dict[str, Any], keys: tuple[str, ...]) -> None:
    wrong = [f"{k} {short(got.get(k))} instead of {short(sent[k])}" for k in keys if got.get(k) != sent[k]]
    if wrong:
        raise CheckFailed(f"{what}: " + "; ".join(wrong))


HOOK_KEYS = ("name", "targetUrl", "active", "sensor")
FILTER_KEYS = ("webhookId", "filterKey", "filterValue", "filterType", "filterOperator", "active")


@rule("caliper.webhooks.crud",
      "Webhooks and webhook filters keep their state: a create reads back, an update reads back changed, "
      "activate/deactivate set active, listings include them, a delete makes GET answer 404.",
      _at("POST", WEBHOOKS), writes=True)
def webhooks_crud(ctx: CheckContext, op: OpInfo) -> None:
    sensor = new_sensor(ctx, "crud")
    sent = _hook_body(ctx, sensor, f"https://tbconform.example/hooks/{ctx.config.run_id}", secrets.token_hex(8),
                      False, "crud")
    hook = create_webhook(ctx, sent)
    path = f"{WEBHOOKS}/{quote(str(hook['id']), safe='')}"
    _check_fields(f"GET {path} after the create", sent, _read(ctx, path, "webhook"), HOOK_KEYS)
    listed = ctx.get(WEBHOOKS)
    hooks = ctx.json(listed).get("webhooks") if listed.status_code == 200 and isinstance(ctx.json(listed), dict) else None
    if not isinstance(hooks, list) or hook["id"] not in [h.get("id") for h in hooks if isinstance(h, dict)]:
        raise CheckFailed(f"GET {WEBHOOKS} does not list the webhook just created ({hook['id']})")
    changed = {**sent, "name": sent["name"] + " (changed)", "targetUrl": sent["targetUrl"] + "/changed"}
    response = ctx.request("PUT", path, json=changed)
    if not 200 <= response.status_code < 300:
        raise CheckFailed(f"PUT {path} answered {response.status_code}: {response.text[:200]}")
    _check_fields(f"GET {path} after the PUT", changed, _read(ctx, path, "webhook"), HOOK_KEYS)
    for action, active in (("activate", True), ("deactivate", False)):
        response = ctx.request("PUT", f"{path}/{action}")
        if not 200 <= response.status_code < 300:
            raise CheckFailed(f"PUT {path}/{action} answered {response.status_code}")
        got = _read(ctx, path, "webhook").get("active")
        if got is not active:
            raise CheckFailed(f"after PUT {path}/{action}, GET {path} answers active={short(got)}")
    flt = create_filter(ctx, hook["id"], "action", "Completed")
    fpath = f"{FILTERS}/{quote(str(flt.get('id')), safe='')}"
    wanted = {"webhookId": hook["id"], "filterKey": "action", "filterValue": "Completed", "filterType": "string",
              "filterOperator": "eq", "active": True}
    _check_fields(f"GET {fpath} after the create", wanted, _read(ctx, fpath, "filter"), FILTER_KEYS)
    of_hook = ctx.get(f"{FILTERS}/webhook/{quote(str(hook['id']), safe='')}")
    rows = ctx.json(of_hook).get("filters") if of_hook.status_code == 200 and isinstance(ctx.json(of_hook), dict) else None
    if not isinstance(rows, list) or flt.get("id") not in [r.get("id") for r in rows if isinstance(r, dict)]:
        raise CheckFailed(f"GET {FILTERS}/webhook/{hook['id']} does not list the filter just created")
    wanted = {**wanted, "filterValue": "Started"}
    response = ctx.request("PUT", fpath, json=wanted)
    if not 200 <= response.status_code < 300:
        raise CheckFailed(f"PUT {fpath} answered {response.status_code}: {response.text[:200]}")
    _check_fields(f"GET {fpath} after the PUT", wanted, _read(ctx, fpath, "filter"), FILTER_KEYS)
    for item in (fpath, path):
        response = ctx.request("DELETE", item)
        if not 200 <= response.status_code < 300:
            raise CheckFailed(f"DELETE {item} answered {response.status_code}")
        after = ctx.get(item)
        if after.status_code != 404:
            raise CheckFailed(f"after DELETE {item}, GET answers {after.status_code}, expected 404")


class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST; `failures` answers 500 to that many first."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.arrived:
                    fail = receiver.failures > 0
                    receiver.failures -= 1 if fail else 0
                    receiver.received.append({"path": self.path, "headers": dict(self.headers.items()), "body": body,
                                              "answered": 500 if fail else 200})
                    receiver.arrived.notify_all()
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tbconform-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="tbconform-receiver", daemon=True)

    def wait(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not done(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True

    def events(self) -> list[dict[str, Any]]:
        out = []
        with self.arrived:
            for item in self.received:
                try:
                    out.append(json.loads(item["body"]))
                except ValueError:
                    out.append({})
        return out


@contextmanager
def receiving(ctx: CheckContext, failures: int = 0) -> Iterator[Receiver]:
    if not is_loopback(ctx.session.base_url):
        raise NotApplicable("the target is not on this machine, so it cannot reach the harness's own webhook "
                            "receiver (webhook delivery is checked on loopback targets only)")
    receiver = Receiver(failures)
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@contextmanager
def webhook(ctx: CheckContext, receiver: Receiver, label: str, filter_on: tuple[str, str] | None = None
            ) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """An active webhook to the receiver for a sensor of its own: (sensor, secret, webhook). Deleted on exit."""
    sensor = new_sensor(ctx, label)
    secret = secrets.token_hex(16)
    hook = create_webhook(ctx, _hook_body(ctx, sensor, receiver.url, secret, True, label))
    try:
        if filter_on is not None:
            create_filter(ctx, hook["id"], *filter_on)
        yield sensor, secret, hook
    finally:
        ctx.request("DELETE", f"{WEBHOOKS}/{quote(str(hook['id']), safe='')}")


def _has(event_id: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda received: any(event_id.encode() in item["body"] for item in received)


@rule("caliper.webhooks.fires-matching-only",
      "An active webhook receives the events of its sensor that match its filters, and no other event.",
      _at("POST", FILTERS), writes=True)
def fires_matching_only(ctx: CheckContext, op: OpInfo) -> None:
    with receiving(ctx) as receiver:
        wanted_object = f"https://tbconform.example/objects/{ctx.config.run_id}-wanted"
        with webhook(ctx, receiver, "fires", ("object.id", wanted_object)) as (sensor, _, hook):
            other_sensor = new_sensor(ctx, "fires-other")
            unmatched = make_event(ctx)
            other = make_event(ctx)
            other["object"]["id"] = wanted_object
            matching = make_event(ctx)
            matching["object"]["id"] = wanted_object
            send(ctx, envelope(sensor, unmatched), "an event its filter does not match")
            send(ctx, envelope(other_sensor, other), "an event of another sensor")
            send(ctx, envelope(sensor, matching), "a matching event")
            if not receiver.wait(_has(matching["id"]), DELIVERY_WAIT):
                raise CheckFailed(f"webhook {hook['id']} (sensor {sensor}, filter object.id eq {wanted_object}) did "
                                  f"not receive the matching event {matching['id']} within {DELIVERY_WAIT:g} s")
            time.sleep(QUIET_WAIT)
    got = [e.get("id") for e in receiver.events()]
    stray = [what for what, e in (("an event its filter does not match", unmatched),
                                  ("an event of another sensor", other)) if e["id"] in got]
    if stray:
        raise CheckFailed(f"webhook {hook['id']} received " + " and ".join(stray) + f" (received {short(got)})")


@rule("caliper.webhooks.deactivated-silent",
      "A deactivated webhook receives nothing, while an active webhook of the same sensor receives the event.",
      _at("PUT", WEBHOOK + "/deactivate"), writes=True)
def deactivated_silent(ctx: CheckContext, op: OpInfo) -> None:
    with receiving(ctx) as receiver:
        sensor = new_sensor(ctx, "deactivated")
        hooks: list[dict[str, Any]] = []
        try:
            for name in ("on", "off"):
                hooks.append(create_webhook(ctx, _hook_body(ctx, sensor, f"{receiver.url}/{name}", secrets.token_hex(8),
                                                            True, f"deactivated {name}")))
            path = f"{WEBHOOKS}/{quote(str(hooks[1]['id']), safe='')}/deactivate"
            response = ctx.request("PUT", path)
            if not 200 <= response.status_code < 300:
                raise CheckFailed(f"PUT {path} answered {response.status_code}")
            event = make_event(ctx)
            send(ctx, envelope(sensor, event))
            if not receiver.wait(_has(event["id"]), DELIVERY_WAIT):
                raise CheckFailed(f"the active webhook {hooks[0]['id']} of sensor {sensor} received nothing within "
                                  f"{DELIVERY_WAIT:g} s")
            time.sleep(QUIET_WAIT)
        finally:
            for hook in hooks:
                ctx.request("DELETE", f"{WEBHOOKS}/{quote(str(hook['id']), safe='')}")
    stray = [item for item in receiver.received if item["path"].endswith("/off")]
    if stray:
        raise CheckFailed(f"webhook {hooks[1]['id']} was deactivated (PUT {path}) but received {len(stray)} "
                          f"delivery(ies) of {event['id']}")


@rule("caliper.webhooks.signature",
      f"A webhook delivery carries the event as its body and {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the "
      "body bytes keyed with the webhook's secret>.", _at("POST", WEBHOOKS), writes=True)
def signature_valid(ctx: CheckContext, op: OpInfo) -> None:
    with receiving(ctx) as receiver:
        with webhook(ctx, receiver, "signed") as (sensor, secret, hook):
            event = make_event(ctx)
            send(ctx, envelope(sensor, event))
            if not receiver.wait(_has(event["id"]), DELIVERY_WAIT):
                raise CheckFailed(f"webhook {hook['id']} received nothing within {DELIVERY_WAIT:g} s")
    item = next(i for i in receiver.received if event["id"].encode() in i["body"])
    try:
        delivered = json.loads(item["body"])
    except ValueError:
        raise CheckFailed("the webhook delivery's body is not JSON") from None
    problems = differences(event, delivered, sensor)
    if problems:
        raise CheckFailed("the webhook delivery's body is not the event sent: " + "; ".join(problems[:3]))
    headers = {k.lower(): v for k, v in item["headers"].items()}
    got = headers.get(SIGNATURE_HEADER.lower())
    expected = "sha256=" + hmac.new(secret.encode(), item["body"], hashlib.sha256).hexdigest()
    if got is None:
        raise CheckFailed(f"the webhook delivery carries no {SIGNATURE_HEADER} header")
    if not hmac.compare_digest(got.strip().lower(), expected):
        raise CheckFailed(f"the webhook delivery's {SIGNATURE_HEADER} is {short(got, 80)}, but the HMAC-SHA256 of "
                          f"its body with the webhook's secret is {expected}")


@rule("caliper.webhooks.retry",
      f"A delivery the receiver fails (500) is attempted again (within {RETRY_WAIT:g} s).",
      _at("POST", WEBHOOKS), writes=True)
def retry(ctx: CheckContext, op: OpInfo) -> None:
    with receiving(ctx, failures=1) as receiver:
        with webhook(ctx, receiver, "retry") as (sensor, _, hook):
            event = make_event(ctx)
            send(ctx, envelope(sensor, event))
            if not receiver.wait(_has(event["id"]), DELIVERY_WAIT):
                raise CheckFailed(f"webhook {hook['id']} received nothing within {DELIVERY_WAIT:g} s")
            again = receiver.wait(lambda got: sum(event["id"].encode() in i["body"] for i in got) >= 2, RETRY_WAIT)
    if not again:
        raise CheckFailed(f"the receiver answered 500 to the delivery of {event['id']}, and it was not attempted "
                          f"again within {RETRY_WAIT:g} s")

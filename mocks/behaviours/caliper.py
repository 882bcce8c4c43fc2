"""Caliper behaviour a spec cannot express: judging envelopes with the Caliper validator, storing
their events and the send's job in one transaction, the stored-event list filters, the checks on
webhook and filter writes a schema cannot make (write hooks: the CRUD itself is generic bindings),
and planning the webhook deliveries of newly stored events (sent by `mocks/background.py`).

Event records carry the store key `sourcedId` (the externalId) and the list filters' fields
(`x-tb-internal` on StoredEventRecord); answers leave them out. Webhooks and filters are keyed `id`.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

import orjson

from tbconform.mocks.actions import MAX_OFFSET, now_iso
from tbconform.mocks.background import Outbound
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.mocks.query import BoolExpr, Compiler, Predicate

EVENTS, JOBS, WEBHOOKS, FILTERS = "caliperEvents", "caliperJobs", "webhooks", "webhookFilters"
COUNTER = "caliper.next-event-id"
INTERNAL = ("sourcedId", "actorId", "actorKey", "actorEmail", "eventTimeUtc")
PARTICIPANTS = ("actor", "object", "generated", "target", "referrer", "edApp", "group", "membership",
                "session", "federatedSession")
DEFAULT_LIMIT = 100
SIGNATURE_HEADER = "X-Timeback-Signature"
MESSAGE_ITEMS = 5  # problems spelled out in an error message (all of them are in `errors`)
_ITEM_PATH = re.compile(r"^\$\.data\[(\d+)\](.*)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LEAP = re.compile(r"(T\d{2}:\d{2}):60")
_SEGMENT = re.compile(r"[/:]")


# ----------------------------------------------------------------------------------------------
# Error envelope and answers
# ----------------------------------------------------------------------------------------------


def _json_path(path: str) -> str:
    """`data/0/id` (a request-schema error's path) as `$.data[0].id`."""
    if path.startswith("$"):
        return path
    out = "$"
    for part in (p for p in path.split("/") if p and p != "(root)"):
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


_REQUIRED = re.compile(r"^'([A-Za-z_@][A-Za-z0-9_]*)' is a required property$")


def _problem(detail: dict[str, Any]) -> dict[str, Any]:
    """A request-schema error (`{path: "data/0", message}`) as a Problem like the validator's."""
    if "rule" in detail:
        return detail
    path, message = _json_path(str(detail.get("path", ""))), str(detail.get("message", ""))
    missing = _REQUIRED.match(message)
    if missing:  # name the missing member itself, as the validator does
        path = f"{path}.{missing.group(1)}"
    elif message.endswith("is not valid under any of the given schemas") and _ITEM_PATH.match(path):
        message = "must be an event or entity object with a string id and type"
    out: dict[str, Any] = {"path": path, "rule": "caliper.request.schema", "message": message, "index": None,
                           "id": None, "field": None}
    match = _ITEM_PATH.match(path)
    if match:
        out.update(index=int(match.group(1)), field=match.group(2).lstrip(".") or None)
    return out


def caliper_envelope(status: int, description: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Caliper's error envelope: `{status: "error", message, errors: [Problem]}`."""
    return {"status": "error", "message": description, "errors": [_problem(d) for d in details or []]}


def _answer(status: int, data: Any) -> Response:
    # Events are answered exactly as sent. The app makes relative `"href":"/...` members absolute
    # (mocks/hrefs.py); an event may carry such a member of its own, so the solidus is escaped
    # (`\/` reads back as `/`), which that rewrite does not match.
    return Response(status, orjson.dumps(data).replace(b'"href":"/', b'"href":"\\/'))


def _wire(record: dict[str, Any], internal: tuple[str, ...] = ("sourcedId",)) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in internal}


# ----------------------------------------------------------------------------------------------
# Judging envelopes
# ----------------------------------------------------------------------------------------------


def _details(body: dict[str, Any], problems: list[Any]) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body.get("data"), list) else []
    out = []
    for p in problems:
        entry: dict[str, Any] = {"path": p.path, "rule": p.rule, "message": p.message, "index": None,
                                 "id": None, "field": None}
        match = _ITEM_PATH.match(p.path)
        if match:
            index = int(match.group(1))
            item = data[index] if index < len(data) else None
            entry.update(index=index, field=match.group(2).lstrip(".") or None,
                         id=item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None)
        out.append(entry)
    return out


def _summary(body: dict[str, Any], details: list[dict[str, Any]]) -> str:
    data = body.get("data") if isinstance(body.get("data"), list) else []
    failing = sorted({d["index"] for d in details if d["index"] is not None})
    parts = []
    for d in details[:MESSAGE_ITEMS]:
        if d["index"] is None:
            parts.append(f"{d['path']}: {d['message']}")
        else:
            who = f"data[{d['index']}]" + (f" ({d['id']})" if d["id"] else "")
            parts.append(f"{who} {d['field'] or '(item)'}: {d['message']}")
    more = f"; and {len(details) - MESSAGE_ITEMS} more" if len(details) > MESSAGE_ITEMS else ""
    head = (f"envelope refused, nothing stored: {len(failing)} of {len(data)} data items invalid"
            if failing else "envelope refused, nothing stored")
    return f"{head}: " + "; ".join(parts) + more


def _validator() -> Any:
    """specs/caliper/validate.py, imported on first use: the sandbox starts even while it cannot."""
    from tbconform.specs.caliper import validate

    return validate


def _platform_problems(body: dict[str, Any]) -> list[Any]:
    """The LearnWith.AI path: only the envelope is judged (its event shapes have no schema)."""
    caliper = _validator()
    problems = [p for p in caliper.validate_envelope(body) if not _ITEM_PATH.match(p.path)]
    for index, item in enumerate(body.get("data") or []):
        if isinstance(item, dict) and not (isinstance(item.get("id"), str) and item["id"].strip()):
            problems.append(caliper.Problem(f"$.data[{index}].id", "caliper.platform.id",
                                            "every data item needs a non-empty string id"))
    return problems


def judge(body: Any, platform: bool = False) -> None:
    """ApiError 400 naming every problem, unless the envelope is valid."""
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a Caliper envelope (a JSON object)")
    try:
        problems = _platform_problems(body) if platform else _validator().validate_envelope(body)
    except RecursionError:
        raise ApiError(400, "envelope is nested too deeply to judge") from None
    if problems:
        details = _details(body, problems)
        raise ApiError(400, _summary(body, details), details)


# ----------------------------------------------------------------------------------------------
# Storing events
# ----------------------------------------------------------------------------------------------


def _utc(text: Any) -> str | None:
    """An ISO 8601 date-time in UTC with microseconds (comparable as text); None if unreadable."""
    if not isinstance(text, str):
        return None
    text = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:  # a leap second (:60) is valid ISO 8601; Python's datetime has none
            moment = datetime.fromisoformat(_LEAP.sub(r"\1:59", text))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00: past datetime's range in UTC
        return "9999-12-31T23:59:59.999999Z" if moment.year > 1 else "0001-01-01T00:00:00.000000Z"


def _actor(event: dict[str, Any]) -> tuple[str | None, str | None]:
    actor = event.get("actor")
    if isinstance(actor, str):
        return actor, None
    if isinstance(actor, dict):
        actor_id = actor.get("id") if isinstance(actor.get("id"), str) else None
        email = actor.get("email") if isinstance(actor.get("email"), str) else None
        return actor_id, email.lower() if email else None
    return None, None


def actor_key(actor_id: str | None) -> str | None:
    """The last segment of an id: `…/users/<sourcedId>` or `urn:uuid:<id>` give the id itself."""
    if not actor_id:
        return None
    return _SEGMENT.split(actor_id.rstrip("/"))[-1] or None


def _record(event: dict[str, Any], envelope: dict[str, Any], allocated: int, now: str,
            client: str | None) -> dict[str, Any]:
    actor_id, actor_email = _actor(event)
    extensions = event.get("extensions")
    record = {
        "id": allocated, "externalId": event["id"], "sensor": envelope["sensor"], "type": event.get("type"),
        "profile": event.get("profile"), "action": event.get("action"), "eventTime": event.get("eventTime"),
        "sendTime": envelope["sendTime"], "created_at": now, "updated_at": None, "deleted_at": None,
        **{k: event.get(k) for k in PARTICIPANTS},
        "extensions": extensions if isinstance(extensions, dict) else None,
        "clientAppId": client,
        "sourcedId": event["id"], "actorId": actor_id, "actorKey": actor_key(actor_id), "actorEmail": actor_email,
        "eventTimeUtc": _utc(event.get("eventTime")),
    }
    return record


def _is_event(item: Any) -> bool:
    """A data item the validator judges as an event (the others are entity describes)."""
    return isinstance(item, dict) and _validator().kind_of(item) == "event"


def _next_id(ctx: RequestContext) -> int:
    known = ctx.store.meta(COUNTER)
    return int(known) if known else ctx.store.count(EVENTS) + 1


def store_envelope(ctx: RequestContext, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Store the envelope's new events and its job in one transaction: (job, newly stored events)."""
    store = ctx.store
    client = ctx.principal.client_id if ctx.principal else None
    events = [item for item in body["data"] if _is_event(item)]
    now = now_iso()
    results: dict[str, dict[str, str]] = {}
    fresh: list[dict[str, Any]] = []
    job_id = str(uuid.uuid4())
    try:
        with store.transaction():
            next_id = _next_id(ctx)
            for event in events:
                external = event.get("id")
                if not isinstance(external, str):
                    raise ApiError(400, "every event needs a string id")
                if external in results:
                    continue
                stored = store.get(EVENTS, external)
                if stored is None:
                    store.insert(EVENTS, _record(event, body, next_id, now, client))
                    allocated, next_id = next_id, next_id + 1
                    fresh.append(event)
                else:
                    allocated = stored["id"]
                results[external] = {"allocatedId": str(allocated), "externalId": external}
            store.set_meta(COUNTER, str(next_id))
            job = {"sourcedId": job_id, "id": job_id, "state": "completed",
                   "returnValue": {"status": "success", "results": list(results.values())},
                   "processedOn": now_iso()}
            store.insert(JOBS, job)
    except orjson.JSONEncodeError as exc:  # e.g. nesting orjson can read but not write back
        raise ApiError(400, f"an event cannot be stored: {exc}") from None
    return job, fresh


def _ingest(ctx: RequestContext, platform: bool) -> Response:
    body = ctx.body
    judge(body, platform)
    job, fresh = store_envelope(ctx, body)
    stored = len(fresh)
    total = sum(1 for item in body["data"] if _is_event(item))
    message = f"{total} event{'s' if total != 1 else ''} accepted for processing"
    if stored != total:
        message += f" ({total - stored} already stored)"
    schedule_deliveries(ctx, body, fresh)
    return _answer(ctx.operation.success_status, {"status": "success", "message": message, "jobId": job["id"]})


# What the official client (timeback-caliper, platform="LEARNWITH_AI") puts on every event it turns
# into LearnWith.AI's shapes: the session it asks the platform to attach, and (for Timeback profile
# events) the AggregationProfile.
LEARNWITH_SESSION = "urn:tag:auto-attach"
LEARNWITH_PROFILE = "AggregationProfile"


def learnwith_shaped(body: Any) -> bool:
    """An envelope the official client built for LearnWith.AI: every data item carries its marks.

    With `platform="LEARNWITH_AI"` and an explicit `base_url` the client keeps Beyond's paths, so that
    envelope arrives at `/caliper/event`; it is judged as on `/caliper/v1p2` (envelope only)."""
    data = body.get("data") if isinstance(body, dict) else None
    return bool(data) and isinstance(data, list) and all(
        isinstance(item, dict) and (item.get("session") == LEARNWITH_SESSION or item.get("profile") == LEARNWITH_PROFILE)
        for item in data)


def send(ctx: RequestContext) -> Response:
    return _ingest(ctx, platform=learnwith_shaped(ctx.body))


def send_platform(ctx: RequestContext) -> Response:
    return _ingest(ctx, platform=True)


def validate_only(ctx: RequestContext) -> Response:
    judge(ctx.body)
    count = len(ctx.body["data"])
    return _answer(200, {"status": "success", "message": f"{count} data item{'s' if count != 1 else ''} valid",
                         "errors": []})


# ----------------------------------------------------------------------------------------------
# Reading events
# ----------------------------------------------------------------------------------------------


def _bound(name: str, text: str, end: bool) -> Predicate:
    text = text.strip()
    try:
        if _DATE_ONLY.match(text):
            day = date.fromisoformat(text)
            if end and day == date.max:
                return Predicate("eventTimeUtc", "<=", "9999-12-31T23:59:59.999999Z")
            if end:  # a plain end date includes its whole day
                return Predicate("eventTimeUtc", "<", (day + timedelta(days=1)).isoformat() + "T00:00:00.000000Z")
            return Predicate("eventTimeUtc", ">=", day.isoformat() + "T00:00:00.000000Z")
    except ValueError:
        pass
    moment = _utc(text)
    if moment is None or not text:
        raise ApiError(400, f"query parameter {name!r} must be an ISO 8601 date or date-time, got {text!r}",
                       [{"path": f"$.{name}", "rule": "caliper.query.date", "message": "not an ISO 8601 date"}])
    return Predicate("eventTimeUtc", "<=" if end else ">=", moment)


def list_events(ctx: RequestContext) -> Response:
    query = ctx.query
    limit = int(query.get("limit", DEFAULT_LIMIT))
    offset = min(int(query.get("offset", 0)), MAX_OFFSET)
    preds: list[Predicate] = []
    for param, field in (("sensor", "sensor"), ("actorId", "actorId")):
        if query.get(param) not in (None, ""):
            preds.append(Predicate(field, "=", str(query[param])))
    if query.get("actorEmail") not in (None, ""):
        preds.append(Predicate("actorEmail", "=", str(query["actorEmail"]).strip().lower()))
    if query.get("startDate") not in (None, ""):
        preds.append(_bound("startDate", str(query["startDate"]), end=False))
    if query.get("endDate") not in (None, ""):
        preds.append(_bound("endDate", str(query["endDate"]), end=True))
    compiler = Compiler(ctx.collection(EVENTS).fields)
    where = compiler.compile(BoolExpr("AND", tuple(preds)) if len(preds) > 1 else preds[0]) if preds else "1"
    total, rows = ctx.store.page(EVENTS, where, compiler.params, "seq", limit, offset)
    events = [_wire(orjson.loads(r), INTERNAL) for r in rows]
    pagination = {"total": total, "totalPages": math.ceil(total / limit), "currentPage": offset // limit + 1,
                  "limit": limit}
    # status/message: the shape caliper-api.yaml publishes; events/pagination: what clients read
    return _answer(200, {"status": "success", "message": f"{len(events)} of {total} events",
                         "events": events, "pagination": pagination})


def get_event(ctx: RequestContext) -> Response:
    external = ctx.path_params["externalId"]
    record = ctx.store.get(EVENTS, external)
    if record is None:
        raise ApiError(404, f"event {external!r} not found")
    return _answer(200, {"event": _wire(record, INTERNAL)})


# ----------------------------------------------------------------------------------------------
# Webhooks and webhook filters
# ----------------------------------------------------------------------------------------------


def _select(ctx_or_store: Any, collection: str, field: str | None = None, value: str | None = None,
            fields: Any = None) -> list[dict[str, Any]]:
    store = getattr(ctx_or_store, "store", ctx_or_store)
    if field is None:
        return [orjson.loads(r) for r in store.select(collection)]
    compiler = Compiler(fields)
    where = compiler.compile(Predicate(field, "=", value))
    return [orjson.loads(r) for r in store.select(collection, where, compiler.params)]


def _target_url(value: str) -> None:
    try:
        parts = urlsplit(value)
        usable = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        usable = False
    if not usable:
        raise ApiError(400, f"targetUrl must be an absolute http or https URL, got {value!r}",
                       [{"path": "$.targetUrl", "rule": "webhooks.target-url", "message": "not an http(s) URL"}])


def webhook_written(ctx: RequestContext, record: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """What the schema's pattern cannot judge: the target must parse as a URL with a usable port."""
    _target_url(str(record.get("targetUrl", "")))
    return record


def _filter_values(record: dict[str, Any]) -> list[str]:
    raw = record["filterValue"]
    return [v.strip() for v in raw.split(",")] if record["filterOperator"] in ("in", "notIn") else [raw]


def filter_written(ctx: RequestContext, record: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """A filter's value must mean something to the matcher: a number, a boolean, a regex Python's `re`
    compiles (the schema checks the spelling; this checks with the code that will match)."""
    problems = []
    kind, op = record["filterType"], record["filterOperator"]
    for value in _filter_values(record):
        if kind == "number" and not _reads_as_number(value):
            problems.append(f"filterValue {value!r} is not a number")
        elif kind == "boolean" and value.strip().lower() not in ("true", "false"):
            problems.append(f"filterValue {value!r} is not true or false")
    if op == "regexp":
        try:
            _regex(record["filterValue"])
        except re.error as exc:
            problems.append(f"filterValue is not a valid regular expression: {exc}")
    if problems:
        raise ApiError(400, "; ".join(problems),
                       [{"path": "$.filterValue", "rule": "webhooks.filter-value", "message": p} for p in problems])
    return record


# ----------------------------------------------------------------------------------------------
# Filter matching and delivery planning
# ----------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _reads_as_number(value: str) -> bool:
    try:
        float(value.strip())
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _leaves(node: Any, key: str) -> list[Any]:
    """Values at a dotted path; arrays on the way (and at the end) yield each element; an entity
    given as an object stands for its id."""
    values = [node]
    for name in key.split("."):
        nxt: list[Any] = []
        for value in values:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and name in item:
                    nxt.append(item[name])
        values = nxt
    out: list[Any] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                item = item.get("id")
            if item is not None and not isinstance(item, (dict, list)):
                out.append(item)
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _typed(value: Any, kind: str) -> Any:
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        return {"true": True, "false": False}.get(value.strip().lower()) if isinstance(value, str) else None
    return _text(value)


def _test(op: str, kind: str, value: Any, wanted: str) -> bool:
    if op in ("contains", "startsWith", "endsWith", "regexp"):
        text = _text(value)
        if op == "contains":
            return wanted in text
        if op == "startsWith":
            return text.startswith(wanted)
        if op == "endsWith":
            return text.endswith(wanted)
        return _regex(wanted).search(text) is not None
    have = _typed(value, kind)
    if have is None:
        return False
    if op == "in":
        return any(have == _typed(v.strip(), kind) for v in wanted.split(","))
    target = _typed(wanted, kind)
    if target is None:
        return False
    if op == "eq":
        return have == target
    try:
        return {"gt": have > target, "gte": have >= target, "lt": have < target, "lte": have <= target}[op]
    except (KeyError, TypeError):
        return False


NEGATED = {"neq": "eq", "notContains": "contains", "notIn": "in"}


def filter_matches(flt: dict[str, Any], event: dict[str, Any], sensor: str) -> bool:
    """One webhook filter against one event. A missing value matches only negative operators."""
    key = str(flt.get("filterKey", ""))
    values = _leaves(event, key)
    if not values and key == "sensor":
        values = [sensor]
    op = str(flt.get("filterOperator", "eq"))
    positive = NEGATED.get(op, op)
    kind = str(flt.get("filterType", "string"))
    wanted = str(flt.get("filterValue", ""))
    try:
        hit = any(_test(positive, kind, v, wanted) for v in values)
    except re.error:
        hit = False
    return not hit if op in NEGATED else hit


def webhook_wants(hook: dict[str, Any] | None, filters: Iterable[dict[str, Any]], event: dict[str, Any],
                  sensor: str) -> bool:
    """An active webhook of this sensor (or of none) whose active filters all match the event."""
    if hook is None or hook.get("active") is not True:
        return False
    if hook.get("sensor") not in (None, "") and hook["sensor"] != sensor:
        return False
    return all(filter_matches(f, event, sensor) for f in filters if f.get("active") is True)


def signature(secret: str, body: bytes) -> str:
    """The value of the X-Timeback-Signature header: `sha256=<hex HMAC-SHA256 of the body>`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def plan_deliveries(sandbox: Any, sensor: str, events: list[dict[str, Any]],
                    active_then: frozenset[str] | None = None) -> Iterator[Outbound]:
    """Run on the delivery thread: one signed POST per (matching webhook, event).

    `active_then`: the webhooks active when the events were stored. An event goes only to those
    (and only while they stay active), so one sent before an activation is never delivered after it.
    """
    store = sandbox.store
    filter_fields = sandbox.collections[FILTERS].fields
    with store.lock:  # a consistent view: never in the middle of a request's transaction
        hooks = [h for h in _select(store, WEBHOOKS) if h.get("active") is True
                 and (active_then is None or h.get("id") in active_then)]
        filters = _select(store, FILTERS) if hooks else []
    by_hook: dict[str, list[dict[str, Any]]] = {}
    for flt in filters:
        by_hook.setdefault(flt.get("webhookId"), []).append(flt)

    def still_wanted(hook_id: str, event: dict[str, Any]) -> bool:
        with store.lock:
            raw = store.get_raw(WEBHOOKS, hook_id)
            current = _select(store, FILTERS, "webhookId", hook_id, filter_fields) if raw else []
        return raw is not None and webhook_wants(orjson.loads(raw), current, event, sensor)

    for event in events:
        body = orjson.dumps(event)
        for hook in hooks:
            if not webhook_wants(hook, by_hook.get(hook["id"], []), event, sensor):
                continue
            yield Outbound(
                url=hook["targetUrl"], body=body,
                headers={"Content-Type": "application/json", "User-Agent": "tbconform-sandbox",
                         SIGNATURE_HEADER: signature(str(hook["secret"]), body),
                         "X-Timeback-Webhook-Id": hook["id"]},
                label={"webhookId": hook["id"], "eventId": event.get("id")},
                wanted=functools.partial(still_wanted, hook["id"], event))


def schedule_deliveries(ctx: RequestContext, envelope: dict[str, Any], fresh: list[dict[str, Any]]) -> None:
    deliveries = getattr(ctx.sandbox, "deliveries", None)
    if not fresh or deliveries is None or ctx.store.count(WEBHOOKS) == 0:
        return
    sandbox, sensor = ctx.sandbox, envelope["sensor"]
    active_then = frozenset(str(h.get("id")) for h in _select(ctx.store, WEBHOOKS) if h.get("active") is True)
    if active_then:
        deliveries.plan(lambda: plan_deliveries(sandbox, sensor, fresh, active_then))


BEHAVIOURS = {
    "caliper.send": send,
    "caliper.send-platform": send_platform,
    "caliper.validate": validate_only,
    "caliper.list": list_events,
    "caliper.get": get_event,
}
WRITE_HOOKS = {WEBHOOKS: webhook_written, FILTERS: filter_written}
ERROR_STYLES = {"caliper": caliper_envelope}

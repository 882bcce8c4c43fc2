"""Generate the Caliper 1.2 / Timeback Events and Webhooks OpenAPI 3.1 specs.

Run from the repository root:  python -m tbconform.specs.caliper._generate

Writes caliper.yaml (event ingestion, stored events, processing jobs) and webhooks.yaml (webhooks
and their filters) next to this file. Timeback serves both on its caliper host. The schemas below
describe the wire; what a Caliper event must be is judged by specs/caliper/validate.py (the
ingestion behaviour calls it), so the envelope's request schema is deliberately no stricter than
that validator (and cheap, since it runs on every send): it checks the envelope's members and that
each data item is an object with a string id and type, and leaves the event rules to the behaviour,
which names the failing events.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tbconform.specs.schema_kit import (add_operation, arr, components_for, dump_yaml, enum, finish_operation,
                                         obj, s, sref)
from tbconform.specs.caliper.validate import IRI_PATTERN

HERE = Path(__file__).resolve().parent
SPECS = ("caliper", "webhooks")
SERVERS = [
    {"url": "http://127.0.0.1:8765", "description": "sandbox"},
    {"url": "https://caliper.alpha-1edtech.ai"},
    {"url": "https://caliper.staging.alpha-1edtech.ai"},
]
SCOPE = "https://purl.imsglobal.org/spec/caliper/v1p1/scope/"
SCOPES = {
    "admin": "Full access to every Caliper and webhook endpoint",
    "event.create": "Send (and validate) Caliper events",
    "event.readonly": "Read stored events and job status (sandbox addition, see x-tb-differences)",
    "webhook.create": "Create, change and delete webhooks and webhook filters",
    "webhook.readonly": "Read webhooks and webhook filters",
}
DATA_VERSION = "http://purl.imsglobal.org/ctx/caliper/v1p2"
LIMIT_MAX = 3000
SENT = "2025-09-15T14:05:00.000Z"
EVENT_TIME = "2025-09-15T14:03:12.000Z"
EVENT_ID = "urn:uuid:6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
JOB_ID = "2f4e6a8c-0b1d-4e3f-9a5c-7d9e1b3f5a7c"
WEBHOOK_ID = "0c9a7b5d-3e1f-4a2b-8c6d-4e2f0a8b6c1d"
FILTER_ID = "7e5c3a1b-9d8f-4b6a-a2c4-e6f8a0b2c4d6"
STAMP = "2025-09-01T08:00:00.000Z"

# ----------------------------------------------------------------------------------------------
# Schemas
# ----------------------------------------------------------------------------------------------

LIB: dict[str, dict[str, Any]] = {k: {} for k in ("schemas", "parameters", "requestBodies", "responses",
                                                  "securitySchemes")}
SCHEMAS = LIB["schemas"]

# Where an event names a participant it may give an IRI or the entity itself.
NODE = {"type": ["string", "object"], "description": "An IRI, or the entity itself."}
NODE_READ = {"type": ["string", "object", "null"]}

ACTOR = {"id": "https://api.alpha-1edtech.ai/ims/oneroster/rostering/v1p2/users/user-0001",
         "type": "TimebackUser", "email": "ada.student@example.org"}
ACTIVITY = {"id": "https://app.example.org/activities/fractions-quiz-3", "type": "TimebackActivityContext",
            "subject": "Math", "app": {"name": "Example Math"},
            "course": {"id": "https://api.alpha-1edtech.ai/ims/oneroster/rostering/v1p2/courses/course-0001",
                       "name": "Math G4"},
            "activity": {"name": "Fractions quiz 3"}}
METRICS = {"id": "https://app.example.org/metrics/fractions-quiz-3/1",
           "type": "TimebackActivityMetricsCollection",
           "items": [{"type": "totalQuestions", "value": 10}, {"type": "correctQuestions", "value": 8},
                     {"type": "xpEarned", "value": 12}]}
EVENT = {"@context": DATA_VERSION, "id": EVENT_ID, "type": "ActivityEvent", "profile": "TimebackProfile",
         "actor": ACTOR, "action": "Completed", "object": ACTIVITY, "generated": METRICS,
         "eventTime": EVENT_TIME}
ENVELOPE = {"sensor": "https://app.example.org/sensors/main", "sendTime": SENT, "dataVersion": DATA_VERSION,
            "data": [EVENT]}

SCHEMAS["CaliperEvent"] = obj({
    "@context": s(description=f"JSON-LD context; `{DATA_VERSION}` for Caliper 1.2."),
    "id": s(description="The event's id, a UUID URN (`urn:uuid:...`); stored as the event's externalId."),
    "type": s(description="Event type, e.g. ActivityEvent, TimeSpentEvent, AssessmentItemEvent, GradeEvent."),
    "profile": s(description="Caliper profile, e.g. TimebackProfile, AssessmentProfile, GradingProfile."),
    "actor": NODE, "action": s(description="The action the event type allows, e.g. Completed."),
    "object": NODE, "eventTime": s(description="When it happened: an ISO 8601 date-time in UTC."),
    "edApp": NODE, "generated": NODE, "target": NODE, "referrer": NODE, "group": NODE, "membership": NODE,
    "session": NODE, "federatedSession": NODE,
    "extensions": s("object", additionalProperties=True),
}, ["id", "type", "actor", "action", "object", "eventTime"],
    description="A Caliper 1.2 event (the Timeback profile adds TimebackUser actors, activity contexts "
                "and metric collections). The rules per event type are the validator's "
                "(specs/caliper/validate.py), not this schema's.",
    example=EVENT)
SCHEMAS["CaliperEntity"] = obj(
    {"@context": s(), "id": s(minLength=1), "type": s(minLength=1)}, ["id", "type"],
    description="A Caliper entity sent on its own (an entity describe).",
    example={"id": "https://app.example.org/activities/fractions-quiz-3", "type": "AssignableDigitalResource",
             "name": "Fractions quiz 3"})
# What the request schema checks of each data item: cheap (jsonschema runs on every send, before the
# validator) and never stricter than the validator, which judges the item as an event or entity.
SCHEMAS["CaliperDataItem"] = obj(
    {"id": s(minLength=1), "type": s(minLength=1)}, ["id", "type"],
    description="One item of an envelope's data: an event (see CaliperEvent) or an entity describe (see "
                "CaliperEntity). This schema asks only for a string id and type; the Caliper validator "
                "(specs/caliper/validate.py) judges the rest and names what is wrong.",
    example=EVENT)
# An IRI exactly as the validator reads one, so a schema-valid envelope is never refused for its sensor.
SENSOR_IRI = IRI_PATTERN
SCHEMAS["CaliperEnvelope"] = obj({
    "sensor": s(pattern=SENSOR_IRI, description="The sending sensor's id (an IRI)."),
    "sendTime": s(format="date-time", description="When the envelope was sent: an ISO 8601 date-time in UTC."),
    "dataVersion": {"type": "string", "const": DATA_VERSION},
    "data": arr(sref("CaliperDataItem"), minItems=1,
                description="Events and entity describes; at least one."),
}, ["sensor", "sendTime", "dataVersion", "data"],
    description="What a sensor sends: one or more events (or entities) with the sensor's id.",
    example=ENVELOPE)

PROBLEM = obj({
    "path": s(description="JSON path of the offending value, e.g. `$.data[2].action`."),
    "rule": s(description="Stable id of the rule it breaks, e.g. `caliper.event.action-allowed`."),
    "message": s(),
    "index": s("integer", nullable=True, description="Index of the failing data item (null: the envelope)."),
    "id": s(nullable=True, description="That data item's id, when it has one."),
    "field": s(nullable=True, description="The field inside the data item, e.g. `actor.id`."),
}, ["path", "rule", "message"])
SCHEMAS["Problem"] = {**PROBLEM, "description": "One reason a request was refused.",
                      "example": {"path": "$.data[0].action", "rule": "caliper.event.action-allowed",
                                  "message": "ActivityEvent does not allow action 'Graded'", "index": 0,
                                  "id": EVENT_ID, "field": "action"}}
SCHEMAS["CaliperError"] = obj({
    "status": {"type": "string", "const": "error"}, "message": s(),
    "errors": {"description": "What was wrong, one entry per problem (Timeback types it `any`; "
                              "the sandbox always sends a list of Problem).",
               "type": "array", "items": sref("Problem")},
}, ["status", "message"], description="Caliper's error envelope.",
    example={"status": "error", "message": "envelope refused: data[0] (" + EVENT_ID + "): action: "
                                           "ActivityEvent does not allow action 'Graded'",
             "errors": [SCHEMAS["Problem"]["example"]]})
SCHEMAS["SendResult"] = obj({
    "status": {"type": "string", "const": "success"}, "message": s(),
    "jobId": s(description="The processing job; `GET /jobs/{jobId}/status` reports it."),
    "errors": {"description": "Absent on success."},
}, ["status", "message", "jobId"],
    description="Answer to a send: Timeback's documented `{status, message}` plus the `jobId` the official "
                "client reads (see x-tb-differences).",
    example={"status": "success", "message": "1 event accepted for processing", "jobId": JOB_ID})
SCHEMAS["ValidationResult"] = obj({
    "status": {"type": "string", "const": "success"}, "message": s(),
    "errors": arr(sref("Problem"), maxItems=0),
}, ["status", "message"], description="Answer to a validation of a valid envelope (invalid: 400 CaliperError).",
    example={"status": "success", "message": "1 data item is valid", "errors": []})

STORED_EVENT_PROPS: dict[str, Any] = {
    "id": s("integer", minimum=1, description="Allocated by the server, in order of arrival."),
    "externalId": s(description="The event's own id (`urn:uuid:...`), as sent."),
    "sensor": s(description="The envelope's sensor."),
    "type": s(), "profile": s(nullable=True), "action": s(),
    "eventTime": s(), "sendTime": s(description="The envelope's sendTime."),
    "created_at": s(description="When the server stored the event."),
    "updated_at": s(nullable=True), "deleted_at": s(nullable=True),
    **{k: NODE_READ for k in ("actor", "object", "generated", "target", "referrer", "edApp", "group",
                              "membership", "session", "federatedSession")},
    "extensions": s("object", nullable=True, additionalProperties=True),
    "clientAppId": s(nullable=True, description="The OAuth client that sent the event."),
}
STORED_REQUIRED = ["id", "externalId", "sensor", "type", "action", "eventTime", "sendTime", "created_at"]
STORED = {"id": 1, "externalId": EVENT_ID, "sensor": ENVELOPE["sensor"], "type": "ActivityEvent",
          "profile": "TimebackProfile", "action": "Completed", "eventTime": EVENT_TIME, "sendTime": SENT,
          "created_at": "2025-09-15T14:05:00.210Z", "updated_at": None, "deleted_at": None, "actor": ACTOR,
          "object": ACTIVITY, "generated": METRICS, "target": None, "referrer": None, "edApp": None,
          "group": None, "membership": None, "session": None, "federatedSession": None, "extensions": None,
          "clientAppId": "tbconform-sandbox"}
SCHEMAS["StoredEvent"] = obj(copy.deepcopy(STORED_EVENT_PROPS), STORED_REQUIRED,
                             description="An event as stored: the event's members plus the server's "
                                         "bookkeeping.", example=STORED)
# The store's record of an event: StoredEvent plus the fields the list filters use (never sent).
INTERNAL = {
    "sourcedId": s(description="Store key: the externalId."),
    "actorId": s(nullable=True, description="The actor's IRI (the string, or the object's id)."),
    "actorEmail": s(nullable=True, description="The actor's email, lower-cased."),
    "actorKey": s(nullable=True, description="The last segment of the actor's id (a OneRoster sourcedId "
                                             "in a users URL or a urn:uuid), so analytics find a student's "
                                             "events by sourcedId."),
    "eventTimeUtc": s(nullable=True, description="eventTime normalised to UTC, microsecond precision."),
}
SCHEMAS["StoredEventRecord"] = obj({**copy.deepcopy(STORED_EVENT_PROPS), **INTERNAL},
                                   STORED_REQUIRED + ["sourcedId"],
                                   description="Store record of an event (internal): StoredEvent plus the "
                                               "list filters' fields, which the sandbox strips from answers.",
                                   **{"x-tb-internal": sorted(INTERNAL)},
                                   example={**STORED, "sourcedId": EVENT_ID, "actorId": ACTOR["id"],
                                            "actorEmail": ACTOR["email"], "actorKey": ACTOR["id"].rsplit("/", 1)[-1],
                                            "eventTimeUtc": "2025-09-15T14:03:12.000000Z"})
SCHEMAS["Pagination"] = obj({
    "total": s("integer", minimum=0), "totalPages": s("integer", minimum=0),
    "currentPage": s("integer", minimum=1), "limit": s("integer", minimum=1),
}, ["total", "totalPages", "currentPage", "limit"], description="Where a page of events stands.",
    example={"total": 1, "totalPages": 1, "currentPage": 1, "limit": 100})
SCHEMAS["EventList"] = obj({"status": {"type": "string", "const": "success"}, "message": s(),
                           "events": arr(sref("StoredEvent")), "pagination": sref("Pagination")},
                           ["status", "message", "events", "pagination"],
                           description="A page of stored events, oldest first.",
                           example={"status": "success", "message": "1 of 1 events", "events": [STORED],
                                    "pagination": SCHEMAS["Pagination"]["example"]})
SCHEMAS["EventSingle"] = obj({"event": sref("StoredEvent")}, ["event"], description="One stored event.",
                             example={"event": STORED})
JOB = {"id": JOB_ID, "state": "completed",
       "returnValue": {"status": "success", "results": [{"allocatedId": "1", "externalId": EVENT_ID}]},
       "processedOn": "2025-09-15T14:05:00.210Z"}
SCHEMAS["JobStatus"] = obj({
    "id": s(), "state": enum("waiting", "active", "completed", "failed"),
    "returnValue": obj({"status": enum("success", "error"), "results": arr(obj(
        {"allocatedId": s(description="The StoredEvent id, as a string."), "externalId": s()},
        ["allocatedId", "externalId"]))}, ["status", "results"], nullable=True),
    "processedOn": s(nullable=True),
}, ["id", "state"], description="A send's processing job. The sandbox processes a send before answering it, "
                                "so its job is always completed.", example=JOB)
SCHEMAS["JobRecord"] = obj({**copy.deepcopy(SCHEMAS["JobStatus"]["properties"]),
                            "sourcedId": s(description="Store key: the job id (also sent, as a binding "
                                                       "answers the stored record).")},
                           ["id", "state", "sourcedId"], description="Store record of a job.",
                           example={**JOB, "sourcedId": JOB_ID})
SCHEMAS["JobStatusResponse"] = obj({"job": sref("JobStatus")}, ["job"], description="A job's status.",
                                   example={"job": JOB})

# --- webhooks ---------------------------------------------------------------------------------
FILTER_TYPES = ("string", "number", "boolean")
FILTER_OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "contains", "notContains", "in", "notIn",
                    "startsWith", "endsWith", "regexp")
WEBHOOK_IN = {"name": "Grades dashboard", "targetUrl": "https://hooks.example.org/timeback",
              "secret": "change-me-shared-secret", "active": True,
              "sensor": "https://app.example.org/sensors/main", "description": "Completed activities"}
WEBHOOK = {"id": WEBHOOK_ID, **WEBHOOK_IN, "created_at": STAMP, "updated_at": STAMP, "deleted_at": None}
# Patterns no looser than what the behaviour accepts (so a schema-valid body is never refused).
PORT = "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})?)?"
# The path, query and fragment in printable ASCII: `\S` would differ between Python's re (which counts
# \x1c-\x1f and U+0085 as spaces) and the generators that draw from the pattern.
TARGET_URL = "^[Hh][Tt][Tt][Pp][Ss]?://(?:\\[::1\\]|[A-Za-z0-9._~%-]+)" + PORT + "(?:[/?#][!-~]*)?$"
# Blanks spelt out: `\s` differs between Python's re and ECMA regexes (U+0085, U+FEFF), and the
# sandbox judges with the one while generators draw with the other.
SP = "[ \\t]*"
NUMBER = "[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
BOOLEAN = "(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])"


def _listed(term: str) -> str:
    return f"^{SP}{term}{SP}(?:,{SP}{term}{SP})*$"


def _when(kind: str | None, ops: tuple[str, ...] | None, negate: bool, then: dict[str, Any]) -> dict[str, Any]:
    cond: dict[str, Any] = {}
    if kind:
        cond["filterType"] = {"const": kind}
    if ops:
        cond["filterOperator"] = {"not": {"enum": list(ops)}} if negate else {"enum": list(ops)}
    return {"if": {"properties": cond, "required": sorted(cond)}, "then": {"properties": {"filterValue": then}}}


LISTS = ("in", "notIn")
FILTER_VALUE_RULES = [
    _when("number", LISTS, False, {"pattern": _listed(NUMBER)}),
    _when("number", LISTS, True, {"pattern": f"^{SP}{NUMBER}{SP}$"}),
    _when("boolean", LISTS, False, {"pattern": _listed(BOOLEAN)}),
    _when("boolean", LISTS, True, {"pattern": f"^{BOOLEAN}$"}),
    _when(None, ("regexp",), False, {"format": "regex"}),
]
SCHEMAS["WebhookInput"] = obj({
    "name": s(minLength=1), "targetUrl": s(minLength=1, pattern=TARGET_URL,
                                             description="Where matching events are POSTed (http or https)."),
    "secret": s(minLength=1, description="Key of the HMAC-SHA256 signature on every delivery."),
    "active": s("boolean"), "sensor": s(nullable=True, description="Only events of this sensor, when set."),
    "description": s(nullable=True),
}, ["name", "targetUrl", "secret", "active"], description="A webhook as created or replaced.",
    example=WEBHOOK_IN)
SCHEMAS["Webhook"] = obj({
    "id": s(), "name": s(), "targetUrl": s(), "secret": s(), "active": s("boolean"),
    "sensor": s(nullable=True), "description": s(nullable=True),
    "created_at": s(nullable=True), "updated_at": s(nullable=True), "deleted_at": s(nullable=True),
}, ["id", "name", "targetUrl", "secret", "active"], description="A registered webhook.", example=WEBHOOK)
SCHEMAS["WebhookResponse"] = obj({"webhook": sref("Webhook")}, ["webhook"], description="One webhook.",
                                 example={"webhook": WEBHOOK})
SCHEMAS["WebhookList"] = obj({"webhooks": arr(sref("Webhook"))}, ["webhooks"], description="Webhooks.",
                             example={"webhooks": [WEBHOOK]})
FILTER_IN = {"webhookId": WEBHOOK_ID, "filterKey": "type", "filterValue": "ActivityEvent",
             "filterType": "string", "filterOperator": "eq", "active": True}
FILTER = {"id": FILTER_ID, **FILTER_IN, "created_at": STAMP, "updated_at": STAMP, "deleted_at": None}
SCHEMAS["WebhookFilterInput"] = obj({
    "webhookId": s(minLength=1),
    "filterKey": s(minLength=1, description="Dotted path into the event, e.g. `type`, `action`, `actor.email`, "
                                            "`object.subject`, `generated.items.type` (any array element); "
                                            "`sensor` is the envelope's sensor."),
    "filterValue": s(minLength=1, description="Compared as filterType says; `in`/`notIn` take a comma list."),
    "filterType": enum(*FILTER_TYPES), "filterOperator": enum(*FILTER_OPERATORS), "active": s("boolean"),
}, ["webhookId", "filterKey", "filterValue", "filterType", "filterOperator", "active"],
    description="A filter as created or replaced. All active filters of a webhook must match an event. A "
                "number or boolean filterValue must read as one (a comma list of them for in/notIn), and a "
                "regexp one must compile.",
    allOf=FILTER_VALUE_RULES, example=FILTER_IN)
SCHEMAS["WebhookFilter"] = obj({
    "id": s(), "webhookId": s(**{"x-tb-ref": "webhooks"}), "filterKey": s(), "filterValue": s(), "filterType": enum(*FILTER_TYPES),
    "filterOperator": enum(*FILTER_OPERATORS), "active": s("boolean"),
    "created_at": s(nullable=True), "updated_at": s(nullable=True), "deleted_at": s(nullable=True),
}, ["id", "webhookId", "filterKey", "filterValue", "filterType", "filterOperator", "active"],
    description="A filter on the events a webhook receives.", example=FILTER)
SCHEMAS["WebhookFilterResponse"] = obj({"filter": sref("WebhookFilter")}, ["filter"],
                                       description="One webhook filter.", example={"filter": FILTER})
SCHEMAS["WebhookFilterList"] = obj({"filters": arr(sref("WebhookFilter"))}, ["filters"],
                                   description="Webhook filters.", example={"filters": [FILTER]})
SCHEMAS["DeleteMessage"] = obj({"message": s()}, ["message"], description="Answer to a delete.",
                               example={"message": "webhook deleted"})

# --- shared components -----------------------------------------------------------------------
ERRORS = {  # status: (component name, description)
    "400": ("BadRequest", "The request is malformed or invalid (bad JSON, parameter or body; an invalid "
                          "envelope names each failing data item)."),
    "401": ("Unauthorized", "Missing, expired or invalid bearer token."),
    "403": ("Forbidden", "The token lacks the scope this operation needs."),
    "404": ("NotFound", "The event, job, webhook or filter does not exist."),
    "405": ("MethodNotAllowed", "The path exists but not with this method."),
    "413": ("PayloadTooLarge", "The request body is too large."),
    "415": ("UnsupportedMediaType", "The request body is not application/json."),
    "422": ("UnprocessableEntity", "The body names a record that does not exist."),
    "429": ("TooManyRequests", "Rate limited; retry after `Retry-After` seconds."),
    "500": ("InternalServerError", "Unexpected server failure."),
}
for _status, (_name, _desc) in ERRORS.items():
    LIB["responses"][_name] = {"description": _desc, "content": {"application/json": {
        "schema": sref("CaliperError"), "example": {"status": "error", "message": _desc, "errors": []}}}}
DATE_OR_TIME = {"type": "string", "maxLength": 64,
                "anyOf": [{"format": "date"}, {"format": "date-time"}], "example": "2025-09-15"}
LIB["parameters"] = {
    "Limit": {"name": "limit", "in": "query", "required": False, "description": "Page size.",
              "schema": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": 100}},
    "Offset": {"name": "offset", "in": "query", "required": False, "description": "Events to skip.",
               "schema": {"type": "integer", "minimum": 0, "default": 0}},
    "Sensor": {"name": "sensor", "in": "query", "required": False,
               "description": "Only events sent by this sensor (exact).", "schema": {"type": "string"}},
    "StartDate": {"name": "startDate", "in": "query", "required": False,
                  "description": "Only events with eventTime at or after this date (its first instant, UTC) or "
                                 "date-time (RFC 3339).", "schema": DATE_OR_TIME},
    "EndDate": {"name": "endDate", "in": "query", "required": False,
                "description": "Only events with eventTime at or before this date-time (RFC 3339); a plain date "
                               "includes that whole day (UTC).", "schema": DATE_OR_TIME},
    "ActorId": {"name": "actorId", "in": "query", "required": False,
                "description": "Only events whose actor is this IRI (the actor string or its `id`).",
                "schema": {"type": "string"}},
    "ActorEmail": {"name": "actorEmail", "in": "query", "required": False,
                   "description": "Only events whose actor has this email (case-insensitive).",
                   "schema": {"type": "string"}},
    "WebhookSensor": {"name": "sensor", "in": "query", "required": False,
                      "description": "Only webhooks registered for this sensor.", "schema": {"type": "string"}},
}
LIB["securitySchemes"] = {"OAuth2": {
    "type": "oauth2", "description": "OAuth 2.0 client credentials; the token carries the granted scopes.",
    "flows": {"clientCredentials": {"tokenUrl": "/oauth2/token",
                                    "scopes": {SCOPE + k: v for k, v in SCOPES.items()}}}}}


def json_body(schema: str, description: str) -> dict[str, Any]:
    return {"required": True, "description": description, "content": {"application/json": {
        "schema": sref(schema), "example": SCHEMAS[schema]["example"]}}}


def answer(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": sref(schema)}}}


LIB["requestBodies"] = {
    "Envelope": json_body("CaliperEnvelope", "A Caliper envelope."),
    "WebhookInput": json_body("WebhookInput", "The webhook (the whole of it: a PUT replaces every field)."),
    "WebhookFilterInput": json_body("WebhookFilterInput", "The filter (a PUT replaces every field)."),
}

# ----------------------------------------------------------------------------------------------
# Operations: one row each
# ----------------------------------------------------------------------------------------------


@dataclass
class Op:
    spec: str
    method: str
    path: str
    operation_id: str
    summary: str
    rights: tuple[str, ...]  # scope names any one of which (or admin) grants the call
    ok: tuple[str, dict[str, Any]]  # success status and response
    behaviour: str | None = None
    binding: dict[str, Any] | None = None
    body: str | None = None  # requestBodies component
    params: tuple[str, ...] = ()  # parameters components
    errors: tuple[str, ...] = ()  # extra error statuses
    tag: str = ""
    judged_by: str | None = None  # x-tb-body-validator: the registered validator judging the body
    description: str = ""


EV, WH = "caliper", "webhooks"
# Webhooks and their filters are written unwrapped (`$`: the body is the record), keyed by `id`,
# answered under `webhook` / `filter`; collections declare the key, stamps and hard delete.
HOOKS = {"collection": "webhooks", "bodyKey": "$", "defaults": {"sensor": None, "description": None, "deleted_at": None}}
ONE_HOOK = {"id": "id", "respond": "wrapped", "responseKeys": ["webhook"]}
FILTERS = {"collection": "webhookFilters", "bodyKey": "$", "defaults": {"deleted_at": None}}
ONE_FILTER = {"id": "id", "respond": "wrapped", "responseKeys": ["filter"]}
SEND, READ = ("event.create",), ("event.readonly", "event.create")
WH_READ, WH_WRITE = ("webhook.readonly", "webhook.create"), ("webhook.create",)
LIST_PARAMS = ("Limit", "Offset", "Sensor", "StartDate", "EndDate", "ActorId", "ActorEmail")
OPS: list[Op] = [
    Op(EV, "post", "/caliper/event", "sendEvents", "Send Caliper events (Caliper 1.2 and the Timeback profile)",
       SEND, ("200", answer("SendResult", "Every data item is valid; the events are stored and the answer names "
                                          "their job.")),
       behaviour="caliper.send", body="Envelope", tag="events", judged_by="caliper",
       description="The envelope and every data item are judged by the Caliper validator. One invalid item "
                   "refuses the whole envelope (400, nothing stored), naming each failing item by index and "
                   "id with its field. Events whose id is already stored are not stored again."),
    Op(EV, "post", "/caliper/event/validate", "validateEvents", "Validate Caliper events without storing them",
       SEND, ("200", answer("ValidationResult", "Every data item is valid.")),
       behaviour="caliper.validate", body="Envelope", tag="events", judged_by="caliper",
       description="The same verdict as a send (400 with the same problems when invalid); nothing is stored."),
    Op(EV, "get", "/caliper/events", "listEvents", "List stored events", READ,
       ("200", answer("EventList", "A page of stored events, oldest first.")),
       behaviour="caliper.list", params=LIST_PARAMS, tag="events"),
    Op(EV, "get", "/caliper/events/{externalId}", "getEvent", "Get one stored event by its external id", READ,
       ("200", answer("EventSingle", "The stored event.")), behaviour="caliper.get", tag="events"),
    Op(EV, "post", "/caliper/v1p2", "sendEventsLearnWithAI",
       "Send Caliper events on the LearnWith.AI platform path", SEND,
       ("200", answer("SendResult", "The envelope is valid; the events are stored.")),
       behaviour="caliper.send-platform", body="Envelope", tag="events",
       description="The LearnWith.AI platform's send path. Its clients send that platform's event shapes "
                   "(AggregationProfile, PascalCase metrics), so only the envelope is judged here."),
    Op(EV, "get", "/jobs/{jobId}/status", "getJobStatus", "Processing status of a send", READ,
       ("200", answer("JobStatusResponse", "The job.")),
       binding={"collection": "caliperJobs", "action": "get", "id": "jobId", "responseKeys": ["job"]},
       tag="jobs"),
    # webhooks: plain CRUD on two hard-deleting collections, as bindings
    Op(WH, "get", "/webhooks", "listWebhooks", "List webhooks", WH_READ,
       ("200", answer("WebhookList", "The webhooks (all of them, or a sensor's).")),
       binding={**HOOKS, "action": "list", "paging": "none", "params": {"sensor": "sensor"},
                "responseKeys": ["webhooks"]}, params=("WebhookSensor",), tag="webhooks"),
    Op(WH, "post", "/webhooks", "createWebhook", "Create a webhook", WH_WRITE,
       ("201", answer("WebhookResponse", "The created webhook.")),
       binding={**HOOKS, "action": "create", **ONE_HOOK}, body="WebhookInput", tag="webhooks"),
    Op(WH, "get", "/webhooks/{id}", "getWebhook", "Get a webhook", WH_READ,
       ("200", answer("WebhookResponse", "The webhook.")), binding={**HOOKS, "action": "get", **ONE_HOOK},
       tag="webhooks"),
    Op(WH, "put", "/webhooks/{id}", "updateWebhook", "Replace a webhook", WH_WRITE,
       ("200", answer("WebhookResponse", "The updated webhook.")),
       binding={**HOOKS, "action": "update", "replace": True, **ONE_HOOK}, body="WebhookInput", tag="webhooks"),
    Op(WH, "delete", "/webhooks/{id}", "deleteWebhook", "Delete a webhook (and its filters)", WH_WRITE,
       ("200", answer("DeleteMessage", "Deleted; no delivery starts or retries for it any more.")),
       binding={**HOOKS, "action": "delete", "id": "id", "respond": {"message": "webhook {id} deleted"}},
       tag="webhooks"),
    Op(WH, "put", "/webhooks/{id}/activate", "activateWebhook", "Activate a webhook", WH_WRITE,
       ("200", answer("WebhookResponse", "The webhook, active.")),
       binding={**HOOKS, "action": "patch", "set": {"active": True}, **ONE_HOOK}, tag="webhooks"),
    Op(WH, "put", "/webhooks/{id}/deactivate", "deactivateWebhook", "Deactivate a webhook", WH_WRITE,
       ("200", answer("WebhookResponse", "The webhook, inactive: no delivery starts or retries for it.")),
       binding={**HOOKS, "action": "patch", "set": {"active": False}, **ONE_HOOK}, tag="webhooks"),
    Op(WH, "get", "/webhook-filters", "listWebhookFilters", "List webhook filters", WH_READ,
       ("200", answer("WebhookFilterList", "Every webhook filter.")),
       binding={**FILTERS, "action": "list", "paging": "none", "responseKeys": ["filters"]},
       tag="webhook-filters"),
    Op(WH, "post", "/webhook-filters", "createWebhookFilter", "Create a webhook filter", WH_WRITE,
       ("201", answer("WebhookFilterResponse", "The created filter.")),
       binding={**FILTERS, "action": "create", **ONE_FILTER}, body="WebhookFilterInput", errors=("422",),
       tag="webhook-filters"),
    Op(WH, "get", "/webhook-filters/webhook/{webhookId}", "listFiltersOfWebhook", "Filters of one webhook",
       WH_READ, ("200", answer("WebhookFilterList", "The webhook's filters.")),
       binding={**FILTERS, "action": "list", "paging": "none", "scope": "webhookId='{webhookId}'",
                "requires": {"webhookId": "webhooks"}, "responseKeys": ["filters"]}, tag="webhook-filters"),
    Op(WH, "get", "/webhook-filters/{id}", "getWebhookFilter", "Get a webhook filter", WH_READ,
       ("200", answer("WebhookFilterResponse", "The filter.")), binding={**FILTERS, "action": "get", **ONE_FILTER},
       tag="webhook-filters"),
    Op(WH, "put", "/webhook-filters/{id}", "updateWebhookFilter", "Replace a webhook filter", WH_WRITE,
       ("200", answer("WebhookFilterResponse", "The updated filter.")),
       binding={**FILTERS, "action": "update", "replace": True, **ONE_FILTER}, body="WebhookFilterInput",
       errors=("422",), tag="webhook-filters"),
    Op(WH, "delete", "/webhook-filters/{id}", "deleteWebhookFilter", "Delete a webhook filter", WH_WRITE,
       ("200", answer("DeleteMessage", "Deleted.")),
       binding={**FILTERS, "action": "delete", "id": "id", "respond": {"message": "webhook filter {id} deleted"}},
       tag="webhook-filters"),
]

# Timeback's own records (not OneRoster's): keyed by `id`, stamped created_at/updated_at, and
# removed by a delete (the webhook's filters with it: WebhookFilter.webhookId is an x-tb-ref).
TIMEBACK_RECORD = {"key": "id", "stamps": {"created": "created_at", "modified": "updated_at"}, "delete": "hard"}
COLLECTIONS = {
    EV: {"caliperEvents": {"schema": "StoredEventRecord",
                           "indexed": ["sensor", "actorId", "actorKey", "actorEmail", "eventTimeUtc"]},
         "caliperJobs": {"schema": "JobRecord"}},
    WH: {"webhooks": {"schema": "Webhook", "indexed": ["sensor"], **TIMEBACK_RECORD},
         "webhookFilters": {"schema": "WebhookFilter", "indexed": ["webhookId"], **TIMEBACK_RECORD}},
}

# Schemas a spec carries for its readers although no operation refers to them.
DOCUMENTED = {EV: ("CaliperEvent", "CaliperEntity")}

# ----------------------------------------------------------------------------------------------
# Differences (x-tb-differences)
# ----------------------------------------------------------------------------------------------

DIFFERENCES: list[dict[str, Any]] = [
    {"topic": "send answer",
     "timeback": "caliper-api.yaml answers a send with `{status: 'success', message, errors?}`; the official "
                 "client (timeback-caliper) reads `jobId` from the same answer and polls /jobs/{jobId}/status.",
     "oneEdTech": "Caliper 1.2 asks only for a 2xx.",
     "sandbox": "Answers `{status: 'success', message, jobId}`, so both readers work.", "ignore": []},
    {"topic": "list answer",
     "timeback": "caliper-api.yaml types GET /caliper/events as `{status, message}`; the official client and the "
                 "catalog read `{events: [StoredEvent], pagination: {total, totalPages, currentPage, limit}}`.",
     "oneEdTech": "Not defined (Caliper defines no read API).",
     "sandbox": "Answers both: `status: success` and a `message` beside the client's `events` and "
                "`pagination`, oldest event first.", "ignore": []},
    {"topic": "stored events and jobs",
     "timeback": "GET /caliper/events/{externalId} answers `{event: StoredEvent}`; GET /jobs/{jobId}/status "
                 "answers `{job: {id, state, returnValue: {status, results: [{allocatedId, externalId}]}, "
                 "processedOn}}`. Both are known from the official client only.",
     "oneEdTech": "Not defined.",
     "sandbox": "Same shapes. A send is processed before it is answered, so its job is `completed` at once; "
                "the job answer also carries the store key `sourcedId` (equal to `id`).", "ignore": []},
    {"topic": "invalid envelope",
     "timeback": "400 `{status: 'error', message, errors}` with `errors` typed `any`.",
     "oneEdTech": "Not defined beyond a 4xx.",
     "sandbox": "400; `errors` is a list of `{path, rule, message, index, id, field}`, one per problem, naming "
                "the failing data item by index and id. One invalid item refuses the whole envelope: nothing "
                "is stored. POST /caliper/event/validate gives the same answer without storing.", "ignore": []},
    {"topic": "resent events",
     "timeback": "Not documented.", "oneEdTech": "An event id identifies one event.",
     "sandbox": "An event whose id is already stored (or repeated in the same envelope) is not stored again; "
                "the job reports the stored event's allocated id and no webhook fires for it again, so a "
                "client may safely retry a send.", "ignore": []},
    {"topic": "entity describes",
     "timeback": "The envelope's data may hold entities as well as events.",
     "oneEdTech": "Entity describes are allowed in an envelope.",
     "sandbox": "Entities are validated but not stored (StoredEvent has no place for them); the job lists "
                "the events only.", "ignore": []},
    {"topic": "LearnWith.AI send path",
     "timeback": "POST /caliper/v1p2 exists on the LearnWith.AI platform only; its client turns Timeback "
                 "profile events into that platform's shapes (AggregationProfile, Person actors, PascalCase "
                 "metric items) that no published schema describes.",
     "oneEdTech": "Not defined.",
     "sandbox": "Served on the same host: the envelope is judged (sensor, sendTime, dataVersion, non-empty "
                "data of objects with id and type) and the events are stored as sent. The official client in "
                "LEARNWITH_AI mode with an explicit base_url posts such envelopes to /caliper/event: an "
                "envelope whose every item carries that platform's marks (session `urn:tag:auto-attach` or "
                "profile `AggregationProfile`) is judged there the same way, any other by the full Caliper "
                "rules. Whether Timeback's own host accepts them is not documented.", "ignore": []},
    {"topic": "scopes",
     "timeback": "Scopes are admin, event.create, webhook.create and webhook.readonly (under "
                 "`/spec/caliper/v1p1/scope/`); the operations name none, and no scope reads events.",
     "oneEdTech": "Not defined.",
     "sandbox": "Sends need event.create, webhook writes webhook.create, webhook reads webhook.readonly or "
                "webhook.create, and event reads a sandbox scope `event.readonly` or event.create (so the "
                "read-only client can read); admin grants everything.", "ignore": []},
    {"topic": "list parameters",
     "timeback": "limit and offset are typed `number`, without bounds; startDate/endDate are free strings.",
     "oneEdTech": "Not defined.",
     "sandbox": f"limit is an integer 1..{LIMIT_MAX} (default 100), offset an integer >= 0; startDate and "
                "endDate must be dates or RFC 3339 date-times (else 400) and compare with eventTime in UTC.",
     "ignore": []},
    {"topic": "webhooks",
     "timeback": "No server spec or document; the official client (timeback-webhooks) sends unwrapped bodies "
                 "and reads `{webhook}`, `{webhooks}`, `{filter}`, `{filters}` and `{message}` (delete).",
     "oneEdTech": "Not defined.",
     "sandbox": "Same shapes; create answers 201. A delete removes the webhook (and its filters) for good: it "
                "and they answer 404 afterwards and `deleted_at` is always null. Deliveries: every stored event "
                "matching an active webhook (its sensor, when set, and all its active filters) is POSTed to "
                "targetUrl in the background, signed `X-Timeback-Signature: sha256=<hex HMAC-SHA256 of the "
                "body with the webhook's secret>`, retried with bounded exponential backoff; attempts are "
                "listed at GET /_sandbox/webhook-deliveries. By default only loopback targets are sent "
                "to (others are logged as refused), so a sandbox never reaches out to the network.",
     "ignore": []},
    {"topic": "webhook filter semantics",
     "timeback": "Filter keys, types and the 13 operators come from the client's models only; their meaning "
                 "is not documented.",
     "oneEdTech": "Not defined.",
     "sandbox": "filterKey is a dotted path into the event (any element of an array matches, an entity given "
                "as an object compares by its id, `sensor` falls back to the envelope's); filterValue is read as filterType says; `in`/`notIn` take a comma "
                "list, `regexp` a Python regular expression (an invalid one is refused, 400); string "
                "comparisons are case-sensitive. A missing value matches only the negative operators (neq, "
                "notContains, notIn).", "ignore": []},
]

# Which spec records a difference (default: the events spec).
DIFFERENCE_SPECS = {"scopes": (EV, WH), "webhooks": (WH,), "webhook filter semantics": (WH,)}

# ----------------------------------------------------------------------------------------------
# Assembly
# ----------------------------------------------------------------------------------------------

TITLES = {
    EV: ("Caliper 1.2 and Timeback Events (Timeback)",
         "Timeback's Caliper ingestion service (caliper host): send and validate envelopes, read stored events "
         "and send jobs."),
    WH: ("Timeback Webhooks", "Timeback's webhooks (caliper host): webhooks, their filters, activation."),
}


def _security(op: Op) -> list[dict[str, list[str]]]:
    return [{"OAuth2": [SCOPE + r]} for r in op.rights] + [{"OAuth2": [SCOPE + "admin"]}]


def _operation(op: Op) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    out["tags"] = [op.tag]
    out["security"] = _security(op)
    if op.params:
        out["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in op.params]
    if op.body:
        out["requestBody"] = {"$ref": f"#/components/requestBodies/{op.body}"}
    return finish_operation(out, path=op.path, ok=op.ok, errors={"400", "401", "403", "429", "500", *op.errors},
                            has_body=bool(op.body), error_refs=ERRORS, judged_by=op.judged_by,
                            binding=op.binding, behaviour=op.behaviour)


def build_spec(api: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in (o for o in OPS if o.spec == api):
        add_operation(paths, op.path, op.method, _operation(op))
    title, description = TITLES[api]
    collections = COLLECTIONS[api]
    wanted: set[tuple[str, str]] = {("responses", v[0]) for v in ERRORS.values()}
    wanted |= {("securitySchemes", "OAuth2")} | {("schemas", c["schema"]) for c in collections.values()}
    wanted |= {("schemas", name) for name in DOCUMENTED.get(api, ())}
    components = components_for(LIB, paths, wanted)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": title, "version": "1.2.0-timeback",
                 "description": description + " Generated by specs/caliper/_generate.py; do not edit by hand. "
                                              "Where Timeback's documents, its official clients and Caliper 1.2 "
                                              "differ, see x-tb-differences."},
        "servers": SERVERS,
        "tags": [{"name": t} for t in sorted({o.tag for o in OPS if o.spec == api})],
        "paths": paths,
        "components": components,
        "x-tb-api": "caliper",
        "x-tb-error-style": "caliper",
        "x-tb-collections": collections,
        "x-tb-differences": [d for d in DIFFERENCES if api in DIFFERENCE_SPECS.get(d["topic"], (EV,))],
    }


def render(api: str) -> str:
    return dump_yaml(build_spec(api))


def main() -> None:
    for api in SPECS:
        (HERE / f"{api}.yaml").write_text(render(api), encoding="utf-8")
        print(f"wrote specs/caliper/{api}.yaml")


if __name__ == "__main__":
    main()

"""Caliper 1.2 (Timeback profile) validator: envelopes, events and entities.

Shared by `tbconform validate caliper` and the sandbox's ingestion. Built once, at import, from
the declaration in `_events.py` (the same one the published JSON Schemas come from): each entity
and event type compiles to a small tree of Python closures, so a judgement costs a few
microseconds per property and every problem carries the JSON path of the value and a stable rule
id (the catalogue is `RULES`).

    >>> validate_event({"type": "ViewEvent", ...})
    [Problem(path='$.action', rule='caliper.event.action-allowed', message='...')]

`strict=True` adds the readings of the 1EdTech conformance fixtures that Timeback's ingestion does
not apply: a Decimal written as an integer literal (`50` for `50.0`) and date-times that are not
exactly `YYYY-MM-DDTHH:mm:ss.SSSZ`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from tbconform.specs.caliper import _events as D


@dataclass(frozen=True)
class Problem:
    path: str  # JSON path like $.data[0].action
    rule: str  # stable rule id like caliper.event.action-allowed
    message: str


RULES: dict[str, str] = {
    "caliper.document.shape": "A document is a JSON object: an envelope, an event or an entity.",
    "caliper.envelope.data-version": "An envelope's dataVersion is the Caliper 1.2 context IRI.",
    "caliper.envelope.data-empty": "An envelope's data array holds at least one item.",
    "caliper.envelope.data-item": "Each item of an envelope's data is an event or entity object.",
    "caliper.required": "A required property is present.",
    "caliper.value.type": "A value has the JSON type the model gives it (null is never allowed).",
    "caliper.value.enum": "A value is one of the terms its vocabulary defines.",
    "caliper.value.minimum": "A number is not below its minimum (counts are non-negative).",
    "caliper.value.min-length": "A string is not empty where a value is required.",
    "caliper.value.decimal": "Strict: a Decimal is written with a fractional part (50.0, not 50).",
    "caliper.iri": "An identifier or entity reference is an IRI (or a _: blank node id).",
    "caliper.datetime": "A date-time is ISO 8601 with a time zone (strict: YYYY-MM-DDTHH:mm:ss.SSSZ).",
    "caliper.duration": "A duration is an ISO 8601 duration such as PT50M30S.",
    "caliper.email": "An email address has the form local@domain.",
    "caliper.context.required": "An event, and any entity sent on its own, carries a @context.",
    "caliper.context.value": "@context is the Caliper 1.2 context IRI, an inline context object, "
                             "or an array holding one of them.",
    "caliper.event.id-uuid": "An event id is a UUID URN: urn:uuid:<8-4-4-4-12 hex digits>.",
    "caliper.event.type-known": "An event's type is a Caliper 1.2 or Timeback event type.",
    "caliper.event.action-allowed": "The action is one the event type allows.",
    "caliper.event.profile-known": "The profile is a Caliper 1.2 profile or TimebackProfile.",
    "caliper.event.profile-allowed": "The profile governs this event type with this action.",
    "caliper.entity.type-known": "An entity's type is a Caliper 1.2 or Timeback entity type.",
    "caliper.entity.ref-type": "An entity-valued property holds an entity of an allowed type.",
}
for _prop in (*D.GOVERNED, "edApp", "group", "membership", "session"):
    RULES[f"caliper.event.{_prop}-type"] = (
        f"An event's {_prop} is an entity of a type its event type, action and profile allow.")

# ----------------------------------------------------------------------------------------------
# Paths and messages
# ----------------------------------------------------------------------------------------------

_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _RootKey(str):
    """The key of a document's root: joins to nothing, so a checker can run on the root too."""


_ROOT = _RootKey("")


def _at(path: str, key: str | int) -> str:
    if key is _ROOT:
        return path
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _SIMPLE_KEY.match(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def _show(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _one_of(values: Any, limit: int = 12) -> str:
    vals = list(values)
    shown = ", ".join(vals[:limit])
    return shown + (f", ... ({len(vals)} in all)" if len(vals) > limit else "")


# ----------------------------------------------------------------------------------------------
# Formats
# ----------------------------------------------------------------------------------------------

IRI_PATTERN = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f-\x85]+|_:[^\s\x00-\x1f\x7f-\x85]+)$"  # also the spec's sensor pattern
_IRI = re.compile(IRI_PATTERN)
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
                       r"(?:[Zz]|[+-](\d{2}):?(\d{2}))$")
_DATETIME_STRICT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_DURATION = re.compile(r"^P(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?"
                       r"(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?"
                       r"(?:\d+(?:[.,]\d+)?S)?)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URN_UUID = re.compile(r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                       r"[0-9a-fA-F]{12}$", re.IGNORECASE)


def is_iri(v: str) -> bool:
    return _IRI.match(v) is not None


def _datetime_ok(v: str, strict: bool) -> bool:
    m = _DATETIME.match(v)
    if m is None or (strict and _DATETIME_STRICT.match(v) is None):
        return False
    y, mo, d, h, mi, sec = (int(g) if g else 0 for g in m.groups()[:6])
    if m.group(8) is not None and (int(m.group(8)) > 23 or int(m.group(9)) > 59):
        return False
    try:
        datetime(y, mo, d, h, mi, min(sec, 59))  # a leap second (60) is a valid ISO 8601 time
    except ValueError:
        return False
    return sec <= 60


def _format_check(fmt: str) -> tuple[str, Callable[[str, bool], bool], str]:
    """(rule, predicate(value, strict), what a good value looks like) for a string format."""
    if fmt == "date-time":
        return "caliper.datetime", _datetime_ok, "an ISO 8601 date-time with a time zone"
    if fmt == "duration":
        return ("caliper.duration", lambda v, _s: _DURATION.match(v) is not None,
                "an ISO 8601 duration such as PT50M30S")
    if fmt == "iri":
        return "caliper.iri", lambda v, _s: _IRI.match(v) is not None, "an IRI"
    if fmt == "email":
        return "caliper.email", lambda v, _s: _EMAIL.match(v) is not None, "an email address"
    if fmt == "urn-uuid":
        return ("caliper.event.id-uuid", lambda v, _s: _URN_UUID.match(v) is not None,
                "a UUID URN (urn:uuid:<uuid>)")
    raise ValueError(f"unknown format {fmt!r}")


# ----------------------------------------------------------------------------------------------
# The compiler: a schema fragment of the declaration -> check(value, path, key, out, strict)
# ----------------------------------------------------------------------------------------------

Check = Callable[[Any, str, "str | int", list, bool], None]

_PY_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}
_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number",
               "boolean": "a boolean", "object": "an object", "array": "an array", "null": "null"}


def _compile(schema: dict[str, Any], node_rule: str = "caliper.entity.ref-type") -> Check:
    if "x-tb-node" in schema:
        return _compile_node(tuple(schema["x-tb-node"]), schema.get("x-tb-iri", True), node_rule)
    if schema.get("x-tb-context"):
        return _check_context
    steps: list[Check] = []
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        tests = [_PY_TYPES[k] for k in kinds]
        want = " or ".join(_TYPE_WORDS[k] for k in kinds)
        single = tests[0] if len(tests) == 1 else None

        def type_ok(v: Any) -> bool:
            return single(v) if single else any(t(v) for t in tests)
    else:
        type_ok, want = (lambda v: True), ""
    if "enum" in schema:
        allowed = frozenset(x for x in schema["enum"] if x is not None)
        listing = _one_of(str(x) for x in schema["enum"])

        def check_enum(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
            if v not in allowed:
                out.append(Problem(_at(p, k), "caliper.value.enum",
                                   f"{_show(v)} is not one of: {listing}"))
        steps.append(check_enum)
    if "format" in schema:
        rule, pred, good = _format_check(schema["format"])

        def check_format(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
            if isinstance(v, str) and not pred(v, strict):
                extra = (" (strict: YYYY-MM-DDTHH:mm:ss.SSSZ)" if strict and rule == "caliper.datetime"
                         else "")
                out.append(Problem(_at(p, k), rule, f"{_show(v)} is not {good}{extra}"))
        steps.append(check_format)
    if "minLength" in schema:
        n = schema["minLength"]

        def check_min_length(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
            if isinstance(v, str) and len(v) < n:
                out.append(Problem(_at(p, k), "caliper.value.min-length",
                                   f"must have at least {n} character(s)"))
        steps.append(check_min_length)
    if "minimum" in schema:
        lo = schema["minimum"]

        def check_minimum(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v < lo:
                out.append(Problem(_at(p, k), "caliper.value.minimum", f"{v} is below {lo}"))
        steps.append(check_minimum)
    if schema.get("x-tb-decimal"):
        def check_decimal(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
            if strict and isinstance(v, int) and not isinstance(v, bool):
                out.append(Problem(_at(p, k), "caliper.value.decimal",
                                   f"{v} is an integer literal; Caliper's Decimal has a fractional "
                                   f"part ({v}.0)"))
        steps.append(check_decimal)
    if "items" in schema:
        item = _compile(schema["items"], node_rule)

        def check_items(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
            if isinstance(v, list):
                here = _at(p, k)
                for i, x in enumerate(v):
                    item(x, here, i, out, strict)
        steps.append(check_items)
    if "properties" in schema:
        steps.append(_compile_object(schema["properties"], schema.get("required", ()), node_rule))

    def check(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
        if not type_ok(v):
            out.append(Problem(_at(p, k), "caliper.value.type", f"must be {want}, not {_kind(v)}"))
            return
        for step in steps:
            step(v, p, k, out, strict)
    if not steps and kinds is not None and single is not None:
        def check_type_only(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
            if not single(v):
                out.append(Problem(_at(p, k), "caliper.value.type",
                                   f"must be {want}, not {_kind(v)}"))
        return check_type_only
    return check


def _compile_object(props: dict[str, Any], required: Any,
                    node_rule: str = "caliper.entity.ref-type") -> Check:
    checks = {name: _compile(sub, node_rule) for name, sub in props.items()}
    req = tuple(required)

    def check_object(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
        if not isinstance(v, dict):
            return
        here = None
        for name in req:
            if name not in v:
                here = here or _at(p, k)
                rule = "caliper.context.required" if name == "@context" else "caliper.required"
                out.append(Problem(_at(here, name), rule, f"{name} is required"))
        for name, val in v.items():
            c = checks.get(name)
            if c is not None:
                here = here or _at(p, k)
                c(val, here, name, out, strict)
    return check_object


def _check_context(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
    if isinstance(v, str):
        if v != D.CONTEXT_V1P2:
            out.append(Problem(_at(p, k), "caliper.context.value",
                               f"{_show(v)} is not the Caliper 1.2 context ({D.CONTEXT_V1P2})"))
        return
    if isinstance(v, dict):
        return  # an inline context
    if isinstance(v, list) and v:
        here = _at(p, k)
        named = False
        for i, x in enumerate(v):
            if isinstance(x, dict) or x == D.CONTEXT_V1P2:
                named = True
            elif not isinstance(x, str) or not is_iri(x):
                out.append(Problem(_at(here, i), "caliper.context.value",
                                   f"{_show(x)} is neither a context IRI nor a context object"))
        if not named:
            out.append(Problem(here, "caliper.context.value",
                               f"names neither the Caliper 1.2 context ({D.CONTEXT_V1P2}) nor an "
                               "inline context"))
        return
    out.append(Problem(_at(p, k), "caliper.context.value",
                       f"must be the Caliper 1.2 context IRI, a context object or an array of "
                       f"them, not {_kind(v)}"))


def _type_term(doc: dict, path: str, out: list, noun: str) -> str | None:
    """The document's `type` term; None once the problem (missing, null, not a string) is recorded."""
    t = doc.get("type")
    if t is None:
        out.append(Problem(_at(path, "type"), "caliper.value.type" if "type" in doc else
                           "caliper.required", f"type is required (an {noun} type term)"))
        return None
    if not isinstance(t, str):
        out.append(Problem(_at(path, "type"), "caliper.value.type", f"must be a string, not {_kind(t)}"))
        return None
    return t


def _check_entity_ref(v: Any, p: str, k: str | int, out: list, strict: bool,
                      allowed: frozenset[str], expected: str, iri_ok: bool, rule: str) -> None:
    if isinstance(v, str):
        if not iri_ok:
            out.append(Problem(_at(p, k), "caliper.value.type",
                               f"must be an embedded {expected} object, not a string"))
        elif _IRI.match(v) is None:
            out.append(Problem(_at(p, k), "caliper.iri",
                               f"{_show(v)} is neither an IRI nor an embedded {expected} object"))
        return
    if not isinstance(v, dict):
        out.append(Problem(_at(p, k), "caliper.value.type",
                           f"must be an IRI or an embedded {expected} object, not {_kind(v)}"))
        return
    here = _at(p, k)
    t = _type_term(v, here, out, "entity")
    if t is None:
        return
    checker = _ENTITY_CHECKS.get(t)
    if checker is None:
        out.append(Problem(_at(here, "type"), "caliper.entity.type-known", _unknown_entity(t)))
        return
    if t not in allowed:
        out.append(Problem(_at(here, "type"), rule, f"{t} is not allowed here: expected {expected}"))
        return
    checker(v, p, k, out, strict)


def _expected(types: tuple[str, ...]) -> str:
    return " or ".join(types) + (" (or a subtype)" if any(D.closure((t,)) != (t,) for t in types)
                                 else "")


def _compile_node(types: tuple[str, ...], iri_ok: bool, rule: str) -> Check:
    allowed = frozenset(D.closure(types))
    expected = _expected(types)

    def check_node(v: Any, p: str, k: str | int, out: list, strict: bool) -> None:
        _check_entity_ref(v, p, k, out, strict, allowed, expected, iri_ok, rule)
    return check_node


def _unknown_entity(t: str) -> str:
    if t in D.DEPRECATED:
        return f"{t} is {D.DEPRECATED[t]}"
    if t in D.EVENTS:
        return f"{t} is an event type, not an entity type"
    return f"{t!r} is not a Caliper 1.2 or Timeback entity type"


# ----------------------------------------------------------------------------------------------
# Entity and event checkers, compiled once
# ----------------------------------------------------------------------------------------------

_ENTITY_CHECKS: dict[str, Check] = {}
_TOP_ENTITY_CHECKS: dict[str, Check] = {}

for _name in D.ENTITIES:
    _flat = D.flatten(_name)
    _props = {k: v for k, v in _flat.fields.items() if k != "type"}
    _ENTITY_CHECKS[_name] = _compile_object(_props, _flat.required)
    _TOP_ENTITY_CHECKS[_name] = _compile_object(
        _props, ["@context", *(r for r in _flat.required if r != "@context")])


@dataclass(frozen=True)
class _Use:
    """What one (event type, action, profile) allows."""
    checks: dict[str, Check]
    required: tuple[str, ...]


_USES: dict[tuple[str, str | None, str | None], _Use] = {}


def _use(event_type: str, action: str | None, profile: str | None) -> _Use:
    key = (event_type, action, profile)
    use = _USES.get(key)
    if use is None:
        et = D.EVENTS[event_type]
        cases = list(et.cases) if action is None else D.event_cases(event_type, action, profile)
        if not cases and action is not None:
            cases = D.event_cases(event_type, action, None) or list(et.cases)
        ranges, required = D.ranges_of(cases)
        use = _Use({prop: _compile_node(types, True, f"caliper.event.{prop}-type")
                    for prop, types in ranges.items()}, required)
        _USES[key] = use
    return use


def _check_event(doc: dict, path: str, out: list, strict: bool) -> None:
    t = _type_term(doc, path, out, "event")
    if t is None:
        return
    et = D.EVENTS.get(t)
    if et is None:
        if t in D.DEPRECATED:
            msg = f"{t} is {D.DEPRECATED[t]}"
        elif t in D.ENTITIES:
            msg = f"{t} is an entity type, not an event type"
        else:
            msg = f"{t!r} is not a Caliper 1.2 or Timeback event type"
        out.append(Problem(_at(path, "type"), "caliper.event.type-known", msg))
        return
    # the properties every event shares
    _event_static(doc, path, out, strict)
    # action
    action = doc.get("action")
    good_action: str | None = None
    if "action" in doc:
        if not isinstance(action, str):
            out.append(Problem(_at(path, "action"), "caliper.value.type",
                               f"must be a string, not {_kind(action)}"))
        elif action not in et.actions:
            known = action in D.ACTIONS or action in D.TIMEBACK_ACTIONS
            out.append(Problem(_at(path, "action"), "caliper.event.action-allowed",
                               f"{action} is {'not allowed for ' + t if known else 'not a Caliper action'}"
                               f": {t} allows {_one_of(et.actions)}"))
        else:
            good_action = action
    else:
        out.append(Problem(_at(path, "action"), "caliper.required", "action is required"))
    # profile
    profile = doc.get("profile")
    good_profile: str | None = None
    if "profile" in doc:
        if not isinstance(profile, str):
            out.append(Problem(_at(path, "profile"), "caliper.value.type",
                               f"must be a string, not {_kind(profile)}"))
        elif profile not in D.PROFILES:
            out.append(Problem(_at(path, "profile"), "caliper.event.profile-known",
                               f"{_show(profile)} is not a Caliper 1.2 profile or "
                               f"{D.TIMEBACK_PROFILE}"))
        elif (good_action is not None and not D.event_cases(t, good_action, profile)) or (
                good_action is None and profile not in et.profiles
                and not (profile == D.GENERAL and et.accepts_general)):
            what = f"{t} with action {good_action}" if good_action else t
            allowed = sorted({p for c in et.cases if good_action is None or good_action in c.actions
                              for p in c.profiles} | ({D.GENERAL} if et.accepts_general else set()))
            out.append(Problem(_at(path, "profile"), "caliper.event.profile-allowed",
                               f"{profile} does not govern {what}: use {_one_of(allowed)}"))
        else:
            good_profile = profile
    elif et.profile_required:
        out.append(Problem(_at(path, "profile"), "caliper.required",
                           f"profile is required: {t} belongs to {_one_of(et.profiles)}"))
    # governed properties
    use = _use(t, good_action, good_profile)
    for name in use.required:
        if name not in doc:
            out.append(Problem(_at(path, name), "caliper.required",
                               f"{name} is required for {t}"))
    checks = use.checks
    for name in D.GOVERNED:
        if name in doc:
            checks[name](doc[name], path, name, out, strict)


def _event_static(doc: dict, path: str, out: list, strict: bool) -> None:
    for name in _EVENT_REQUIRED_STATIC:
        if name not in doc:
            rule = "caliper.context.required" if name == "@context" else "caliper.required"
            out.append(Problem(_at(path, name), rule, f"{name} is required"))
    for name, val in doc.items():
        c = _EVENT_SCALAR_CHECKS.get(name)
        if c is not None:
            c(val, path, name, out, strict)


_EVENT_REQUIRED_STATIC = tuple(r for r in D.EVENT_REQUIRED if r not in ("type", "action"))
_EVENT_SCALAR_CHECKS: dict[str, Check] = {
    k: _compile(v, f"caliper.event.{k}-type") for k, v in D.EVENT_FIELDS.items()
    if k not in ("type", "action", "profile")}


def _check_entity(doc: dict, path: str, out: list, strict: bool, top: bool) -> None:
    t = _type_term(doc, path, out, "entity")
    if t is None:
        return
    table = _TOP_ENTITY_CHECKS if top else _ENTITY_CHECKS
    checker = table.get(t)
    if checker is None:
        out.append(Problem(_at(path, "type"), "caliper.entity.type-known", _unknown_entity(t)))
        return
    checker(doc, path, _ROOT, out, strict)


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------

_ENVELOPE_KEYS = ("sensor", "sendTime", "dataVersion", "data")
_SENSOR = _compile(D.IRI)
_SEND_TIME = _compile(D.DATETIME)


def _looks_like_event(doc: dict) -> bool:
    t = doc.get("type")
    if isinstance(t, str):
        if t in D.EVENTS or (t in D.DEPRECATED and t.endswith("Event")):
            return True
        if t in D.ENTITIES:
            return False
    return "action" in doc or "actor" in doc or "eventTime" in doc


def _looks_like_envelope(doc: dict) -> bool:
    return "data" in doc and ("sensor" in doc or "dataVersion" in doc or "sendTime" in doc)


def _shape(doc: Any) -> list[Problem]:
    return [Problem("$", "caliper.document.shape",
                    f"must be a JSON object (an envelope, event or entity), not {_kind(doc)}")]


def validate_envelope(doc: Any, *, strict: bool = False) -> list[Problem]:
    """Judge a Caliper envelope: sensor, sendTime, dataVersion, non-empty data, then every item
    of data as an event or an entity (by its shape), at $.data[i]."""
    if not isinstance(doc, dict):
        return _shape(doc)
    out: list[Problem] = []
    for name in _ENVELOPE_KEYS:
        if name not in doc:
            out.append(Problem(_at("$", name), "caliper.required", f"{name} is required"))
    if "sensor" in doc:
        _SENSOR(doc["sensor"], "$", "sensor", out, strict)
    if "sendTime" in doc:
        _SEND_TIME(doc["sendTime"], "$", "sendTime", out, strict)
    if "dataVersion" in doc and doc["dataVersion"] != D.CONTEXT_V1P2:
        out.append(Problem("$.dataVersion", "caliper.envelope.data-version",
                           f"{_show(doc['dataVersion'])} is not {D.CONTEXT_V1P2}"))
    data = doc.get("data")
    if "data" in doc:
        if not isinstance(data, list):
            out.append(Problem("$.data", "caliper.value.type",
                               f"must be an array of events and entities, not {_kind(data)}"))
        elif not data:
            out.append(Problem("$.data", "caliper.envelope.data-empty",
                               "must hold at least one event or entity"))
        else:
            for i, item in enumerate(data):
                here = f"$.data[{i}]"
                if not isinstance(item, dict):
                    out.append(Problem(here, "caliper.envelope.data-item",
                                       f"must be an event or entity object, not {_kind(item)}"))
                elif _looks_like_event(item):
                    _check_event(item, here, out, strict)
                else:
                    _check_entity(item, here, out, strict, top=True)
    return out


def validate_event(doc: Any, *, strict: bool = False) -> list[Problem]:
    """Judge one Caliper event sent on its own (paths from $)."""
    if not isinstance(doc, dict):
        return _shape(doc)
    out: list[Problem] = []
    _check_event(doc, "$", out, strict)
    return out


def validate_entity(doc: Any, *, strict: bool = False) -> list[Problem]:
    """Judge one Caliper entity sent on its own (a describe: it carries its @context)."""
    if not isinstance(doc, dict):
        return _shape(doc)
    out: list[Problem] = []
    _check_entity(doc, "$", out, strict, top=True)
    return out


def kind_of(doc: Any) -> str:
    """'envelope', 'event', 'entity' or 'unknown', by shape."""
    if not isinstance(doc, dict):
        return "unknown"
    if _looks_like_envelope(doc):
        return "envelope"
    return "event" if _looks_like_event(doc) else "entity"


def validate_any(doc: Any, *, strict: bool = False) -> tuple[str, list[Problem]]:
    """Recognise an envelope, an event or an entity by its shape and judge it: (kind, problems).
    A document that is no JSON object is of kind 'unknown'."""
    kind = kind_of(doc)
    if kind == "envelope":
        return kind, validate_envelope(doc, strict=strict)
    if kind == "event":
        return kind, validate_event(doc, strict=strict)
    if kind == "entity":
        return kind, validate_entity(doc, strict=strict)
    return kind, _shape(doc)


def register_validator(registry: Any) -> None:
    """The Caliper plug-in of `tbconform validate` (found by harness/validate.py by name)."""
    registry.register(
        "caliper", validate_any, rules=RULES, strict=True,
        summary="Caliper 1.2 envelopes, events and entities (Timeback profile), by shape")


__all__ = ["Problem", "RULES", "kind_of", "register_validator", "validate_any", "validate_entity",
           "validate_envelope", "validate_event"]

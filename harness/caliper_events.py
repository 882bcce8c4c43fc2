"""Hypothesis strategies for valid Caliper 1.2 / Timeback events, built from the declaration of
`specs/caliper/_events.py`.

`event_of(name)` generates valid events of one event type (any of its cases, actions and allowed
profiles; the governed properties as IRIs or embedded entities of the allowed types, with their
required fields and up to three optional ones); `valid_events()` generates events of every type.
`entity_of(name)` generates one entity. Each takes `chars`, the alphabet of free text (every
UTF-8 character but surrogates by default).

`generated_events` draws a few events of a type outside any test, reproducibly (a fixed seed, no
example database): what the harness sends besides its deterministic events.
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tbconform.specs.caliper import _events as D

TEXT_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",))
# what the harness sends a real receiver: no NUL, which many stores (PostgreSQL text/jsonb) cannot hold
SAFE_TEXT_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00")

SLUG = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
DATETIME = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.just(timezone.utc)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z")
DURATION = st.builds(lambda h, m, s: f"PT{h}H{m}M{s}S", st.integers(0, 99), st.integers(0, 59),
                     st.integers(0, 59))
IRI = SLUG.map(lambda s: f"https://example.edu/{s}")
EMAIL = SLUG.map(lambda s: f"{s}@example.edu")
URN_UUID = st.uuids().map(lambda u: f"urn:uuid:{u}")


@lru_cache(maxsize=None)
def _closure(types: tuple[str, ...]) -> tuple[str, ...]:
    return D.closure(types)


@lru_cache(maxsize=None)
def _flat(name: str) -> tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]:
    """(fields, required, optional field names) of an entity type."""
    flat = D.flatten(name)
    optional = tuple(sorted(k for k in flat.fields if k not in flat.required and k not in ("@context", "type")))
    return flat.fields, tuple(flat.required), optional


def _value(draw: Any, frag: dict[str, Any], depth: int, chars: st.SearchStrategy[str]) -> Any:
    """A valid value for a declaration fragment."""
    if "x-tb-node" in frag:
        allowed = _closure(tuple(frag["x-tb-node"]))
        if frag.get("x-tb-iri", True) and (depth >= 1 or draw(st.booleans())):
            return draw(IRI)
        return _entity(draw, draw(st.sampled_from(allowed)), depth + 1, chars)
    if frag.get("x-tb-context"):
        return D.CONTEXT_V1P2
    if "enum" in frag:
        return draw(st.sampled_from([v for v in frag["enum"] if v is not None]))
    kind = frag.get("type")
    fmt = frag.get("format")
    if kind == "string":
        if fmt is None:
            return draw(st.text(chars, min_size=frag.get("minLength", 0), max_size=12))
        return draw({"date-time": DATETIME, "duration": DURATION, "iri": IRI, "email": EMAIL,
                     "urn-uuid": URN_UUID}.get(fmt, st.text(chars, max_size=12)))
    if kind == "integer":
        return draw(st.integers(frag.get("minimum", 0), 10_000))
    if kind == "number":
        return draw(st.floats(0, 1e6, allow_nan=False)) if frag.get("x-tb-decimal") else \
            draw(st.integers(0, 100) | st.floats(0, 100, allow_nan=False))
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "array":
        return [_value(draw, frag["items"], depth, chars) for _ in range(draw(st.integers(0, 2)))]
    if kind == "object":
        props = frag.get("properties", {})
        out = {k: _value(draw, props[k], depth, chars) for k in frag.get("required", [])}
        for k in draw(st.lists(st.sampled_from(sorted(props)), max_size=3, unique=True)) if props else []:
            out[k] = _value(draw, props[k], depth, chars)
        return out
    return {}


def _entity(draw: Any, name: str, depth: int, chars: st.SearchStrategy[str]) -> dict[str, Any]:
    fields, required, optional = _flat(name)
    out: dict[str, Any] = {"type": name}
    for k in required:
        if k != "type":
            out[k] = _value(draw, fields[k], depth, chars)
    for k in draw(st.lists(st.sampled_from(optional), max_size=3, unique=True)) if optional else []:
        out[k] = _value(draw, fields[k], depth, chars)
    return out


@st.composite
def entity_of(draw: Any, name: str, chars: st.SearchStrategy[str] = TEXT_CHARS) -> dict[str, Any]:
    """A valid entity of type `name` (embedded entities below it may be IRIs)."""
    return _entity(draw, name, 0, chars)


@st.composite
def event_of(draw: Any, name: str, chars: st.SearchStrategy[str] = TEXT_CHARS) -> dict[str, Any]:
    """A valid event of type `name`."""
    et = D.EVENTS[name]
    c = draw(st.sampled_from(et.cases))
    action = draw(st.sampled_from(c.actions))
    profile = draw(st.sampled_from(list(c.profiles) + ([None] if not et.profile_required else [])))
    ranges, required = D.ranges_of(D.event_cases(name, action, profile))
    ev: dict[str, Any] = {"@context": D.CONTEXT_V1P2, "id": draw(URN_UUID),
                          "type": name, "action": action, "eventTime": draw(DATETIME)}
    if profile:
        ev["profile"] = profile
    governed = [p for p in D.GOVERNED if p in ("actor", "object") or p in required
                or draw(st.booleans())]
    for prop in governed:
        ev[prop] = _value(draw, {"x-tb-node": list(ranges[prop])}, 0, chars)
    for prop in ("edApp", "group", "membership", "session", "extensions"):
        if draw(st.booleans()):
            ev[prop] = _value(draw, D.EVENT_FIELDS[prop], 0, chars)
    return ev


@st.composite
def valid_events(draw: Any, chars: st.SearchStrategy[str] = TEXT_CHARS) -> dict[str, Any]:
    """A valid event of any Caliper 1.2 or Timeback event type."""
    return draw(event_of(draw(st.sampled_from(D.EVENT_TYPES)), chars))


def generated_events(name: str, count: int, seed: int = 0,
                     chars: st.SearchStrategy[str] = SAFE_TEXT_CHARS) -> list[dict[str, Any]]:
    """Up to `count` valid events of type `name`, the same ones for the same seed (fresh copies).

    Draws them by running a small `@given` function (generate phase only, no example database);
    for use outside tests, where `strategy.example()` is not meant to be used.
    """
    return copy.deepcopy(list(_drawn(name, max(1, count), seed, chars)))[:count]


@lru_cache(maxsize=256)
def _drawn(name: str, count: int, seed: int, chars: st.SearchStrategy[str]) -> tuple[dict[str, Any], ...]:
    drawn: list[dict[str, Any]] = []

    @hypothesis_seed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(event_of(name, chars))
    def collect(event: dict[str, Any]) -> None:
        drawn.append(event)

    collect()
    return tuple(drawn[:count])

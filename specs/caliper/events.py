"""JSON Schemas (draft 2020-12) for Caliper 1.2 and the Timeback profile, built from `_events.py`.

Run from the repository root:  python -m tbconform.specs.caliper.events

Writes `events.schema.json` next to this file: one self-contained document whose `$defs` hold the
envelope, every event type and every entity type, and whose root accepts an envelope, an event or
an entity (recognised by shape, as `validate.py` does). The profile rules a plain schema misses are
spelled out with `if`/`then`: the actions each event type allows, the profiles that govern each
action, and the entity types of actor, object, generated, target and referrer for each (action,
profile). Entity-valued properties take an IRI or an embedded entity whose `type` selects its
schema. Formats are also given as patterns, so a validator that ignores `format` still judges
IRIs, date-times and durations. Two things stay out of reach of JSON Schema and are left to
`validate.py`: calendar validity of a date-time (2025-02-30) and strict mode (`x-tb-decimal`).

`definitions(ref_base)` gives the same schemas with `$ref`s under another base, for embedding in an
OpenAPI document (`ref_base="#/components/schemas/"`): names there are prefixed `Caliper`.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tbconform.specs.caliper import _events as D

HERE = Path(__file__).resolve().parent
SCHEMA_FILE = HERE / "events.schema.json"
SCHEMA_ID = "urn:tbconform:caliper:v1p2:events"

IRI_PATTERN = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+|_:[^\s]+)$"
DATETIME_PATTERN = (r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt](?:[01]\d|2[0-3]):[0-5]\d"
                    r"(?::(?:[0-5]\d|60)(?:[.,]\d+)?)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)$")
DURATION_PATTERN = (r"^P(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?"
                    r"(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?"
                    r"(?:\d+(?:[.,]\d+)?S)?)?$")
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
URN_UUID_PATTERN = (r"^[Uu][Rr][Nn]:[Uu][Uu][Ii][Dd]:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
FORMATS = {
    "iri": {"pattern": IRI_PATTERN},
    "date-time": {"format": "date-time", "pattern": DATETIME_PATTERN},
    "duration": {"format": "duration", "pattern": DURATION_PATTERN},
    "email": {"format": "email", "pattern": EMAIL_PATTERN},
    "urn-uuid": {"pattern": URN_UUID_PATTERN},
}


class _Builder:
    def __init__(self, ref_base: str, prefix: str) -> None:
        self.base = ref_base
        self.prefix = prefix
        self.defs: dict[str, Any] = {}

    def ref(self, name: str) -> dict[str, str]:
        return {"$ref": f"{self.base}{self.prefix}{name}"}

    def add(self, name: str, schema: dict[str, Any]) -> dict[str, str]:
        have = self.defs.setdefault(self.prefix + name, schema)
        if have != schema:
            raise ValueError(f"two different schemas named {name}")
        return self.ref(name)

    # -- fragments ----------------------------------------------------------------------------

    def fragment(self, frag: dict[str, Any]) -> dict[str, Any]:
        if "x-tb-node" in frag:
            return self.node(tuple(frag["x-tb-node"]), frag.get("x-tb-iri", True))
        if frag.get("x-tb-context"):
            return self.ref("Context")
        out: dict[str, Any] = {}
        for k, v in frag.items():
            if k == "format":
                out.update(FORMATS[v])
            elif k == "items":
                out["items"] = self.fragment(v)
            elif k == "properties":
                out["properties"] = {p: self.fragment(sub) for p, sub in v.items()}
            elif k == "enum":
                out["enum"] = [x for x in v if x is not None]
            else:
                out[k] = copy.deepcopy(v)
        return out

    def node(self, types: tuple[str, ...], iri: bool = True) -> dict[str, Any]:
        """IRI or embedded entity whose type is one of `types` or a subtype."""
        allowed = D.closure(types)
        key = "Node." + "-".join(types)
        obj_ref = self.add(key + ".object", {
            "type": "object", "required": ["type"],
            "properties": {"type": {"enum": list(allowed)}},
            "allOf": [{"if": {"properties": {"type": {"const": t}}}, "then": self.ref(t)}
                      for t in allowed]})
        if not iri:
            return obj_ref
        return self.add(key, {"if": {"type": "string"}, "then": self.ref("IRI"), "else": obj_ref})

    # -- documents -----------------------------------------------------------------------------

    def entity(self, name: str) -> None:
        flat = D.flatten(name)
        props = {k: self.fragment(v) for k, v in flat.fields.items()}
        props["type"] = {"const": name}
        schema: dict[str, Any] = {"type": "object", "properties": props,
                                  "required": [*flat.required]}
        if "type" not in schema["required"]:
            schema["required"].insert(0, "type")
        e = D.ENTITIES[name]
        if e.note:
            schema["description"] = e.note
        self.add(name, schema)

    def event(self, name: str) -> None:
        et = D.EVENTS[name]
        props = {k: self.fragment(v) for k, v in D.EVENT_FIELDS.items()}
        props["type"] = {"const": name}
        props["action"] = {"enum": list(et.actions)}
        governing = list(et.profiles) + ([D.GENERAL] if et.accepts_general
                                         and D.GENERAL not in et.profiles else [])
        props["profile"] = {"enum": governing}
        required = list(D.EVENT_REQUIRED) + (["profile"] if et.profile_required else [])
        rules: list[dict[str, Any]] = []
        for action in et.actions:
            when_action = {"properties": {"action": {"const": action}}, "required": ["action"]}
            allowed = [p for p in governing if D.event_cases(name, action, p)]
            if allowed != governing:
                rules.append({"if": when_action,
                              "then": {"properties": {"profile": {"enum": allowed}}}})
            variants: list[tuple[str | None, list[D.Case]]] = [
                (p, D.event_cases(name, action, p)) for p in allowed]
            if not et.profile_required:
                variants.append((None, D.event_cases(name, action, None)))
            for profile, cases in variants:
                ranges, extra = D.ranges_of(cases)
                then: dict[str, Any] = {"properties": {prop: self.node(types)
                                                       for prop, types in ranges.items()}}
                if extra:
                    then["required"] = list(extra)
                cond = copy.deepcopy(when_action)
                if profile is None:
                    cond["not"] = {"required": ["profile"]}
                else:
                    cond["properties"]["profile"] = {"const": profile}
                    cond["required"].append("profile")
                rules.append({"if": cond, "then": then})
        self.add(name, {"type": "object", "properties": props, "required": required,
                        "allOf": rules})

    def build(self) -> dict[str, Any]:
        self.add("IRI", {"type": "string", **FORMATS["iri"]})
        self.add("Context", {
            "description": "The Caliper 1.2 context IRI, an inline context, or an array that "
                           "holds one of them.",
            "anyOf": [{"const": D.CONTEXT_V1P2}, {"type": "object"},
                      {"type": "array", "minItems": 1,
                       "items": {"anyOf": [{"type": "object"}, self.ref("IRI")]},
                       "contains": {"anyOf": [{"const": D.CONTEXT_V1P2}, {"type": "object"}]}}]})
        for name in D.ENTITIES:
            self.entity(name)
        for name in D.EVENTS:
            self.event(name)
        self.add("AnyEvent", {
            "type": "object", "required": ["type"],
            "properties": {"type": {"enum": list(D.EVENTS)}},
            "allOf": [{"if": {"properties": {"type": {"const": t}}}, "then": self.ref(t)}
                      for t in D.EVENTS]})
        self.add("Describe", {
            "description": "An entity sent on its own: it carries its @context.",
            "allOf": [{"required": ["@context"]}, self.ref("Node.Entity-SystemIdentifier-"
                                                           "TextPositionSelector.object")]})
        self.node(("Entity", "SystemIdentifier", "TextPositionSelector"), iri=False)
        looks_like_event = {"anyOf": [{"properties": {"type": {"enum": list(D.EVENTS)}},
                                       "required": ["type"]},
                                      {"required": ["action"]}, {"required": ["actor"]},
                                      {"required": ["eventTime"]}]}
        self.add("AnyItem", {"type": "object", "if": looks_like_event, "then": self.ref("AnyEvent"),
                          "else": self.ref("Describe")})
        self.add("Envelope", {
            "type": "object", "required": ["sensor", "sendTime", "dataVersion", "data"],
            "properties": {"sensor": self.ref("IRI"),
                           "sendTime": {"type": "string", **FORMATS["date-time"]},
                           "dataVersion": {"const": D.CONTEXT_V1P2},
                           "data": {"type": "array", "minItems": 1, "items": self.ref("AnyItem")}}})
        self.add("AnyDocument", {
            "type": "object",
            "if": {"required": ["data"], "anyOf": [{"required": ["sensor"]},
                                                   {"required": ["dataVersion"]},
                                                   {"required": ["sendTime"]}]},
            "then": self.ref("Envelope"), "else": self.ref("AnyItem")})
        return self.defs


def definitions(ref_base: str = "#/$defs/", prefix: str = "") -> dict[str, Any]:
    """Every schema, keyed by name (with `prefix`), `$ref`s under `ref_base`."""
    return _Builder(ref_base, prefix).build()


def bundle() -> dict[str, Any]:
    """The self-contained schema document written to events.schema.json."""
    defs = definitions()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Caliper 1.2 envelopes, events and entities (Timeback profile)",
        "description": ("Generated by specs/caliper/events.py from the declaration in "
                        "specs/caliper/_events.py; do not edit by hand. The root accepts an "
                        "envelope, an event or an entity; $defs holds each type on its own."),
        "$ref": "#/$defs/AnyDocument",
        "$defs": dict(sorted(defs.items())),
    }


def render() -> str:
    return json.dumps(bundle(), indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote specs/caliper/{SCHEMA_FILE.name}")


if __name__ == "__main__":
    main()

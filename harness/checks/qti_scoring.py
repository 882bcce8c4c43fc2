"""An independent reading of a QTI 3.0 item, for the `qti.*` rules: what a response must score.

The harness judges a QTI service's `process-response` against the item's own declarations, so it
needs its own small evaluator, written from the QTI 3.0 template definitions and sharing no code
with the sandbox's engine (`mocks/scoring`): a bug there must not be copied here. It covers the
three standard templates (`match_correct`, `map_response`, `map_response_point`); items with custom
response processing are not judged by the score rules (`expected` answers None for them).

Values are compared as QTI does: `pair` ignores the order of its two identifiers, `directedPair`
does not; `multiple` is a set, `ordered` a sequence; a `map_response` counts each distinct value of
the response once, unmapped values take the mapping's default, and the sum is clamped to the
mapping's bounds. String map keys follow their entry's `case-sensitive` (QTI's default: true).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tbconform.specs.xmlsafe import local_name, parse

TEMPLATES = ("match_correct", "map_response", "map_response_point")
CHOICE_ELEMENTS = {"qti-simple-choice", "qti-inline-choice", "qti-hotspot-choice", "qti-gap-text", "qti-gap",
                   "qti-simple-associable-choice", "qti-hottext"}


@dataclass
class Declaration:
    identifier: str
    cardinality: str
    base_type: str
    correct: list[str]
    entries: list[tuple[str, float, bool]] = field(default_factory=list)   # (key, value, case-sensitive)
    areas: list[tuple[str, list[float], float]] = field(default_factory=list)   # (shape, coords, value)
    default: float = 0.0
    lower: float | None = None
    upper: float | None = None
    mapped: bool = False


@dataclass
class Item:
    identifier: str
    template: str | None          # one of TEMPLATES, "custom", or None (no response processing)
    declarations: dict[str, Declaration]
    interactions: list[tuple[str, str, list[str]]]   # (element, responseIdentifier, choice ids in order)
    outcomes: list[tuple[str, str, str]]              # (identifier, cardinality, baseType)
    processing: Any = None                            # canonical form of custom processing

    def choices(self, response_id: str) -> list[str]:
        return [c for _, rid, ids in self.interactions if rid == response_id for c in ids]


def _number(text: str | None, default: float | None = None) -> float | None:
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default


def _canonical(el: Any) -> Any:
    return (local_name(el), tuple(sorted((k, v) for k, v in el.attrib.items())), (el.text or "").strip(),
            tuple(_canonical(c) for c in el if isinstance(c.tag, str)))


def read_item(xml: str | bytes) -> Item:
    """The item's declarations, interactions and processing (XmlRefused for XML that cannot be trusted)."""
    root = parse(xml)
    declarations: dict[str, Declaration] = {}
    outcomes: list[tuple[str, str, str]] = []
    template: str | None = None
    processing: Any = None
    for el in root:
        if not isinstance(el.tag, str):
            continue
        name = local_name(el)
        if name == "qti-response-declaration":
            declarations[el.get("identifier", "")] = _declaration(el)
        elif name == "qti-outcome-declaration":
            outcomes.append((el.get("identifier", ""), el.get("cardinality", ""), el.get("base-type", "")))
        elif name == "qti-response-processing":
            uri = (el.get("template") or "").rstrip("/")
            short = uri.rsplit("/", 1)[-1].removesuffix(".xml")
            template = short if short in TEMPLATES else "custom"
            processing = short if short in TEMPLATES else _canonical(el)
    interactions = []
    for el in root.iter():
        if isinstance(el.tag, str) and local_name(el).endswith("-interaction"):
            ids = [c.get("identifier", "") for c in el.iter()
                   if isinstance(c.tag, str) and local_name(c) in CHOICE_ELEMENTS]
            interactions.append((local_name(el), el.get("response-identifier", ""), ids))
    return Item(root.get("identifier", ""), template, declarations, interactions, outcomes, processing)


def _declaration(el: Any) -> Declaration:
    decl = Declaration(el.get("identifier", ""), el.get("cardinality", "single"), el.get("base-type", ""), [])
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = local_name(child)
        if name == "qti-correct-response":
            decl.correct = [(v.text or "").strip() for v in child if isinstance(v.tag, str)]
        elif name in ("qti-mapping", "qti-area-mapping"):
            decl.mapped = True
            decl.default = _number(child.get("default-value"), 0.0) or 0.0
            decl.lower = _number(child.get("lower-bound"))
            decl.upper = _number(child.get("upper-bound"))
            for entry in child:
                if not isinstance(entry.tag, str):
                    continue
                value = _number(entry.get("mapped-value"), 0.0) or 0.0
                if local_name(entry) == "qti-map-entry":
                    sensitive = (entry.get("case-sensitive") or "true").strip().lower() != "false"
                    decl.entries.append((entry.get("map-key", ""), value, sensitive))
                elif local_name(entry) == "qti-area-map-entry":
                    coords = [float(c) for c in (entry.get("coords") or "").replace(" ", "").split(",") if c]
                    decl.areas.append((entry.get("shape", "default"), coords, value))
    return decl


# ---------------------------------------------------------------------------------------------
# Values


def _norm(base_type: str, value: str) -> Any:
    text = " ".join(value.split())
    if base_type == "pair":
        return frozenset(text.split(" "))
    if base_type in ("integer", "float"):
        number = _number(text)
        return number if number is not None else text
    if base_type == "point":
        parts = text.split(" ")
        return tuple(_number(p) for p in parts)
    return text


def as_list(response: str | list[str] | None) -> list[str]:
    if response is None:
        return []
    return [response] if isinstance(response, str) else list(response)


def _matches(decl: Declaration, response: list[str]) -> bool:
    if not decl.correct or not response:
        return False
    got = [_norm(decl.base_type, v) for v in response]
    want = [_norm(decl.base_type, v) for v in decl.correct]
    if decl.cardinality == "ordered":
        return got == want
    if decl.cardinality == "multiple":
        return set(got) == set(want) and len(set(got)) == len(got)
    return len(got) == 1 and got[0] in want[:1]


def _clamp(decl: Declaration, total: float) -> float:
    if decl.lower is not None:
        total = max(decl.lower, total)
    if decl.upper is not None:
        total = min(decl.upper, total)
    return total


def _mapped(decl: Declaration, value: str) -> float:
    for key, mapped, sensitive in decl.entries:
        if decl.base_type == "string":
            if (key == value) if sensitive else (key.lower() == value.lower()):
                return mapped
        elif _norm(decl.base_type, key) == _norm(decl.base_type, value):
            return mapped
    return decl.default


def _inside(shape: str, coords: list[float], x: float, y: float) -> bool:
    if shape == "circle" and len(coords) >= 3:
        return math.hypot(x - coords[0], y - coords[1]) <= coords[2]
    if shape == "rect" and len(coords) >= 4:
        return coords[0] <= x <= coords[2] and coords[1] <= y <= coords[3]
    if shape == "ellipse" and len(coords) >= 4 and coords[2] and coords[3]:
        return ((x - coords[0]) / coords[2]) ** 2 + ((y - coords[1]) / coords[3]) ** 2 <= 1
    if shape == "poly" and len(coords) >= 6:
        points = list(zip(coords[0::2], coords[1::2]))
        inside = False
        for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside
    return shape == "default"


def expected(item: Item, response_id: str, response: str | list[str] | None) -> float | None:
    """The SCORE the item's template gives `response`; None when the item is not judged here."""
    decl = item.declarations.get(response_id)
    if decl is None or item.template not in TEMPLATES:
        return None
    values = as_list(response)
    if item.template == "match_correct":
        return 1.0 if _matches(decl, values) else 0.0
    if item.template == "map_response":
        if not decl.mapped:
            return None
        if not values:
            return 0.0   # a NULL response: the template sets SCORE to 0
        distinct = list(dict.fromkeys(values if decl.base_type != "pair"
                                      else [" ".join(sorted(v.split())) for v in values]))
        return _clamp(decl, sum(_mapped(decl, v) for v in distinct))
    if not decl.areas or not values:
        return 0.0 if decl.areas else None
    total, used = 0.0, set()
    for value in values:
        point = _norm("point", value)
        if len(point) != 2 or None in point:
            continue
        for index, (shape, coords, mapped) in enumerate(decl.areas):
            if index not in used and _inside(shape, coords, point[0], point[1]):
                used.add(index)
                total += mapped
                break
        else:
            total += decl.default
    return _clamp(decl, total)


# ---------------------------------------------------------------------------------------------
# Responses to send


def correct_response(item: Item, response_id: str) -> str | list[str] | None:
    decl = item.declarations.get(response_id)
    if decl is None or not decl.correct:
        return None
    return decl.correct[0] if decl.cardinality == "single" else list(decl.correct)


def minimum(item: Item, response_id: str) -> float:
    decl = item.declarations[response_id]
    if item.template == "match_correct" or not decl.mapped:
        return 0.0
    return decl.lower if decl.lower is not None else min(0.0, *(v for *_, v in decl.entries), decl.default)


def wrong_response(item: Item, response_id: str) -> str | list[str] | None:
    """A response the template scores at its minimum (None when none can be built)."""
    decl = item.declarations.get(response_id)
    if decl is None or not decl.correct:
        return None
    candidates: list[str | list[str]] = []
    right = set(decl.correct)
    choices = [c for c in item.choices(response_id) if c not in right]
    if decl.base_type == "identifier":
        if decl.cardinality == "single":
            candidates += choices
        elif decl.cardinality == "ordered" and len(decl.correct) > 1:
            candidates.append(list(reversed(decl.correct)))
        elif choices:
            candidates.append(choices)
    elif decl.base_type in ("directedPair", "pair"):
        sources = [v.split()[0] for v in decl.correct]
        targets = [v.split()[-1] for v in decl.correct]
        if len(targets) > 1:
            shifted = targets[1:] + targets[:1]
            candidates.append([f"{s} {t}" for s, t in zip(sources, shifted)])
    elif decl.base_type in ("integer", "float"):
        number = _number(decl.correct[0], 0.0) or 0.0
        candidates.append(str(int(number) + 37) if decl.base_type == "integer" else f"{number + 37.5:g}")
    elif decl.base_type == "string":
        candidates.append("zz" + decl.correct[0][::-1] + "qx")
    elif decl.base_type == "point":
        far = max([c for _, coords, _ in decl.areas for c in coords] + [0]) + 500
        candidates.append(f"{far:g} {far:g}")
    floor = minimum(item, response_id)
    for candidate in candidates:
        value = candidate if decl.cardinality != "single" or isinstance(candidate, str) else candidate[0]
        score = expected(item, response_id, value)
        if score is not None and abs(score - floor) < 1e-9:
            return value
    return None


def partial_response(item: Item, response_id: str) -> tuple[list[str], float] | None:
    """For a map_response item with several positively mapped correct values: one of them alone, and
    the mapped value it must score (strictly between the minimum and the full score)."""
    decl = item.declarations.get(response_id)
    if decl is None or item.template != "map_response" or decl.cardinality == "single" or len(decl.correct) < 2:
        return None
    full = expected(item, response_id, list(decl.correct))
    for value in decl.correct:
        score = expected(item, response_id, [value])
        if score is not None and full is not None and minimum(item, response_id) + 1e-9 < score < full - 1e-9:
            return [value], score
    return None


def case_variant(item: Item, response_id: str) -> tuple[str, float] | None:
    """For a string item that matches case-sensitively: the correct answer in another case, and the
    score it must get (what the template gives it: the minimum)."""
    decl = item.declarations.get(response_id)
    if decl is None or decl.base_type != "string" or decl.cardinality != "single" or not decl.correct:
        return None
    answer = decl.correct[0]
    variant = answer.swapcase()
    if variant == answer or item.template not in ("match_correct", "map_response"):
        return None
    if item.template == "map_response" and not any(k == answer and sensitive for k, _, sensitive in decl.entries):
        return None
    score = expected(item, response_id, variant)
    return (variant, score) if score is not None and abs(score - minimum(item, response_id)) < 1e-9 else None


def semantics(item: Item) -> dict[str, Any]:
    """What a round trip must keep: declarations (with correct values and mappings), outcomes,
    interactions (with their choices in order) and the response processing."""
    return {
        "identifier": item.identifier,
        "responses": {d.identifier: (d.cardinality, d.base_type, tuple(d.correct), tuple(sorted(d.entries)),
                                     tuple((s, tuple(c), v) for s, c, v in d.areas), d.default, d.lower, d.upper)
                      for d in item.declarations.values()},
        "outcomes": sorted(item.outcomes),
        "interactions": [(name, rid, tuple(ids)) for name, rid, ids in item.interactions],
        "processing": item.processing,
    }

"""Variable declarations of an item: response, outcome and template declarations with their
default and correct values, and the two lookup tables response processing uses, `Mapping`
(`qti-mapping`, for `qti-map-response`) and `AreaMapping` (`qti-area-mapping`, for
`qti-map-response-point`). Everything is parsed once, at compile time."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from lxml import etree

from tbconform.mocks.scoring.errors import ItemNotScorable
from tbconform.mocks.scoring.names import attr, children, flag, tag, where
from tbconform.mocks.scoring.values import NUMERIC, Multiple, Ordered, Record, container, parse_scalar
from tbconform.specs.qti.vocabulary import BASE_TYPES, CARDINALITIES, IMPLIED_BASE_TYPES


@dataclass
class Mapping:
    """`qti-mapping`: mapped values by key, in document order. A case-insensitive entry (strings)
    matches any casing; when two entries fit, the earlier one wins, as the spec reads them in order."""

    exact: dict[Any, tuple[int, float]]
    folded: dict[str, tuple[int, float]]
    default: float = 0.0
    lower: float | None = None
    upper: float | None = None

    def value_of(self, value: Any) -> float:
        hit = self.exact.get(value)
        if self.folded and isinstance(value, str):
            other = self.folded.get(value.casefold())
            if other is not None and (hit is None or other[0] < hit[0]):
                hit = other
        return self.default if hit is None else hit[1]

    def apply(self, value: Any) -> float:
        """mapResponse: a single value maps to its entry (the default when unmapped); a container
        sums the entries of its distinct members (a repeated member counts once); NULL (no
        response) is 0, not the default, which is for an answer the mapping does not list; then
        the bounds clamp the total."""
        if isinstance(value, (Multiple, Ordered)):
            total = math.fsum(self.value_of(member) for member in dict.fromkeys(value))
        elif value is None:
            total = 0.0
        else:
            total = self.value_of(value)
        return self.clamp(total)

    def clamp(self, total: float) -> float:
        return _clamp(total, self.lower, self.upper)

    def best(self, cardinality: str) -> float:
        """The highest score this mapping can give: the largest entry (or the default) for a single
        response, the sum of the positive entries for a container; clamped by the bounds. Entries
        counted: the first per key (sensitive keys as written, insensitive ones case-folded); a
        repeated key never maps. (An entry shadowed by an earlier insensitive one still counts.)"""
        values = [value for _, value in list(self.exact.values()) + list(self.folded.values())]
        if cardinality == "single":
            return self.clamp(max(values + [self.default]))
        return self.clamp(math.fsum(value for value in values if value > 0))


Shape = Callable[[tuple[int, int]], bool]


def _clamp(total: float, lower: float | None, upper: float | None) -> float:
    """`total` within the bounds, rounded to 10 decimals so that ten gaps worth 0.1 make 1.0,
    not 0.9999999999999999 (a mapped score is never meant finer than that)."""
    if lower is not None and total < lower:
        total = lower
    if upper is not None and total > upper:
        total = upper
    return round(float(total), 10) + 0.0  # + 0.0: no -0.0


@dataclass
class AreaMapping:
    """`qti-area-mapping`: (shape test, mapped value) in document order, default for a point in no
    area, bounds on the total."""

    areas: list[tuple[Shape, float]]
    default: float = 0.0
    lower: float | None = None
    upper: float | None = None

    def apply(self, value: Any) -> float:
        """mapResponsePoint: a single point takes the value of the first area holding it; several
        points add up the areas that hold at least one of them (each area once), plus the default
        for each point in no area; the bounds clamp the total."""
        if value is None:
            return self.clamp(0.0)
        points = value if isinstance(value, (Multiple, Ordered)) else (value,)
        if len(points) == 1:
            for inside, mapped in self.areas:
                if inside(points[0]):
                    return self.clamp(mapped)
            return self.clamp(self.default)
        total, missed = 0.0, 0
        hit = [False] * len(self.areas)
        for point in points:
            found = False
            for index, (inside, _) in enumerate(self.areas):
                if inside(point):
                    hit[index] = found = True
            missed += not found
        total = math.fsum(mapped for (_, mapped), used in zip(self.areas, hit) if used)
        return self.clamp(total + missed * self.default)

    def clamp(self, total: float) -> float:
        return _clamp(total, self.lower, self.upper)

    def best(self, cardinality: str) -> float:
        values = [mapped for _, mapped in self.areas]
        if cardinality == "single":
            return self.clamp(max(values + [self.default]))
        return self.clamp(math.fsum(value for value in values if value > 0))



@dataclass
class Declaration:
    """One declared variable. `kind` is response, outcome or template."""

    identifier: str
    kind: str
    cardinality: str
    base_type: str | None
    default: Any = None
    correct: Any = None
    mapping: Mapping | None = None
    area_mapping: AreaMapping | None = None
    lookup: Callable[[Any], Any] | None = None  # an outcome's match / interpolation table
    builtin: bool = False                       # numAttempts, duration: no response carries them




def read_declarations(root: etree._Element,
                      interactions: dict[str, str] | None = None) -> dict[str, Declaration]:
    """Every response, outcome and template declaration of the item, in document order. A
    response declaration without a base type takes the one its interaction implies."""
    implied = {identifier: IMPLIED_BASE_TYPES[name] for identifier, name in (interactions or {}).items()
               if name in IMPLIED_BASE_TYPES}
    found: dict[str, Declaration] = {}
    for element in children(root):
        name = tag(element)
        kind = {"qti-response-declaration": "response", "qti-outcome-declaration": "outcome",
                "qti-template-declaration": "template"}.get(name)
        if kind is None:
            continue
        declaration = _declaration(element, kind, implied)
        found.setdefault(declaration.identifier, declaration)
    return found


def _declaration(element: etree._Element, kind: str, implied: dict[str, str]) -> Declaration:
    identifier = (attr(element, "identifier") or "").strip()
    if not identifier:
        raise ItemNotScorable(f"{where(element)} has no identifier")
    cardinality = (attr(element, "cardinality") or "single").strip()
    if cardinality not in CARDINALITIES:
        raise ItemNotScorable(f"{where(element)} {identifier!r}: unknown cardinality {cardinality!r}")
    base_type = attr(element, "base-type")
    base_type = base_type.strip() if base_type else None
    if base_type is None and kind == "response" and cardinality != "record":
        base_type = implied.get(identifier)
    if kind != "response" and base_type is not None and base_type not in BASE_TYPES:
        raise ItemNotScorable(f"{where(element)} {identifier!r}: unknown base type {base_type!r}")
    declaration = Declaration(identifier, kind, cardinality, base_type)
    typed = base_type in BASE_TYPES or cardinality == "record"
    for child in children(element):
        name = tag(child)
        if name == "qti-default-value" and typed:
            declaration.default = read_values(child, cardinality, base_type)
        elif name == "qti-correct-response" and typed:
            declaration.correct = read_values(child, cardinality, base_type)
        elif name == "qti-mapping" and base_type in BASE_TYPES:
            declaration.mapping = _mapping(child, base_type)
        elif name == "qti-area-mapping":
            declaration.area_mapping = _area_mapping(child)
        elif name in ("qti-match-table", "qti-interpolation-table") and base_type in BASE_TYPES:
            declaration.lookup = _lookup_table(child, base_type)
    if (kind == "outcome" and declaration.default is None and cardinality == "single"
            and base_type in NUMERIC):
        declaration.default = 0 if base_type == "integer" else 0.0  # QTI: numeric outcomes start at 0
    return declaration


def read_values(element: etree._Element, cardinality: str, base_type: str | None) -> Any:
    """The value held by the `qti-value` children of a default-value / correct-response element."""
    values = [child for child in children(element) if tag(child) == "qti-value"]
    try:
        if cardinality == "record":
            record = Record()
            for value in values:
                field_id = attr(value, "field-identifier") or ""
                field_type = attr(value, "base-type") or "string"
                record[field_id] = parse_scalar(value.text or "", field_type)
            return record or None
        parsed = [parse_scalar(value.text or "", base_type or "string") for value in values]
    except ValueError as exc:
        raise ItemNotScorable(f"{where(element)}: {exc}") from None
    if cardinality == "single":
        return parsed[0] if parsed else None
    return container(cardinality, parsed)


def _number(element: etree._Element, name: str, default: float | None) -> float | None:
    text = attr(element, name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ItemNotScorable(f"{where(element)}: {name}={text!r} is not a number") from None
    if not math.isfinite(value):
        raise ItemNotScorable(f"{where(element)}: {name}={text!r} is not a finite number")
    return value


def _mapping(element: etree._Element, base_type: str) -> Mapping:
    exact: dict[Any, tuple[int, float]] = {}
    folded: dict[str, tuple[int, float]] = {}
    for index, entry in enumerate(child for child in children(element) if tag(child) == "qti-map-entry"):
        try:
            key = parse_scalar(attr(entry, "map-key") or "", base_type)
        except ValueError as exc:
            raise ItemNotScorable(f"{where(entry)}: map-key {exc}") from None
        value = _number(entry, "mapped-value", None)
        if value is None:
            raise ItemNotScorable(f"{where(entry)} has no mapped-value")
        if isinstance(key, str) and not flag(entry, "case-sensitive", True):
            folded.setdefault(key.casefold(), (index, value))
        else:
            exact.setdefault(key, (index, value))
    return Mapping(exact, folded, _number(element, "default-value", 0.0) or 0.0,
                   _number(element, "lower-bound", None), _number(element, "upper-bound", None))


def _lookup_table(element: etree._Element, base_type: str) -> Callable[[Any], Any]:
    """An outcome's lookup: a match table maps an integer source to its entry's target; an
    interpolation table maps a number to the target of the first entry whose source-value it
    reaches (>= source, or > when include-boundary is false). Unlisted: the table's default."""
    interpolate = tag(element) == "qti-interpolation-table"
    entry_tag = "qti-interpolation-table-entry" if interpolate else "qti-match-table-entry"
    rows = []
    try:
        default = parse_scalar(attr(element, "default-value") or "", base_type) \
            if attr(element, "default-value") is not None else None
        for entry in children(element):
            if tag(entry) != entry_tag:
                continue
            source = float(attr(entry, "source-value") or "")
            rows.append((source, flag(entry, "include-boundary", True),
                         parse_scalar(attr(entry, "target-value") or "", base_type)))
    except ValueError as exc:
        raise ItemNotScorable(f"{where(element)}: {exc}") from None
    if not interpolate:
        table = {source: target for source, _, target in reversed(rows)}
        return lambda value: table.get(value, default)

    def lookup(value: Any) -> Any:
        for source, boundary, target in rows:
            if value > source or (boundary and value == source):
                return target
        return default
    return lookup


def _area_mapping(element: etree._Element) -> AreaMapping:
    areas = []
    for entry in children(element):
        if tag(entry) != "qti-area-map-entry":
            continue
        value = _number(entry, "mapped-value", None)
        if value is None:
            raise ItemNotScorable(f"{where(entry)} has no mapped-value")
        areas.append((shape(entry), value))
    return AreaMapping(areas, _number(element, "default-value", 0.0) or 0.0,
                       _number(element, "lower-bound", None), _number(element, "upper-bound", None))


def shape(element: etree._Element) -> Shape:
    """The point-in-area test of an element's `shape` and `coords` (circle cx,cy,r; rect
    left,top,right,bottom; ellipse cx,cy,rx,ry; poly x1,y1,x2,y2,...; default: everywhere).
    Edges count as inside."""
    kind = (attr(element, "shape") or "").strip()
    text = attr(element, "coords") or ""
    try:
        c = [float(part) for part in text.replace(" ", ",").split(",") if part.strip()]
    except ValueError:
        raise ItemNotScorable(f"{where(element)}: coords={text!r} are not numbers") from None
    need = {"circle": 3, "rect": 4, "ellipse": 4}
    if kind == "default":
        return lambda point: True
    if kind in need and len(c) != need[kind]:
        raise ItemNotScorable(f"{where(element)}: a {kind} needs {need[kind]} coords, got {text!r}")
    if kind == "circle":
        cx, cy, r = c
        return lambda p: (p[0] - cx) ** 2 + (p[1] - cy) ** 2 <= r * r
    if kind == "rect":
        left, top, right, bottom = c
        return lambda p: min(left, right) <= p[0] <= max(left, right) and \
            min(top, bottom) <= p[1] <= max(top, bottom)
    if kind == "ellipse":
        cx, cy, rx, ry = c
        if rx <= 0 or ry <= 0:
            raise ItemNotScorable(f"{where(element)}: an ellipse needs positive radii")
        return lambda p: ((p[0] - cx) / rx) ** 2 + ((p[1] - cy) / ry) ** 2 <= 1.0
    if kind == "poly":
        if len(c) < 6 or len(c) % 2:
            raise ItemNotScorable(f"{where(element)}: a poly needs at least 3 x,y pairs, got {text!r}")
        vertices = list(zip(c[0::2], c[1::2]))
        return lambda p: _in_polygon(p, vertices)
    raise ItemNotScorable(f"{where(element)}: unknown shape {kind!r}")


def _in_polygon(point: tuple[int, int], vertices: list[tuple[float, float]]) -> bool:
    """Even-odd ray casting; a point on an edge is inside."""
    x, y = point
    inside = False
    count = len(vertices)
    for index in range(count):
        x1, y1 = vertices[index]
        x2, y2 = vertices[(index + 1) % count]
        if min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2) \
                and (x2 - x1) * (y - y1) == (y2 - y1) * (x - x1):
            return True
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside

"""The checks of one variable declaration against itself and its interaction's choices.

Part of the structural checker (`structure.py`), kept apart to keep modules short: a mixin of
`_Walk` that uses its `add`, `prefix` and `_choices_for`. What it judges: the cardinality and
base-type attributes; qti-default-value and qti-correct-response values (parse as the base type,
count fits the cardinality, choice identifiers exist); qti-mapping (keys parse and are not
repeated, values and bounds are numbers) and qti-area-mapping (only on points, known shapes,
the right number of coordinates).
"""
from __future__ import annotations

from typing import Iterable

from lxml import etree

from tbconform.specs import xmlsafe
from tbconform.specs.qti import vocabulary as V


class DeclarationChecks:
    prefix: str

    def add(self, el: etree._Element, rule: str, message: str) -> None:  # provided by _Walk
        raise NotImplementedError

    def _choices_for(self, rid: str) -> set[str] | None:  # provided by _Walk
        raise NotImplementedError

    def _check_declaration(self, decl: etree._Element) -> None:
        local = _local(decl)
        name = decl.get("identifier") or "?"
        card, base = decl.get("cardinality"), decl.get("base-type")
        if card is None:
            self.add(decl, "qti.declaration.attributes", f"<{local}> {name} has no cardinality")
        elif card not in V.CARDINALITIES:
            self.add(decl, "qti.declaration.attributes",
                     f"cardinality {card!r} of {name} is not one of {_or(V.CARDINALITIES)}")
        if base is None:
            if card is not None and card != "record":
                self.add(decl, "qti.declaration.attributes",
                         f"<{local}> {name} has no base-type (only record cardinality goes without)")
        elif base not in V.BASE_TYPES:
            self.add(decl, "qti.declaration.attributes",
                     f"base-type {base!r} of {name} is not a QTI base type")
            base = None
        if card == "record":
            base = None  # a record's fields carry their own base types
        is_response = local == "qti-response-declaration"
        choices = self._choices_for(name) if is_response else None
        prefix = self.prefix
        for child in decl.iterchildren(etree.Element):
            tag = child.tag
            if not tag.startswith(prefix):
                continue
            what = tag[len(prefix):]
            if what == "qti-default-value":
                self._check_values(child, name, card, base, None, "qti.declaration.default-value",
                                   "qti.declaration.default-value")
            elif is_response and what == "qti-correct-response":
                self._check_values(child, name, card, base, choices, "qti.response.correct-value",
                                   "qti.response.correct-count")
            elif is_response and what == "qti-mapping":
                self._check_mapping(child, name, base, choices)
            elif is_response and what == "qti-area-mapping":
                self._check_area_mapping(child, name, base)

    def _check_values(self, holder: etree._Element, name: str, card: str | None, base: str | None,
                      choices: set[str] | None, value_rule: str, count_rule: str) -> None:
        values = list(holder.iterchildren(self.prefix + "qti-value"))
        what = _local(holder)
        if card == "single" and len(values) != 1:
            self.add(holder, count_rule,
                     f"{name} is single, so its <{what}> holds exactly one qti-value, not {len(values)}")
        elif card in ("multiple", "ordered") and not values:
            self.add(holder, count_rule, f"<{what}> of {name} holds no qti-value")
        if base is None:
            return
        for value in values:
            text = (value.text or "").strip()
            if not V.value_fits(base, text):
                self.add(value, value_rule,
                         f"{text!r} in <{what}> of {name} is not {V.value_shape(base)} (base-type {base})")
            elif choices is not None:
                self._check_choices(value, name, base, text, choices, what)

    def _check_choices(self, el: etree._Element, name: str, base: str, text: str,
                       choices: set[str], what: str) -> None:
        for choice in V.choice_ids(base, text):
            if choice not in choices:
                shown = ", ".join(sorted(choices)[:12]) or "none"
                self.add(el, "qti.response.choice-unknown",
                         f"{choice!r} in <{what}> of {name} is not a choice of its interaction "
                         f"(choices: {shown})")

    def _check_mapping(self, mapping: etree._Element, name: str, base: str | None,
                       choices: set[str] | None) -> None:
        self._check_bounds(mapping, name)
        seen: dict[str, int] = {}
        for entry in mapping.iterchildren(self.prefix + "qti-map-entry"):
            key = entry.get("map-key")
            if not V.is_number(entry.get("mapped-value")):
                self.add(entry, "qti.response.mapping-value",
                         f"mapped-value {entry.get('mapped-value')!r} of a map entry of {name} is not a number")
            if key is None:
                self.add(entry, "qti.response.mapping-key", f"a map entry of {name} has no map-key")
                continue
            key = key.strip()
            if base is not None and not V.value_fits(base, key):
                self.add(entry, "qti.response.mapping-key",
                         f"map-key {key!r} of {name} is not {V.value_shape(base)} (base-type {base})")
                continue
            folded = key.lower() if entry.get("case-sensitive") == "false" else key
            if folded in seen:
                self.add(entry, "qti.response.mapping-key",
                         f"map-key {key!r} of {name} is mapped twice (first on line {seen[folded]})")
            else:
                seen[folded] = entry.sourceline or 0
            if base is not None and choices is not None:
                self._check_choices(entry, name, base, key, choices, "qti-mapping")

    def _check_area_mapping(self, mapping: etree._Element, name: str, base: str | None) -> None:
        if base is not None and base != "point":
            self.add(mapping, "qti.response.area-mapping",
                     f"an area mapping maps points, but {name} has base-type {base}")
        self._check_bounds(mapping, name)
        for entry in mapping.iterchildren(self.prefix + "qti-area-map-entry"):
            shape = entry.get("shape")
            if not V.is_number(entry.get("mapped-value")):
                self.add(entry, "qti.response.mapping-value",
                         f"mapped-value {entry.get('mapped-value')!r} of an area of {name} is not a number")
            if shape not in V.AREA_SHAPES:
                self.add(entry, "qti.response.area-mapping",
                         f"shape {shape!r} of an area of {name} is not one of {_or(V.AREA_SHAPES)}")
                continue
            coords = [c for c in (entry.get("coords") or "").split(",") if c.strip()]
            count, at_least = V.AREA_SHAPES[shape]
            if not all(V.is_number(c) for c in coords):
                self.add(entry, "qti.response.area-mapping",
                         f"coords {entry.get('coords')!r} of a {shape} of {name} are not numbers")
            elif (len(coords) < count) if at_least else (len(coords) != count):
                need = f"at least {count}" if at_least else str(count)
                self.add(entry, "qti.response.area-mapping",
                         f"a {shape} of {name} has {len(coords)} coordinates; it needs {need}")

    def _check_bounds(self, mapping: etree._Element, name: str) -> None:
        numbers = {}
        for attr in ("default-value", "lower-bound", "upper-bound"):
            raw = mapping.get(attr)
            if raw is None:
                continue
            if not V.is_number(raw):
                self.add(mapping, "qti.response.mapping-value",
                         f"{attr}={raw!r} of the mapping of {name} is not a number")
            else:
                numbers[attr] = float(raw.replace("INF", "inf"))
        if numbers.get("lower-bound", float("-inf")) > numbers.get("upper-bound", float("inf")):
            self.add(mapping, "qti.response.mapping-value",
                     f"the mapping of {name} has lower-bound above upper-bound")


def _local(el: etree._Element) -> str:
    return xmlsafe.local_name(el)


def _or(values: Iterable[str]) -> str:
    vals = sorted(values)
    return vals[0] if len(vals) == 1 else ", ".join(vals[:-1]) + " or " + vals[-1]

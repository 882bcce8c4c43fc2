"""QTI expressions compiled to closures `f(env) -> value` over the variable environment (a dict
identifier -> typed value, see values.py). Compiling checks what can be checked once (operand
counts, declared identifiers, mappings present, constant tolerances and patterns) and raises
`ItemNotScorable` naming the element; evaluating is then plain Python.

NULL semantics follow the spec: an operator with a NULL operand is NULL (`qti-is-null`,
`qti-multiple`/`qti-ordered`, which drop NULLs, `qti-and`/`qti-or` with a deciding operand and
`qti-container-size` excepted); a condition treats NULL as false (rules.py).
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable

from lxml import etree

from tbconform.mocks.scoring.declarations import Declaration
from tbconform.mocks.scoring.errors import ItemNotScorable
from tbconform.mocks.scoring.names import attr, children, flag, tag, where
from tbconform.mocks.scoring.values import BASE_TYPES, Multiple, Ordered, numeric, parse_scalar, same

Env = dict[str, Any]
Expr = Callable[[Env], Any]
Scope = dict[str, Declaration]
COMPILERS: dict[str, Callable[[etree._Element, Scope], Expr]] = {}


def compile_expression(element: etree._Element, scope: Scope) -> Expr:
    """The closure that evaluates `element`; `ItemNotScorable` for an unknown or broken one."""
    compiler = COMPILERS.get(tag(element))
    if compiler is None:
        raise ItemNotScorable(f"{where(element)} is not a supported expression")
    return compiler(element, scope)


def op(*names: str) -> Callable:
    def register(function: Callable) -> Callable:
        for name in names:
            COMPILERS["qti-" + name] = function
        return function
    return register


def operands(element: etree._Element, scope: Scope, low: int, high: int | None = None) -> list[Expr]:
    found = children(element)
    high = low if high is None else high
    if len(found) < low or (high >= 0 and len(found) > high):
        count = str(low) if low == high else f"{low} or more" if high < 0 else f"{low} to {high}"
        raise ItemNotScorable(f"{where(element)} needs {count} operand(s), has {len(found)}")
    return [compile_expression(child, scope) for child in found]


def declared(element: etree._Element, scope: Scope, kinds: tuple[str, ...] = ()) -> Declaration:
    identifier = (attr(element, "identifier") or "").strip()
    declaration = scope.get(identifier)
    if declaration is None or (kinds and declaration.kind not in kinds):
        what = " or ".join(kinds) + " " if kinds else ""
        raise ItemNotScorable(f"{where(element)} refers to {identifier!r}, which is not a declared "
                              f"{what}variable")
    return declaration


# ---- variables and constants ----------------------------------------------------------------

@op("base-value")
def _base_value(element: etree._Element, scope: Scope) -> Expr:
    base_type = (attr(element, "base-type") or "").strip()
    if base_type not in BASE_TYPES:
        raise ItemNotScorable(f"{where(element)}: unknown base type {base_type!r}")
    try:
        value = parse_scalar(element.text or "", base_type)
    except ValueError as exc:
        raise ItemNotScorable(f"{where(element)}: {exc}") from None
    return lambda env: value


@op("variable")
def _variable(element: etree._Element, scope: Scope) -> Expr:
    identifier = declared(element, scope).identifier
    return lambda env: env.get(identifier)


@op("correct")
def _correct(element: etree._Element, scope: Scope) -> Expr:
    value = declared(element, scope, ("response",)).correct
    return lambda env: value


@op("default")
def _default(element: etree._Element, scope: Scope) -> Expr:
    value = declared(element, scope).default
    return lambda env: value


@op("null")
def _null(element: etree._Element, scope: Scope) -> Expr:
    return lambda env: None


@op("map-response")
def _map_response(element: etree._Element, scope: Scope) -> Expr:
    declaration = declared(element, scope, ("response",))
    mapping = declaration.mapping
    if mapping is None:
        raise ItemNotScorable(f"{where(element)}: response {declaration.identifier!r} has no qti-mapping")
    identifier = declaration.identifier
    return lambda env: mapping.apply(env.get(identifier))


@op("map-response-point")
def _map_response_point(element: etree._Element, scope: Scope) -> Expr:
    declaration = declared(element, scope, ("response",))
    areas = declaration.area_mapping
    if areas is None:
        raise ItemNotScorable(f"{where(element)}: response {declaration.identifier!r} has no "
                              "qti-area-mapping")
    identifier = declaration.identifier
    return lambda env: areas.apply(env.get(identifier))


# ---- comparison ------------------------------------------------------------------------------

@op("is-null")
def _is_null(element: etree._Element, scope: Scope) -> Expr:
    (inner,) = operands(element, scope, 1)
    return lambda env: inner(env) is None


@op("match")
def _match(element: etree._Element, scope: Scope) -> Expr:
    first, second = operands(element, scope, 2)

    def match(env: Env) -> Any:
        a = first(env)
        if a is None:
            return None
        b = second(env)
        return None if b is None else same(a, b)
    return match


def members(value: Any) -> tuple:
    return value if isinstance(value, (Multiple, Ordered)) else (value,)


@op("string-match")
def _string_match(element: etree._Element, scope: Scope) -> Expr:
    first, second = operands(element, scope, 2)
    sensitive = flag(element, "case-sensitive", True)
    substring = flag(element, "substring", False)

    def string_match(env: Env) -> Any:
        a, b = first(env), second(env)
        if a is None or b is None:
            return None
        a, b = str(a), str(b)
        if not sensitive:
            a, b = a.casefold(), b.casefold()
        return b in a if substring else a == b
    return string_match


@op("pattern-match")
def _pattern_match(element: etree._Element, scope: Scope) -> Expr:
    (inner,) = operands(element, scope, 1)
    text = attr(element, "pattern") or ""
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise ItemNotScorable(f"{where(element)}: pattern {text!r} is not a regular expression: "
                              f"{exc}") from None

    def pattern_match(env: Env) -> Any:
        value = inner(env)
        return None if value is None else pattern.fullmatch(str(value)) is not None
    return pattern_match


def _tolerance(element: etree._Element) -> tuple[float, float]:
    text = (attr(element, "tolerance") or "").split()
    try:
        values = [float(part) for part in text]
    except ValueError:
        raise ItemNotScorable(f"{where(element)}: tolerance {' '.join(text)!r} must be one or two "
                              "numbers (variable references are not supported)") from None
    if not 1 <= len(values) <= 2 or any(value < 0 or not math.isfinite(value) for value in values):
        raise ItemNotScorable(f"{where(element)}: tolerance needs one or two non-negative numbers")
    return values[0], values[-1]


@op("equal")
def _equal(element: etree._Element, scope: Scope) -> Expr:
    """x = y exactly, or y within [x - t0, x + t1] (absolute) or [x(1 - t0/100), x(1 + t1/100)]
    (relative), the bounds included unless include-lower-bound / include-upper-bound say false."""
    first, second = operands(element, scope, 2)
    mode = (attr(element, "tolerance-mode") or "exact").strip()
    if mode not in ("exact", "absolute", "relative"):
        raise ItemNotScorable(f"{where(element)}: unknown tolerance-mode {mode!r}")
    if mode == "exact":
        return numeric2(first, second, lambda x, y: x == y)
    t0, t1 = _tolerance(element)
    low_in = flag(element, "include-lower-bound", True)
    high_in = flag(element, "include-upper-bound", True)

    def within(x: float, y: float) -> bool:
        if mode == "absolute":
            low, high = x - t0, x + t1
        else:
            low, high = sorted((x * (1 - t0 / 100), x * (1 + t1 / 100)))
        return (low <= y if low_in else low < y) and (y <= high if high_in else y < high)
    return numeric2(first, second, within)


def numeric2(first: Expr, second: Expr, test: Callable[[Any, Any], Any]) -> Expr:
    def compare(env: Env) -> Any:
        a = first(env)
        if a is None:
            return None
        b = second(env)
        if b is None:
            return None
        if not (numeric(a) and numeric(b)):
            raise TypeError(f"a numeric operator got {a!r} and {b!r}")
        return test(a, b)
    return compare


for _name, _test in (("gt", lambda a, b: a > b), ("gte", lambda a, b: a >= b),
                     ("lt", lambda a, b: a < b), ("lte", lambda a, b: a <= b)):
    COMPILERS["qti-" + _name] = (lambda test: lambda element, scope:
                                  numeric2(*operands(element, scope, 2), test))(_test)


# ---- logic -----------------------------------------------------------------------------------

@op("and")
def _and(element: etree._Element, scope: Scope) -> Expr:
    parts = operands(element, scope, 1, -1)

    def both(env: Env) -> Any:
        unknown = False
        for part in parts:
            value = part(env)
            if value is None:
                unknown = True
            elif not value:
                return False
        return None if unknown else True
    return both


@op("or")
def _or(element: etree._Element, scope: Scope) -> Expr:
    parts = operands(element, scope, 1, -1)

    def either(env: Env) -> Any:
        unknown = False
        for part in parts:
            value = part(env)
            if value is None:
                unknown = True
            elif value:
                return True
        return None if unknown else False
    return either


@op("not")
def _not(element: etree._Element, scope: Scope) -> Expr:
    (inner,) = operands(element, scope, 1)

    def negate(env: Env) -> Any:
        value = inner(env)
        return None if value is None else not value
    return negate


@op("any-n")
def _any_n(element: etree._Element, scope: Scope) -> Expr:
    parts = operands(element, scope, 1, -1)
    try:
        low, high = int(attr(element, "min") or "0"), int(attr(element, "max") or str(len(parts)))
    except ValueError:
        raise ItemNotScorable(f"{where(element)}: min and max must be integers") from None

    def any_n(env: Env) -> Any:
        values = [part(env) for part in parts]
        true, unknown = sum(1 for v in values if v), sum(1 for v in values if v is None)
        if low <= true and true + unknown <= high:  # every way the NULLs could go fits
            return True
        if true > high or true + unknown < low:  # no way fits
            return False
        return None
    return any_n


# The other operator families register themselves in COMPILERS when imported.
from tbconform.mocks.scoring import arithmetic, containers  # noqa: E402,F401

"""Numeric operators: sum, product, subtract, divide, integer divide and modulus, power, min, max,
round, round-to, truncate and integer-to-float. A NULL operand, a division by zero or an overflow
gives NULL; a non-number operand is a TypeError (the engine reports ItemNotScorable)."""
from __future__ import annotations

import math
from typing import Any, Callable

from lxml import etree

from tbconform.mocks.scoring.errors import ItemNotScorable
from tbconform.mocks.scoring.expressions import (COMPILERS, Env, Expr, Scope, members, numeric2, op,
                                                 operands)
from tbconform.mocks.scoring.names import attr, tag, where
from tbconform.mocks.scoring.values import numeric

# ---- arithmetic ------------------------------------------------------------------------------

def _numbers(parts: list[Expr], env: Env) -> list | None:
    numbers = []
    for part in parts:
        value = part(env)
        if value is None:
            return None
        for member in members(value):
            if not numeric(member):
                raise TypeError(f"a numeric operator got {member!r}")
            numbers.append(member)
    return numbers


@op("sum")
def _sum(element: etree._Element, scope: Scope) -> Expr:
    parts = operands(element, scope, 1, -1)

    def total(env: Env) -> Any:
        numbers = _numbers(parts, env)
        if numbers is None:
            return None
        return sum(numbers) if all(isinstance(n, int) for n in numbers) else math.fsum(numbers)
    return total


@op("product")
def _product(element: etree._Element, scope: Scope) -> Expr:
    parts = operands(element, scope, 1, -1)

    def product(env: Env) -> Any:
        numbers = _numbers(parts, env)
        return None if numbers is None else math.prod(numbers)
    return product


@op("min", "max")
def _extreme(element: etree._Element, scope: Scope) -> Expr:
    parts = operands(element, scope, 1, -1)
    pick = min if tag(element) == "qti-min" else max

    def extreme(env: Env) -> Any:
        numbers = _numbers(parts, env)
        return None if not numbers else pick(numbers)
    return extreme


def _binary(element: etree._Element, scope: Scope, function: Callable[[Any, Any], Any]) -> Expr:
    first, second = operands(element, scope, 2)
    return numeric2(first, second, function)


COMPILERS["qti-subtract"] = lambda element, scope: _binary(element, scope, lambda a, b: a - b)
COMPILERS["qti-divide"] = lambda element, scope: _binary(
    element, scope, lambda a, b: None if b == 0 else a / b)
COMPILERS["qti-integer-divide"] = lambda element, scope: _binary(
    element, scope, lambda a, b: None if b == 0 else int(a) // int(b))
COMPILERS["qti-integer-modulus"] = lambda element, scope: _binary(
    element, scope, lambda a, b: None if b == 0 else int(a) % int(b))
COMPILERS["qti-power"] = lambda element, scope: _binary(element, scope, _power)


def _power(a: Any, b: Any) -> Any:
    try:
        result = float(a) ** float(b)
    except (OverflowError, ZeroDivisionError):
        return None
    if isinstance(result, complex) or not math.isfinite(result):
        return None
    return result


def _unary(element: etree._Element, scope: Scope, function: Callable[[Any], Any]) -> Expr:
    (inner,) = operands(element, scope, 1)

    def apply(env: Env) -> Any:
        value = inner(env)
        if value is None:
            return None
        if not numeric(value):
            raise TypeError(f"{tag(element)} got {value!r}")
        return function(value)
    return apply


COMPILERS["qti-round"] = lambda element, scope: _unary(element, scope, lambda v: math.floor(v + 0.5))
COMPILERS["qti-truncate"] = lambda element, scope: _unary(element, scope, lambda v: int(v))
COMPILERS["qti-integer-to-float"] = lambda element, scope: _unary(element, scope, float)


@op("round-to")
def _round_to(element: etree._Element, scope: Scope) -> Expr:
    mode = (attr(element, "rounding-mode") or "significantFigures").strip()
    try:
        figures = int(attr(element, "figures") or "")
    except ValueError:
        raise ItemNotScorable(f"{where(element)}: figures must be an integer") from None
    if mode not in ("significantFigures", "decimalPlaces") or (mode == "significantFigures" and figures < 1):
        raise ItemNotScorable(f"{where(element)}: unsupported rounding-mode/figures")

    def round_to(value: float) -> float:
        places = figures if mode == "decimalPlaces" else \
            figures - 1 - (math.floor(math.log10(abs(value))) if value else 0)
        scale = 10.0 ** places
        return math.floor(value * scale + 0.5) / scale
    return _unary(element, scope, round_to)

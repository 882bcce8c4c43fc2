"""Container operators: member, contains (a sub-bag, or a contiguous run for ordered containers),
multiple and ordered (which drop NULLs and flatten), delete, container-size, index, field-value
(records) and inside (points in a shape)."""
from __future__ import annotations

from collections import Counter
from typing import Any

from lxml import etree

from tbconform.mocks.scoring.declarations import shape
from tbconform.mocks.scoring.errors import ItemNotScorable
from tbconform.mocks.scoring.expressions import Env, Expr, Scope, members, op, operands
from tbconform.mocks.scoring.names import attr, tag, where
from tbconform.mocks.scoring.values import Ordered, Record, container, same


@op("member")
def _member(element: etree._Element, scope: Scope) -> Expr:
    first, second = operands(element, scope, 2)

    def member(env: Env) -> Any:
        a, b = first(env), second(env)
        return None if a is None or b is None else a in members(b)
    return member


@op("contains")
def _contains(element: etree._Element, scope: Scope) -> Expr:
    first, second = operands(element, scope, 2)

    def contains(env: Env) -> Any:
        a, b = first(env), second(env)
        if a is None or b is None:
            return None
        whole, part = members(a), members(b)
        if isinstance(a, Ordered) and isinstance(b, Ordered):  # a contiguous run, in order
            size = len(part)
            return any(whole[i:i + size] == part for i in range(len(whole) - size + 1))
        return not (Counter(part) - Counter(whole))  # a sub-bag: each member as often
    return contains


@op("multiple", "ordered")
def _container(element: etree._Element, scope: Scope) -> Expr:
    parts = operands(element, scope, 0, -1)
    kind = "ordered" if tag(element) == "qti-ordered" else "multiple"

    def build(env: Env) -> Any:
        found: list = []
        for part in parts:
            value = part(env)
            if value is not None:
                found.extend(members(value))
        return container(kind, found)
    return build


@op("delete")
def _delete(element: etree._Element, scope: Scope) -> Expr:
    first, second = operands(element, scope, 2)

    def delete(env: Env) -> Any:
        a, b = first(env), second(env)
        if a is None or b is None:
            return None
        kind = "ordered" if isinstance(b, Ordered) else "multiple"
        return container(kind, (member for member in members(b) if not same(member, a)))
    return delete


@op("container-size")
def _container_size(element: etree._Element, scope: Scope) -> Expr:
    (inner,) = operands(element, scope, 1)

    def size(env: Env) -> int:
        value = inner(env)
        return 0 if value is None else len(members(value))
    return size


@op("index")
def _index(element: etree._Element, scope: Scope) -> Expr:
    (inner,) = operands(element, scope, 1)
    try:
        n = int(attr(element, "n") or "")
    except ValueError:
        raise ItemNotScorable(f"{where(element)}: n must be an integer (variable references are "
                              "not supported)") from None

    def index(env: Env) -> Any:
        value = inner(env)
        found = () if value is None else members(value)
        return found[n - 1] if 1 <= n <= len(found) else None
    return index


@op("field-value")
def _field_value(element: etree._Element, scope: Scope) -> Expr:
    (inner,) = operands(element, scope, 1)
    name = attr(element, "field-identifier") or ""

    def field_value(env: Env) -> Any:
        value = inner(env)
        return value.get(name) if isinstance(value, Record) else None
    return field_value


@op("inside")
def _inside(element: etree._Element, scope: Scope) -> Expr:
    (inner,) = operands(element, scope, 1)
    test = shape(element)

    def inside(env: Env) -> Any:
        value = inner(env)
        if value is None:
            return None
        return any(test(point) for point in members(value))
    return inside

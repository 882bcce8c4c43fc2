"""Response rules compiled to closures `rule(env) -> bool` (True: `qti-exit-response`, stop):
`qti-response-condition` (if / else-if / else, NULL conditions false), `qti-set-outcome-value`
(the value coerced to the outcome's declaration), `qti-lookup-outcome-value` (through the
outcome's match or interpolation table), `qti-exit-response` and the inline
`qti-response-processing-fragment`."""
from __future__ import annotations

from typing import Any, Callable

from lxml import etree

from tbconform.mocks.scoring.declarations import Declaration
from tbconform.mocks.scoring.errors import ItemNotScorable
from tbconform.mocks.scoring.expressions import Env, Scope, compile_expression
from tbconform.mocks.scoring.names import attr, children, tag, where
from tbconform.mocks.scoring.values import Multiple, Ordered, Record, container, numeric

Rule = Callable[[Env], bool]


def compile_rules(elements: list[etree._Element], scope: Scope) -> list[Rule]:
    """The rules of a response-processing (or fragment, or branch) body, in order."""
    rules: list[Rule] = []
    for element in elements:
        name = tag(element)
        if name == "qti-response-condition":
            rules.append(_condition(element, scope))
        elif name == "qti-set-outcome-value":
            rules.append(_set_outcome(element, scope))
        elif name == "qti-lookup-outcome-value":
            rules.append(_lookup_outcome(element, scope))
        elif name == "qti-exit-response":
            rules.append(lambda env: True)
        elif name == "qti-response-processing-fragment":
            rules.extend(compile_rules(children(element), scope))
        else:
            raise ItemNotScorable(f"{where(element)} is not a supported response rule")
    return rules


def run(rules: list[Rule], env: Env) -> bool:
    """Run `rules` in order; True when one of them exited response processing."""
    for rule in rules:
        if rule(env):
            return True
    return False


def _condition(element: etree._Element, scope: Scope) -> Rule:
    branches: list[tuple[Callable[[Env], Any] | None, list[Rule]]] = []
    parts = children(element)
    for index, part in enumerate(parts):
        name = tag(part)
        body = children(part)
        if name in ("qti-response-if", "qti-response-else-if"):
            if (name == "qti-response-if") != (index == 0):
                raise ItemNotScorable(f"{where(part)}: a condition starts with one qti-response-if")
            if not body:
                raise ItemNotScorable(f"{where(part)} has no condition expression")
            branches.append((compile_expression(body[0], scope), compile_rules(body[1:], scope)))
        elif name == "qti-response-else" and index == len(parts) - 1 and index > 0:
            branches.append((None, compile_rules(body, scope)))
        else:
            raise ItemNotScorable(f"{where(part)} is out of place in a qti-response-condition")
    if not branches:
        raise ItemNotScorable(f"{where(element)} is empty")

    def condition(env: Env) -> bool:
        for test, body in branches:
            if test is None or test(env):  # NULL (None) counts as false
                return run(body, env)
        return False
    return condition


def _set_outcome(element: etree._Element, scope: Scope) -> Rule:
    identifier = (attr(element, "identifier") or "").strip()
    declaration = scope.get(identifier)
    if declaration is None or declaration.kind != "outcome":
        raise ItemNotScorable(f"{where(element)} sets {identifier!r}, which is not a declared outcome")
    body = children(element)
    if len(body) != 1:
        raise ItemNotScorable(f"{where(element)} needs exactly one expression, has {len(body)}")
    expression = compile_expression(body[0], scope)

    def set_outcome(env: Env) -> bool:
        env[identifier] = coerce(expression(env), declaration)
        return False
    return set_outcome


def _lookup_outcome(element: etree._Element, scope: Scope) -> Rule:
    identifier = (attr(element, "identifier") or "").strip()
    declaration = scope.get(identifier)
    if declaration is None or declaration.kind != "outcome" or declaration.lookup is None:
        raise ItemNotScorable(f"{where(element)}: {identifier!r} is not an outcome with a "
                              "qti-match-table or qti-interpolation-table")
    body = children(element)
    if len(body) != 1:
        raise ItemNotScorable(f"{where(element)} needs exactly one expression, has {len(body)}")
    expression, lookup = compile_expression(body[0], scope), declaration.lookup

    def lookup_outcome(env: Env) -> bool:
        value = expression(env)
        if value is not None and not numeric(value):
            raise TypeError(f"qti-lookup-outcome-value {identifier!r} got {value!r}")
        env[identifier] = None if value is None else coerce(lookup(value), declaration)
        return False
    return lookup_outcome


def coerce(value: Any, declaration: Declaration) -> Any:
    """`value` as the outcome declares it: a number as integer or float, a single value wrapped for
    a container outcome, a one-member container unwrapped for a single one. A value that cannot fit
    raises TypeError (the engine reports it as ItemNotScorable)."""
    if value is None:
        return None
    cardinality, base_type = declaration.cardinality, declaration.base_type
    if cardinality == "single":
        if isinstance(value, (Multiple, Ordered)):
            if len(value) != 1:
                raise TypeError(f"outcome {declaration.identifier!r} is single; got {len(value)} values")
            value = value[0]
        if isinstance(value, Record):
            raise TypeError(f"outcome {declaration.identifier!r} is single; got a record")
        if base_type == "float" and numeric(value):
            return float(value)
        if base_type == "integer" and numeric(value):
            return int(value)
        return value
    if cardinality == "record":
        return value
    members = value if isinstance(value, (Multiple, Ordered)) else (value,)
    if base_type == "float":
        members = tuple(float(member) if numeric(member) else member for member in members)
    return container(cardinality, members)

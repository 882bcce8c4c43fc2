"""The standard response-processing templates, built from their documented semantics rather than
loaded from files (the template URIs are identifiers, never fetched):

* match_correct: SCORE = 1 when RESPONSE matches its correct response, else 0;
* map_response: SCORE = 0 when RESPONSE is NULL, else mapResponse(RESPONSE);
* map_response_point: SCORE = 0 when RESPONSE is NULL, else mapResponsePoint(RESPONSE).

A template is recognised by its QTI 3.0 URI
(https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct[.xml]), its QTI 2.x URI
(http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct[.xml]) or its short name.

The templates score the response named RESPONSE. Sandbox extension for items that do not have
one: the only response declaration stands in for it; with several (and no RESPONSE), match_correct
gives 1 only when every response matches, and the map templates add up their responses' maps.
"""
from __future__ import annotations

import re

from tbconform.mocks.scoring.declarations import Declaration
from tbconform.mocks.scoring.errors import ItemNotScorable
from tbconform.mocks.scoring.expressions import Env
from tbconform.mocks.scoring.rules import Rule
from tbconform.mocks.scoring.values import same

TEMPLATES = ("match_correct", "map_response", "map_response_point")
_URI = re.compile(r"(?:^|/)(match_correct|map_response_point|map_response)(?:\.xml)?/?$")


def template_name(reference: str) -> str | None:
    """The template a `template` attribute names, or None when it is none of the standard three."""
    match = _URI.search(reference.strip())
    return match.group(1) if match else None


def targets(declarations: dict[str, Declaration]) -> list[Declaration]:
    """The response declarations a template scores: RESPONSE, or else all of them (see above)."""
    if "RESPONSE" in declarations and declarations["RESPONSE"].kind == "response":
        return [declarations["RESPONSE"]]
    return [d for d in declarations.values() if d.kind == "response" and not d.builtin]


def template_rule(name: str, responses: list[Declaration], score: str = "SCORE") -> Rule:
    """The rule that runs template `name` over `responses`, setting outcome `score`."""
    if not responses:
        raise ItemNotScorable(f"template {name} needs a response declaration; the item has none")
    if len(responses) > 1:  # several responses stand in for RESPONSE: those the template can use
        responses = [d for d in responses if _table(name, d) is not None] or responses
    if name == "match_correct":
        return _match_correct([(d.identifier, d.correct) for d in responses], score)
    tables = []
    for declaration in responses:
        table = _table(name, declaration)
        if table is None:
            element = "qti-mapping" if name == "map_response" else "qti-area-mapping"
            raise ItemNotScorable(f"template {name}: response {declaration.identifier!r} has no {element}")
        tables.append((declaration.identifier, table))

    def map_template(env: Env) -> bool:
        total = 0.0
        for identifier, table in tables:
            value = env.get(identifier)
            if value is not None:
                total += table.apply(value)
        env[score] = total
        return False
    return map_template


def _match_correct(pairs: list[tuple[str, object]], score: str) -> Rule:
    if len(pairs) == 1:  # the common case, kept to one look-up
        (only, correct), = pairs

        def match_one(env: Env) -> bool:
            value = env.get(only)
            right = value is not None and correct is not None and same(value, correct)
            env[score] = 1.0 if right else 0.0
            return False
        return match_one

    def match_all(env: Env) -> bool:
        for identifier, expected in pairs:
            value = env.get(identifier)
            if value is None or expected is None or not same(value, expected):
                env[score] = 0.0
                return False
        env[score] = 1.0
        return False
    return match_all


def best_score(name: str, responses: list[Declaration]) -> float:
    """The most template `name` can give: 1 for match_correct; for the map templates, each
    mapping's best (largest entry for a single response, sum of positive entries for a container,
    clamped by upper-bound), added up."""
    if name == "match_correct":
        return 1.0
    total = 0.0
    for declaration in responses:
        table = _table(name, declaration)
        if table is not None:
            total += table.best(declaration.cardinality)
    return total


def _table(name: str, declaration: Declaration) -> object:
    """What template `name` needs from a declaration: its correct response, mapping or area mapping."""
    if name == "match_correct":
        return declaration.correct
    return declaration.mapping if name == "map_response" else declaration.area_mapping


def usable(name: str, responses: list[Declaration]) -> bool:
    """Whether at least one of `responses` has what template `name` needs."""
    return any(_table(name, declaration) is not None for declaration in responses)


def implied_template(responses: list[Declaration]) -> str | None:
    """Which template an item without qti-response-processing gets: match_correct when its
    responses have correct responses (Timeback's default), else a map template when they have
    mappings, else none (the item is not scorable)."""
    if responses and all(d.correct is not None for d in responses):
        return "match_correct"
    if responses and all(d.mapping is not None for d in responses):
        return "map_response"
    if responses and all(d.area_mapping is not None for d in responses):
        return "map_response_point"
    return None

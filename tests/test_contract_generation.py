"""How the contract layer generates cases: filter and fieldset values drawn from their grammar
(harness/grammars.py) and the bounded slice of schemathesis' coverage phase."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tbconform.harness import contract, grammars
from tbconform.harness.catalog import Catalog
from tbconform.specs.fieldpaths import FILTER_OPERATORS, fields_pattern, filter_pattern


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(["oneroster"])


def test_every_filter_and_fields_pattern_of_the_specs_gets_its_grammar(catalog):
    formats = grammars.grammar_formats(catalog.collections.values())
    for op in catalog.ops:
        if op.action != "list":
            continue
        params = {p["name"]: p["schema"] for p in op.operation.raw.get("parameters", [])
                  if isinstance(p, dict) and "schema" in p}
        for name in ("filter", "fields"):
            if name in params and "pattern" in params[name]:
                assert params[name]["pattern"] in formats, f"{op.label}: {name} pattern has no grammar"


def test_a_pattern_the_harness_cannot_rebuild_keeps_regex_generation():
    raw = {"schema": {"type": "string", "pattern": "^(?:a|b)=x$"}, "other": [{"pattern": filter_pattern(["a"])}]}
    formats = grammars.grammar_formats([])
    assert grammars.tag_patterns(raw, formats) == 0 and "format" not in raw["schema"]


@pytest.mark.parametrize("name", ["users", "classes", "lineItems", "results", "resources"])
def test_grammar_values_always_match_the_declared_pattern(catalog, name):
    coll = catalog.collections[name]
    filter_re = re.compile(filter_pattern(list(coll.fields)))
    fields_re = re.compile(fields_pattern(sorted(coll.top_fields)))
    seen_operators: set[str] = set()
    grouped = []

    @settings(max_examples=300, database=None, deadline=None)
    @given(grammars.filter_strategy(coll.fields), grammars.fieldset_strategy(coll.top_fields))
    def check(expression: str, fieldset: str) -> None:
        assert filter_re.fullmatch(expression), expression
        assert fields_re.fullmatch(fieldset), fieldset
        seen_operators.update(op for op in FILTER_OPERATORS if op in expression)
        grouped.append("(" in expression and (" AND " in expression or " OR " in expression))

    check()
    # The grammar reaches the whole language: every operator, joins and parenthesised groups.
    assert seen_operators == set(FILTER_OPERATORS)
    assert any(grouped)


def test_positive_list_cases_draw_filters_from_the_grammar(catalog):
    op = next(o for o in catalog.ops if o.label == "GET /ims/oneroster/rostering/v1p2/users")
    schema = contract.schema_for(op.operation.doc, catalog.collections.values())
    operation = schema[op.path][op.method]
    pattern = re.compile(filter_pattern(list(catalog.collections["users"].fields)))
    filters = []

    @settings(max_examples=60, database=None, deadline=None)
    @given(operation.as_strategy())
    def check(case) -> None:
        if case.query and "filter" in case.query:
            filters.append(case.query["filter"])

    check()
    assert filters and all(pattern.fullmatch(value) for value in filters), filters[:5]
    # The plain schema (for the coverage phase) is left as the spec wrote it.
    plain = contract.schema_for(op.operation.doc)
    assert plain is not schema
    assert "format" not in str(plain.raw_schema["paths"][op.path]["get"]["parameters"])


PROBE_OPS = ["GET /ims/oneroster/rostering/v1p2/users", "POST /ims/oneroster/rostering/v1p2/users",
             "PUT /ims/oneroster/gradebook/v1p2/categories/{sourcedId}",
             "DELETE /ims/oneroster/resources/v1p2/resources/{sourcedId}",
             "GET /ims/oneroster/gradebook/v1p2/classes/{classSourcedId}/lineItems"]


@pytest.mark.parametrize("label", PROBE_OPS)
def test_coverage_slice_sends_the_same_probes_as_the_whole_phase(catalog, label):
    op = next(o for o in catalog.ops if o.label == label)
    plain = contract.schema_for(op.operation.doc)
    operation = plain[op.path][op.method]

    def probes(cases) -> list[tuple[str, str, str]]:
        return sorted((str(c.meta.phase.data.scenario), c.method, str(c.meta.phase.data.description))
                      for c in cases if contract._is_probe(c))

    plain.coverage_unexpected_methods_seen.clear()
    walked = contract._coverage_walk(plain, operation, 3)
    plain.coverage_unexpected_methods_seen.clear()
    sliced = contract._coverage_slice(plain, operation, 3)
    assert probes(sliced) == probes(walked) and probes(sliced)
    ordinary = len(sliced) - len(probes(sliced))
    assert ordinary == len(walked) - len(probes(walked)) and 1 <= ordinary <= 3


def test_coverage_slice_falls_back_to_the_whole_phase_when_internals_move(catalog, monkeypatch):
    def moved(*args, **kwargs):
        raise AttributeError("module 'schemathesis.specs.openapi.coverage._operation' has no attribute 'CoverageRun'")

    op = next(o for o in catalog.ops if o.label == PROBE_OPS[0])
    plain = contract.schema_for(op.operation.doc)
    monkeypatch.setattr(contract, "_coverage_slice", moved)
    plain.coverage_unexpected_methods_seen.clear()
    cases = contract._coverage_cases(plain, plain[op.path][op.method], 2)
    assert any(contract._is_probe(c) for c in cases) and len(cases) - sum(map(contract._is_probe, cases)) == 2

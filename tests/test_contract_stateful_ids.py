"""Run-id tagging in stateful sequences keeps what schemathesis knows of where a value came from.

`ensure_resource_availability` blames a 404 on the API only when every parameter of the follow-up
call came from a link out of a successful create; schemathesis finds those as what changed since
it built the case (`case._override`).  The harness rewrites a write's id to carry the run id
(`contract.tag_case`), so without care a generated id (the link explored another value) that the
tag rewrote looked link-supplied, and the 404 for that never-created id was reported as "created
resource not found" (QTI's stateful run at seeds 3 and 7).
"""
from __future__ import annotations

import hypothesis
import pytest
from hypothesis import HealthCheck, strategies as st

from tbconform.harness import contract
from tbconform.harness.catalog import Catalog

RUN_ID = "tbcids"
PATH, METHOD = "/assessment-tests/{identifier}", "PUT"


@pytest.fixture(scope="module")
def setup():
    catalog = Catalog.load(["qti"])
    op = next(o for o in catalog.ops if o.path == PATH and o.method == METHOD)
    schema = contract.schema_for(op.operation.doc, catalog.collections.values())
    return op, schema[PATH][METHOD]


def from_links(case) -> bool:
    """schemathesis' own test (ensure_resource_availability): every parameter is an override."""
    override = case._override
    return all(p.name in getattr(override, p.location.container_name, {}) for p in case.operation.iter_parameters())


def draw_cases(strategy, count: int = 8) -> list:
    drawn: list = []

    @hypothesis.settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck),
                         phases=[hypothesis.Phase.generate])
    @hypothesis.given(st.data())
    def collect(data):
        drawn.append(data.draw(strategy))

    collect()
    return drawn


def test_a_tagged_generated_id_is_not_taken_for_a_linked_one(setup):
    op, operation = setup
    cases = draw_cases(operation.as_strategy())
    assert cases
    for case in cases:
        generated = case.path_parameters["identifier"]
        assert not from_links(case)
        contract.tag_case(case, op, RUN_ID)
        assert case.path_parameters["identifier"] == contract._tag(generated, RUN_ID) != generated
        assert case._override.path_parameters == {}, case._override
        assert not from_links(case)  # so a 404 for it is no "created resource not found"


def test_a_linked_id_stays_linked_whether_tagged_or_not(setup):
    op, operation = setup
    linked = "made-by-an-earlier-create"
    for case in draw_cases(operation.as_strategy(path_parameters={"identifier": linked}), 4):
        assert from_links(case)
        contract.tag_case(case, op, RUN_ID, created={linked})  # the run's own record: sent as it is
        assert case.path_parameters["identifier"] == linked and from_links(case)
    for case in draw_cases(operation.as_strategy(path_parameters={"identifier": linked}), 4):
        contract.tag_case(case, op, RUN_ID)  # not the run's (a seeded record read earlier): tagged
        assert case.path_parameters["identifier"] == f"{RUN_ID}-{linked}"
        assert case._override.path_parameters == {"identifier": f"{RUN_ID}-{linked}"} and from_links(case)

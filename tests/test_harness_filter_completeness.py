"""A filtered answer must hold everything it should (issue 7 item 10): as many records as its own total
says when the limit allows it, and every matching record of the unfiltered scan whatever its total
claims. Both halves are proven apart: the named fault `filter-drops-record` keeps the total (the count
half sees it), and a variant that also lowers the total is seen by the comparison with the scan."""
from __future__ import annotations

from typing import Any

import orjson
import pytest

from tbconform.harness.catalog import Catalog
from tbconform.harness.config import RunConfig
from tbconform.harness.context import CheckContext
from tbconform.harness.http import HarnessSession, TokenProvider
from tbconform.harness.rules import REGISTRY, load_rule_plugins
from tbconform.harness.semantic import run_rule
from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.faults import REGISTRY as FAULT_REGISTRY
from tbconform.mocks.faults.rewrite import listed, repage
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import RunningSandbox, run_sandbox

USERS = "/ims/oneroster/rostering/v1p2/users"
RULES = ("oneroster.filter.equals", "oneroster.filter.in", "oneroster.filter.and-or")


@pytest.fixture(scope="module")
def users_list():
    load_rule_plugins()
    catalog = Catalog.load(["oneroster"])
    return catalog, next(op for op in catalog.ops if op.label == f"GET {USERS}")


def _judge(running: RunningSandbox, catalog: Catalog, op: Any) -> dict[str, Any]:
    session = HarnessSession(running.base_url, TokenProvider(running.token_url, DEFAULT_CLIENT_ID,
                                                             DEFAULT_CLIENT_SECRET), writes_allowed=False)
    ctx = CheckContext(RunConfig(target=running.base_url), catalog, session)
    try:
        return {rule_id: run_rule(ctx, REGISTRY[rule_id], op) for rule_id in RULES}
    finally:
        session.close()


def _drops_one_and_recounts(call):
    """Like `filter-drops-record`, but the totals count only what is left: they agree with the page."""
    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        if ctx.query.get("filter") is None or response.status != 200:
            return response
        body = orjson.loads(response.body)
        lists = listed(ctx, body)
        if not lists or not lists[0]:
            return response
        for records in lists:
            del records[:1]
        trimmed = Response(200, orjson.dumps(body), dict(response.headers), response.content_type)
        return repage(ctx, trimmed, total=int(body["totalCount"]) - 1)
    return run


def test_the_healthy_sandbox_passes(readonly_sandbox, users_list):
    catalog, op = users_list
    results = _judge(readonly_sandbox, catalog, op)
    assert all(r.status == "passed" for r in results.values()), {k: r.message for k, r in results.items()}


def test_a_dropped_record_the_total_still_counts_is_caught():
    """The named fault: the answer holds one record fewer than its own X-Total-Count and totalCount."""
    assert "filter-drops-record" in FAULT_REGISTRY
    load_rule_plugins()
    catalog = Catalog.load(["oneroster"])
    op = next(o for o in catalog.ops if o.label == f"GET {USERS}")
    with run_sandbox(SandboxConfig(faults=frozenset({"filter-drops-record"}))) as running:
        results = _judge(running, catalog, op)
    for rule_id, result in results.items():
        assert result.status == "failed", (rule_id, result.status, result.message)
        assert "but its own total says" in result.message, (rule_id, result.message)


def test_a_dropped_record_is_caught_whatever_the_total_claims(users_list):
    """Totals lowered to match the short page: the count agrees, the comparison with the scan does not."""
    catalog, op = users_list
    with run_sandbox(SandboxConfig()) as running:
        actions = running.sandbox.stages.actions
        actions["list"] = _drops_one_and_recounts(actions["list"])
        check = running.client().get(USERS, params={"filter": "status='active'", "limit": 3000})
        body = check.json()
        assert len(body["users"]) == body["totalCount"] == int(check.headers["X-Total-Count"])  # consistent
        results = _judge(running, catalog, op)
    for rule_id, result in results.items():
        assert result.status == "failed", (rule_id, result.status, result.message)
        assert "left out 1 matching record(s) of the unfiltered listing" in result.message, (rule_id, result.message)

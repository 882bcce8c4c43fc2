"""Warning rules: a target that omits what the spec allows it to omit (Link, X-Total-Count, a user's
email) gets a warning under the rule's id, and a target that sends them gets a pass."""
from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from tbconform.harness.catalog import Catalog
from tbconform.harness.config import RunConfig
from tbconform.harness.context import CheckContext
from tbconform.harness.http import HarnessSession
from tbconform.harness.rules import REGISTRY, load_rule_plugins
from tbconform.harness.semantic import run_rule

USERS = "/ims/oneroster/rostering/v1p2/users"
WARNING_RULES = ("oneroster.paging.link-header", "oneroster.paging.total-count-header", "oneroster.users.email")


def _user(n: int, email: bool) -> dict:
    user = {"sourcedId": f"u{n}", "status": "active", "dateLastModified": "2025-01-01T00:00:00.000Z",
            "enabledUser": True, "givenName": f"G{n}", "familyName": f"F{n}", "roles": []}
    return {**user, "email": f"u{n}@example.org"} if email else user


def _serve(httpserver, helpful: bool) -> None:
    users = [_user(n, email=helpful) for n in range(8)]

    def answer(request: Request) -> Response:
        limit, offset = int(request.args.get("limit", 100)), int(request.args.get("offset", 0))
        page = users[offset:offset + limit]
        headers = {}
        if helpful:
            headers["X-Total-Count"] = str(len(users))
            if offset + limit < len(users):
                headers["Link"] = f'<{httpserver.url_for(USERS)}?limit={limit}&offset={offset + limit}>; rel="next"'
        body = {"users": page, "totalCount": len(users), "offset": offset, "limit": limit}
        return Response(json.dumps(body), headers=headers, content_type="application/json")

    httpserver.expect_request(USERS).respond_with_handler(answer)


@pytest.fixture(scope="module")
def users_list():
    load_rule_plugins()
    catalog = Catalog.load(["oneroster"])
    return catalog, next(op for op in catalog.ops if op.label == f"GET {USERS}")


@pytest.mark.parametrize("helpful", [False, True], ids=["omits", "sends"])
def test_warning_rules(httpserver, users_list, helpful):
    catalog, op = users_list
    _serve(httpserver, helpful)
    session = HarnessSession(httpserver.url_for(""), None, writes_allowed=False)
    ctx = CheckContext(RunConfig(target=httpserver.url_for("")), catalog, session)
    results = {rule_id: run_rule(ctx, REGISTRY[rule_id], op) for rule_id in WARNING_RULES}
    for rule_id, result in results.items():
        assert result.status == ("passed" if helpful else "warning"), (rule_id, result.message)
    if not helpful:
        assert "no Link header" in results["oneroster.paging.link-header"].message
        assert "X-Total-Count" in results["oneroster.paging.total-count-header"].message
        assert "8 of 8 listed users have no email" in results["oneroster.users.email"].message
        assert results["oneroster.users.email"].exchange is not None


def test_warning_rules_leave_broken_answers_to_the_failing_rules(httpserver, users_list):
    catalog, op = users_list
    httpserver.expect_request(USERS).respond_with_data("down", status=500)
    ctx = CheckContext(RunConfig(target=httpserver.url_for("")), catalog,
                       HarnessSession(httpserver.url_for(""), None, writes_allowed=False))
    for rule_id in WARNING_RULES:
        result = run_rule(ctx, REGISTRY[rule_id], op)
        assert result.status == "skipped" and "other rules" in result.message, (rule_id, result.message)

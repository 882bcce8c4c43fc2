"""Warning rules: a target that omits what the spec allows it to omit (Link, X-Total-Count, a user's
email) gets a warning under the rule's id, and a target that sends them gets a pass. Through
`tbconform run`, a warning leaves the exit code 0 and the verdict PASS, and every report counts and
lists it apart from failures."""
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


def test_a_warning_fault_leaves_the_run_passing_and_every_report_lists_it(tmp_path):
    """`tbconform run` against the sandbox with `link-header-missing`: exit 0, verdict PASS, and the
    warning is counted and listed apart in the terminal, summary.json, JUnit, index.html and Allure."""
    import subprocess
    import sys
    import xml.etree.ElementTree as ET

    from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
    from tbconform.mocks.sandbox import SandboxConfig
    from tbconform.mocks.testing import run_sandbox

    rule_id = "oneroster.paging.link-header"
    with run_sandbox(SandboxConfig(faults=frozenset({"link-header-missing"}))) as running:
        done = subprocess.run(
            [sys.executable, "-m", "tbconform.harness.cli", "run", "--target", running.base_url,
             "--client-id", DEFAULT_CLIENT_ID, "--client-secret", DEFAULT_CLIENT_SECRET, "--layers", "semantic",
             "--rules", "oneroster.paging,oneroster.pagination", "--workers", "1", "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "tbconform: PASS against" in done.stdout and "warnings (" in done.stdout and rule_id in done.stdout, \
        done.stdout[-2000:]

    results = json.loads((tmp_path / "run.json").read_text())["results"]
    warned = [r for r in results if r["status"] == "warning"]
    assert {r["id"] for r in warned} == {rule_id} and not [r for r in results if r["status"] in ("failed", "error")]
    assert all("no Link header" in r["message"] for r in warned)

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdict"] == "PASS" and summary["failed"] == 0 and summary["errors"] == 0
    assert summary["warnings"] == len(warned) > 0 and summary["rules"][rule_id]["warnings"] == len(warned)
    assert summary["apis"]["oneroster"]["warnings"] == len(warned)
    assert {c["id"] for c in summary["checks"] if c["status"] == "warning"} == {rule_id}

    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.get("failures") == "0" and junit.get("errors") == "0"
    cases = [c for c in junit.iter("testcase") if c.get("name", "").endswith(f":: {rule_id}")]
    assert cases and not [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    flagged_cases = [c for c in cases if (c.findtext("system-out") or "").startswith("WARNING rule " + rule_id)]
    assert len(flagged_cases) == len(warned)
    counted = sum(int(p.get("value")) for p in junit.iter("property") if p.get("name") == "warnings")
    assert counted == len(warned)

    page = (tmp_path / "index.html").read_text()
    section = page[page.index("<section id=warnings>"):]
    section = section[:section.index("</section>")]
    assert f"Warnings ({len(warned)})" in section and rule_id in section

    allure = [json.loads(p.read_text()) for p in (tmp_path / "allure-results").glob("*-result.json")]
    flagged = [a for a in allure if {"name": "story", "value": rule_id} in a.get("labels", [])]
    assert flagged, "no Allure result for the warning rule"
    warned_ops = {r["operation"] for r in warned}
    shown = [a for a in flagged if next(lb["value"] for lb in a["labels"] if lb["name"] == "feature") in warned_ops]
    assert len(shown) == len(warned_ops)
    for result in shown:
        assert result["status"] == "passed"  # a warning never reads as a failure
        assert {"name": "severity", "value": "minor"} in result["labels"]
        assert any(a["name"] == f"{rule_id} message" for a in result.get("attachments", []))

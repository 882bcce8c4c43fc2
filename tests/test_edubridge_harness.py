"""The `edubridge.*` harness rules: registered with stable ids, each judged on its one operation,
0 failures against the conformant sandbox (in process and through `tbconform run`), standard skips
and no write with writes off, and the events the analytics rules build valid and placed on the
days they claim.

Which broken EduBridge fails which rule is proven in tests/test_harness_detection.py
(EDUBRIDGE_DETECTION)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from tbconform.harness.catalog import Catalog
from tbconform.harness.checks import edubridge as checks
from tbconform.harness.rules import rules_for
from tbconform.harness.semantic import run_rule, semantic_pairs
from tbconform.mocks.router import Router
from tbconform.mocks.sandbox import Sandbox, SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tbconform.specs.caliper.validate import validate_envelope, validate_event
from tests.edubridge_common import module_sandbox
from tests.test_caliper_harness import _ctx

EB = "/edubridge"
RULES = {  # rule id -> (the operation it is judged on, writes)
    "edubridge.enroll.creates-oneroster": (f"POST {EB}/enrollments/enroll/{{userId}}/{{courseId}}", True),
    "edubridge.unenroll.soft-deletes": (f"DELETE {EB}/enrollments/unenroll/{{userId}}/{{courseId}}", True),
    "edubridge.enroll.default-class-stable": (f"GET {EB}/enrollments/defaultClass/{{courseId}}", True),
    "edubridge.users.roles-exclusive": (f"GET {EB}/users/", True),
    "edubridge.analytics.daily-moves": (f"GET {EB}/analytics/activity", True),
    "edubridge.analytics.weekly-moves": (f"GET {EB}/analytics/facts/weekly", True),
    "edubridge.analytics.enrollment-moves": (f"GET {EB}/analytics/enrollment/{{enrollmentId}}", True),
    "edubridge.analytics.weekly-equals-daily": (f"GET {EB}/analytics/facts/weekly", False),
    "edubridge.analytics.requires-student": (f"GET {EB}/analytics/activity", False),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(["edubridge"])


healthy = module_sandbox(name="healthy")


def test_rules_are_registered_with_stable_ids_and_each_applies_once(catalog):
    rules = rules_for("edubridge")
    assert {r.id: r.writes for r in rules} == {rid: writes for rid, (_, writes) in RULES.items()}
    assert all(r.statement.endswith(".") and len(r.statement) > 40 for r in rules)
    pairs = semantic_pairs(catalog, ["edubridge"])
    assert sorted((r.id, op.label) for r, op in pairs) == sorted((rid, label) for rid, (label, _) in RULES.items())


def test_the_analytics_events_are_valid_and_straddle_the_utc_day(catalog):
    ctx = _ctx("http://127.0.0.1:9", catalog, writes=False)
    zone = ZoneInfo(checks.ZONE)
    monday, plan = checks.week_plan(zone, today=date(2026, 3, 18))
    assert monday == date(2026, 3, 2) and monday.weekday() == 0
    local_days = {s.at.astimezone(zone).date() for s in plan}
    utc_days = {s.at.date() for s in plan}
    assert local_days == {date(2026, 3, 5)}  # every event on the Thursday, local time
    assert utc_days == {date(2026, 3, 4), date(2026, 3, 5)}  # split over two UTC days
    actor = "http://127.0.0.1:9/ims/oneroster/rostering/v1p2/users/s-1"
    events = [checks.timeback_event(ctx, s, actor, "s-1@tbconform.example", "app") for s in plan]
    assert all(validate_event(e) == [] for e in events), [validate_event(e) for e in events]
    assert validate_envelope(checks.envelope(checks.new_sensor(ctx, "x"), *events)) == []
    totals = checks.expected_totals(plan, zone)
    assert totals[("2026-03-05", "xpEarned")] == 19.5 and totals[("2026-03-05", "activeSeconds")] == 900
    assert {day for day, _ in totals} == {"2026-03-05"}


def test_verdict_tells_short_from_wrong():
    expected = {("d", "xpEarned"): 10.0}
    assert checks.verdict({("d", "xpEarned"): 10.0}, expected) == "ok"
    assert checks.verdict({("d", "xpEarned"): 4.0}, expected) == "short"
    assert checks.verdict({}, expected) == "short"
    assert checks.verdict({("d", "xpEarned"): 20.0}, expected) == "wrong"
    assert checks.verdict({("d", "xpEarned"): 10.0, ("e", "xpEarned"): 1.0}, expected) == "wrong"


def test_healthy_sandbox_passes_every_rule_and_the_run_leaves_only_tagged_events(healthy, catalog):
    ctx = _ctx(healthy.base_url, catalog, writes=True, token_url=healthy.token_url)
    try:
        results = [run_rule(ctx, rule, op) for rule, op in semantic_pairs(catalog, ["edubridge"])]
    finally:
        problems = ctx.cleanup.run(ctx.session)
        ctx.session.close()
    assert problems == []
    assert {r.id for r in results} == set(RULES)
    assert all(r.status == "passed" for r in results), [(r.id, r.status, r.message[:300]) for r in results
                                                        if r.status != "passed"]
    run = ctx.config.run_id
    store = healthy.sandbox.store
    mine = [e for e in map(orjson.loads, store.select("caliperEvents"))
            if (e.get("extensions") or {}).get("tbconformRun") == run]
    # 4 per analytics rule sending, and the enrollment rule's one on another course
    assert len(mine) == 13 and all(e["actorKey"].startswith(f"{run}-") for e in mine)
    users = [u for u in map(orjson.loads, store.select("users")) if u["sourcedId"].startswith(f"{run}-")]
    assert users and all(u["status"] == "tobedeleted" for u in users)  # cleaned up (OneRoster soft delete)
    classes = [c for c in map(orjson.loads, store.select("classes")) if f"-{run}-course-" in c["sourcedId"]
               or c["sourcedId"].startswith(f"eb-class-{run}-")]
    assert classes and all(c["status"] == "tobedeleted" for c in classes)  # the courses' default classes too


def test_writes_off_skips_every_write_rule_with_the_standard_reason_and_sends_nothing(healthy, catalog):
    ctx = _ctx(healthy.base_url, catalog, writes=False, token_url=healthy.token_url)
    results = {r.id: r for r in (run_rule(ctx, rule, op) for rule, op in semantic_pairs(catalog, ["edubridge"]))}
    ctx.session.close()
    for rule_id, (_, writes) in RULES.items():
        result = results[rule_id]
        if writes:
            assert result.status == "skipped" and "pass --allow-writes" in result.message, (rule_id, result.message)
        else:
            assert result.status == "passed", (rule_id, result.status, result.message)
    assert ctx.session.writes_sent == 0 and ctx.session.sent > 0


def test_rules_skip_with_a_reason_on_a_target_without_oneroster_or_caliper(catalog):
    """EduBridge alone (no OneRoster, no Caliper endpoints): nothing to build test data with, so the
    rules that need it skip and say why, instead of failing the target."""
    sandbox = Sandbox(SandboxConfig(apis=["edubridge"]))  # loads OneRoster and Caliper too (x-tb-requires)
    sandbox.router = Router([op for op in sandbox.operations if op.api == "edubridge"])  # ...but serves EduBridge only
    with run_sandbox(sandbox=sandbox) as running:
        ctx = _ctx(running.base_url, catalog, writes=True, token_url=running.token_url)
        results = {r.id: r for r in (run_rule(ctx, rule, op) for rule, op in semantic_pairs(catalog, ["edubridge"]))}
        ctx.session.close()
    assert results.pop("edubridge.analytics.requires-student").status == "passed"
    assert all(r.status == "skipped" and "answered 404" in r.message for r in results.values()), \
        [(r.id, r.status, r.message[:200]) for r in results.values()]


def test_run_against_the_sandbox_reports_no_edubridge_failure(tmp_path):
    """`tbconform run --api edubridge --allow-writes`: exit 0, no contract or semantic failure, every
    edubridge rule passed once."""
    cli = Path(sys.executable).parent / "tbconform"
    report = tmp_path / "report"
    done = subprocess.run([str(cli), "run", "--api", "edubridge", "--allow-writes", "--workers", "1", "--quiet",
                           "--report-dir", str(report)], capture_output=True, text=True, timeout=240)
    summary = json.loads((report / "summary.json").read_text())
    failing = [(r["id"], r["operation"], r["message"][:200]) for r in json.loads((report / "run.json").read_text())
               ["results"] if r["status"] in ("failed", "error")]
    assert done.returncode == 0, failing or (done.stdout[-2000:] + done.stderr[-2000:])
    assert summary["apis"]["edubridge"]["failed"] == 0 and summary["apis"]["edubridge"]["errors"] == 0
    rules = {rid: counts for rid, counts in summary["rules"].items() if rid.startswith("edubridge.")}
    assert set(rules) == set(RULES)
    assert all(c["passed"] == c["total"] == 1 for c in rules.values()), rules


def test_days_are_judged_in_the_zone_not_in_utc():
    """The day an event belongs to is its local day: 09:30 on a Thursday in Auckland is Wednesday in UTC."""
    zone = ZoneInfo(checks.ZONE)
    _, plan = checks.week_plan(zone, today=date(2026, 7, 15))  # NZST (+12) this time
    first = plan[0].at
    assert first.tzinfo == timezone.utc and first.date() != first.astimezone(zone).date()
    assert datetime(2026, 7, 2, 9, 30, tzinfo=zone).astimezone(timezone.utc) == first

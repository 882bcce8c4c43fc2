"""The `caliper.*` harness rules: 0 failures against the conformant sandbox through `tbconform run`,
every rule judged there, standard skips with writes off, and the webhook delivery rules skipping
with a reason on a target that cannot reach the harness's own receiver.

Which broken receiver fails which rule is proven in tests/test_harness_detection.py
(CALIPER_DETECTION)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tbconform.harness import caliper_events
from tbconform.harness.catalog import Catalog
from tbconform.harness.checks import caliper as checks
from tbconform.harness.config import RunConfig
from tbconform.harness.context import CheckContext
from tbconform.harness.http import HarnessSession, TokenProvider
from tbconform.harness.rules import rules_for
from tbconform.harness.semantic import run_rule, semantic_pairs
from tbconform.harness.rules import REGISTRY
from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tbconform.specs.caliper.validate import validate_envelope, validate_event

WEBHOOK_DELIVERY_RULES = {"caliper.webhooks.fires-matching-only", "caliper.webhooks.signature",
                          "caliper.webhooks.retry"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(["caliper"])


def _ctx(base_url: str, catalog: Catalog, writes: bool, token_url: str | None = None) -> CheckContext:
    tokens = TokenProvider(token_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET) if token_url else None
    session = HarnessSession(base_url, tokens, writes_allowed=writes)
    return CheckContext(RunConfig(target=base_url, allow_writes=writes), catalog, session)


def test_rules_are_registered_with_stable_ids_and_each_applies_once(catalog):
    rules = rules_for("caliper")
    assert len(rules) >= 15
    assert all(r.id.startswith("caliper.") and r.statement and r.writes for r in rules)
    pairs = semantic_pairs(catalog, ["caliper"])
    assert sorted(r.id for r, _ in pairs) == sorted(r.id for r in rules)


def test_generated_events_are_valid_for_every_event_type(catalog):
    ctx = _ctx("http://127.0.0.1:9", catalog, writes=False)
    types = checks.event_types()
    assert len(types) >= 24
    for name in types:
        event = checks.make_event(ctx, name)
        assert validate_event(event) == [], name
        assert event["extensions"]["tbconformRun"] == ctx.config.run_id
    sensor = checks.new_sensor(ctx, "x")
    assert ctx.config.run_id in sensor
    assert validate_envelope(checks.envelope(sensor, checks.make_event(ctx))) == []
    for what, bad in checks._invalid_events(ctx):  # the rules' invalid events are invalid
        assert validate_event(bad) != [], what


def test_run_against_the_sandbox_reports_no_caliper_failure(tmp_path):
    """`tbconform run --api caliper --allow-writes`: exit 0, and every caliper rule passed."""
    cli = Path(sys.executable).parent / "tbconform"
    report = tmp_path / "report"
    done = subprocess.run([str(cli), "run", "--api", "caliper", "--allow-writes", "--workers", "1", "--quiet",
                           "--report-dir", str(report)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["apis"]["caliper"]["failed"] == 0 and summary["apis"]["caliper"]["errors"] == 0
    rules = {rid: counts for rid, counts in summary["rules"].items() if rid.startswith("caliper.")}
    assert set(rules) == {r.id for r in rules_for("caliper")}
    assert all(c["passed"] == c["total"] == 1 for c in rules.values()), rules


def test_writes_off_skips_every_rule_with_the_standard_reason_and_sends_nothing(catalog):
    with run_sandbox(SandboxConfig()) as running:
        ctx = _ctx(running.base_url, catalog, writes=False, token_url=running.token_url)
        results = [run_rule(ctx, rule, op) for rule, op in semantic_pairs(catalog, ["caliper"])]
        ctx.session.close()
    assert results and all(r.status == "skipped" for r in results), [(r.id, r.status) for r in results]
    assert all("pass --allow-writes" in r.message for r in results)
    assert ctx.session.writes_sent == 0


def test_webhook_delivery_rules_skip_on_a_target_that_cannot_reach_the_receiver(catalog):
    ctx = _ctx("https://caliper.example.invalid", catalog, writes=True)
    pairs = [(r, op) for r, op in semantic_pairs(catalog, ["caliper"]) if r.id in WEBHOOK_DELIVERY_RULES]
    assert {r.id for r, _ in pairs} == WEBHOOK_DELIVERY_RULES
    results = [run_rule(ctx, rule, op) for rule, op in pairs]
    assert all(r.status == "skipped" and "loopback targets only" in r.message for r in results), \
        [(r.id, r.status, r.message) for r in results]
    assert ctx.session.sent == 0


def test_drawn_events_are_valid_reproducible_and_tagged(catalog):
    ctx = _ctx("http://127.0.0.1:9", catalog, writes=False)
    for name in checks.event_types():
        drawn = caliper_events.generated_events(name, 3, seed=7)
        assert 1 <= len(drawn) <= 3 and all(e["type"] == name and validate_event(e) == [] for e in drawn), name
        assert drawn == caliper_events.generated_events(name, 3, seed=7)  # the same for the same seed
        tagged = checks.generated_events(ctx, name, 3)
        assert all(e["extensions"]["tbconformRun"] == ctx.config.run_id and validate_event(e) == [] for e in tagged)
        assert len({e["id"] for e in tagged + checks.generated_events(ctx, name, 3)}) == 2 * len(tagged)


def _accepts_every_type(catalog: Catalog, faults: frozenset[str] = frozenset(), apis: list[str] | None = None):
    rule = REGISTRY["caliper.ingest.accepts-every-type"]
    op = next(op for r, op in semantic_pairs(catalog, ["caliper"]) if r.id == rule.id)
    # no seeded activity history: the callers take every listed event for one the rule sent
    with run_sandbox(SandboxConfig(faults=faults, apis=apis, history_weeks=0)) as running:
        ctx = _ctx(running.base_url, catalog, writes=True, token_url=running.token_url)
        result = run_rule(ctx, rule, op)
        listed = ctx.get(checks.LIST, {"limit": 3000}).json()["events"]
        ctx.session.close()
    return ctx, result, listed


def test_accepts_every_type_sends_generated_and_seeded_events(catalog):
    """Besides one event per type: generated events of every type and two events acted by a
    OneRoster user the sandbox lists, all under the run's sensors and stored."""
    ctx, result, listed = _accepts_every_type(catalog)
    assert result.status == "passed", result.message
    run = ctx.config.run_id
    mine = [e for e in listed if run in e["sensor"] and e["extensions"].get("tbconformRun") == run]
    assert len(mine) == len(listed)
    types = set(checks.event_types())
    plain = [e for e in mine if "-types-generated-" not in e["sensor"]]
    extra = [e for e in mine if "-types-generated-" in e["sensor"]]
    assert sorted(e["type"] for e in plain) == sorted(types)
    seeded = [e for e in extra if "/ims/oneroster/rostering/v1p2/users/" in str(e["actor"])]
    assert sorted(e["type"] for e in seeded) == ["ActivityEvent", "TimeSpentEvent"]
    assert all(e["actor"]["type"] == "TimebackUser" and "@" in e["actor"]["email"] for e in seeded)
    generated = [e for e in extra if e not in seeded]
    assert {e["type"] for e in generated} == types and len(generated) > len(types)


def test_accepts_every_type_fails_on_refused_generated_and_seeded_time_spent_events(catalog):
    _, result, _ = _accepts_every_type(catalog, frozenset({"caliper-refuses-time-spent"}))
    assert result.status == "failed"
    assert "TimeSpentEvent (400" in result.message  # the deterministic one
    assert "generated TimeSpentEvent" in result.message and "seeded-data TimeSpentEvent" in result.message


def test_accepts_every_type_without_oneroster_users_skips_the_seeded_events_with_a_note(catalog):
    _, result, listed = _accepts_every_type(catalog, frozenset({"caliper-refuses-time-spent"}), apis=["caliper"])
    assert result.status == "failed" and "seeded-data TimeSpentEvent" not in result.message
    assert "no seeded-data events (GET /ims/oneroster/rostering/v1p2/users answered 404)" in result.message
    assert not [e for e in listed if "/ims/oneroster/" in str(e["actor"])]

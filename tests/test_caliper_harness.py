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

from tbconform.harness.catalog import Catalog
from tbconform.harness.checks import caliper as checks
from tbconform.harness.config import RunConfig
from tbconform.harness.context import CheckContext
from tbconform.harness.http import HarnessSession, TokenProvider
from tbconform.harness.rules import rules_for
from tbconform.harness.semantic import run_rule, semantic_pairs
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

"""The semantic layer notices every deliberately broken behaviour of the sandbox, and nothing else.

For each fault of `mocks/faults.py` a sandbox runs with only that fault on; ALL OneRoster rules run
(over a representative subset of operations, for speed) and the set of failing rule ids must be
exactly the expected one, and so must the set of warning rules. The healthy sandbox must pass every
rule over every operation, and a run with writes off must send no write at all.
"""
from __future__ import annotations

from collections import defaultdict

import pytest

from tbconform.harness.catalog import Catalog
from tbconform.harness.config import RunConfig
from tbconform.harness.context import CheckContext
from tbconform.harness.http import HarnessSession, TokenProvider, WriteBlocked
from tbconform.harness.rules import rules_for
from tbconform.harness.semantic import run_rule, semantic_pairs
from tbconform.mocks.auth import (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, READONLY_CLIENT_ID, READONLY_CLIENT_SECRET,
                                  TokenError)
from tbconform.mocks.faults import FAULTS
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import RunningSandbox, run_sandbox
from tests.test_qti_harness import QTI_DETECTION  # QTI faults: proven in tests/test_qti_harness.py

FILTER_RULES = {f"oneroster.filter.{name}" for name in (
    "equals", "not-equals", "contains", "greater-than", "greater-or-equal", "less-than", "less-or-equal", "in",
    "and-or", "dotted-reference")}

# fault -> the semantic rules that must fail (exactly these)
SEMANTIC_DETECTION: dict[str, set[str]] = {
    "filter-ignored": FILTER_RULES,  # every filter rule legitimately breaks when no filter is applied
    "filter-contains-case-sensitive": {"oneroster.filter.contains"},
    "filter-not-equals-wrong": {"oneroster.filter.not-equals"},
    "filter-gt-inclusive": {"oneroster.filter.greater-than"},
    "filter-ge-exclusive": {"oneroster.filter.greater-or-equal"},
    "filter-lt-inclusive": {"oneroster.filter.less-than"},
    "filter-le-exclusive": {"oneroster.filter.less-or-equal"},
    "filter-in-first-only": {"oneroster.filter.in"},
    "filter-or-as-and": {"oneroster.filter.and-or"},
    "filter-dotted-ignored": {"oneroster.filter.dotted-reference"},
    # every filtered answer loses its first match; delete.soft locates its record with a filter too
    "filter-drops-record": FILTER_RULES | {"oneroster.delete.soft"},
    "link-header-missing": set(),  # a warning only: see WARNING_DETECTION
    "total-count-off-by-one": {"oneroster.pagination.total-matches"},
    "page-duplicate": {"oneroster.pagination.no-duplicates"},
    "link-next-missing": {"oneroster.pagination.link-next"},
    "limit-ignored": {"oneroster.pagination.limit-honoured"},
    "page-fields-wrong": {"oneroster.pagination.body-fields"},
    "sort-ignored": {"oneroster.sort.order"},
    "sort-reversed": {"oneroster.sort.order"},
    "fields-ignored": {"oneroster.fields.projection"},
    "search-ignored": {"oneroster.search.matches"},
    "get-differs": {"oneroster.get.equals-listed"},
    "dangling-reference": {"oneroster.references.resolve"},
    "not-found-200": {"oneroster.errors.not-found"},
    "error-envelope-wrong": {"oneroster.errors.envelope"},
    # a body that is no IMS envelope at all breaks every rule that names the envelope
    "error-envelope-plain": {"oneroster.errors.envelope", "oneroster.errors.not-found",
                             "oneroster.errors.bad-request", "oneroster.auth.missing-token"},
    "error-codeminor-wrong": {"oneroster.errors.not-found"},
    "server-error-on-bad-input": {"oneroster.errors.bad-request"},  # contract: not_a_server_error too
    "auth-not-enforced": {"oneroster.auth.missing-token"},
    "forged-token-accepted": {"oneroster.auth.forged-token"},
    "scope-not-enforced": {"oneroster.auth.scope-enforced"},
    "hard-delete": {"oneroster.delete.soft"},
    "delete-repeat-accepted": {"oneroster.delete.soft"},
    "references-not-checked": {"oneroster.references.refused"},
    "update-ignored": {"oneroster.write.round-trip"},
}

# fault -> the warning rules it must raise (exactly these; every other fault raises none)
WARNING_DETECTION: dict[str, set[str]] = {
    "link-header-missing": {"oneroster.paging.link-header"},
}

# Caliper receiver faults -> the caliper rules that must fail (exactly these), all caliper rules run
CALIPER_DETECTION: dict[str, set[str]] = {
    "caliper-accepts-invalid-action": {"caliper.ingest.refuses-invalid-event"},  # validate is as lax: they agree
    "caliper-refuses-time-spent": {"caliper.ingest.accepts-every-type"},
    "caliper-bad-json-500": {"caliper.ingest.refuses-invalid-envelope"},
    # the job names only the events it stored
    "caliper-drops-event": {"caliper.events.listed-as-sent", "caliper.events.get-as-sent", "caliper.jobs.status"},
    "caliper-stores-altered": {"caliper.events.listed-as-sent", "caliper.events.get-as-sent"},
    "caliper-actor-filter-ignored": {"caliper.list.filter-actor"},
    "caliper-email-filter-ignored": {"caliper.list.filter-actor-email"},
    "caliper-date-filter-ignored": {"caliper.list.filter-dates"},
    "caliper-paging-total-wrong": {"caliper.list.paging"},
    "caliper-get-404": {"caliper.events.get-as-sent"},
    "caliper-validate-disagrees": {"caliper.validate.agrees"},
    "caliper-job-pending": {"caliper.jobs.status"},
    "webhook-update-ignored": {"caliper.webhooks.crud"},
    "webhook-bad-signature": {"caliper.webhooks.signature"},
    "webhook-no-retry": {"caliper.webhooks.retry"},
    "webhook-fires-unmatched": {"caliper.webhooks.fires-matching-only"},
    "webhook-inactive-delivered": {"caliper.webhooks.deactivated-silent"},
}
CALIPER_BACKOFF = 0.2  # seconds before a failed delivery's retry, so the retry rule is quick here
# every rule narrows its listings by its own sensor, so a fault of the sensor filter breaks nearly all of them
CALIPER_UNPROVEN = {"caliper.list.filter-sensor"}

# EduBridge faults -> the edubridge rules that must fail (exactly these), all edubridge rules run
EDUBRIDGE_DETECTION: dict[str, set[str]] = {
    "edubridge-xp-summed-twice": {"edubridge.analytics.daily-moves", "edubridge.analytics.weekly-equals-daily"},
    "edubridge-days-in-utc": {"edubridge.analytics.daily-moves", "edubridge.analytics.weekly-moves"},
    "edubridge-weekly-truncated": {"edubridge.analytics.weekly-equals-daily"},
    "edubridge-time-spent-dropped": {"edubridge.analytics.daily-moves", "edubridge.analytics.weekly-moves"},
    "edubridge-analytics-lag": {"edubridge.analytics.daily-moves", "edubridge.analytics.weekly-moves"},
    "edubridge-analytics-no-student-200": {"edubridge.analytics.requires-student"},
    # unenroll and the enrollment facts start from an enrollment, so they fail too
    "edubridge-enroll-no-oneroster": {"edubridge.enroll.creates-oneroster", "edubridge.unenroll.soft-deletes",
                                      "edubridge.analytics.enrollment-moves"},
    "edubridge-enrollment-facts-any-course": {"edubridge.analytics.enrollment-moves"},
    "edubridge-unenroll-hard-delete": {"edubridge.unenroll.soft-deletes"},
    "edubridge-user-enrollments-lists-deleted": {"edubridge.unenroll.soft-deletes"},
    "edubridge-default-class-new-each-call": {"edubridge.enroll.default-class-stable"},
    "edubridge-users-roles-inclusive": {"edubridge.users.roles-exclusive"},
}
EDUBRIDGE_WAIT = 2.0  # seconds the analytics rules poll here (a lagging sandbox never catches up anyway)

# faults only the contract layer (schemathesis) sees; the semantic layer must stay quiet on them
CONTRACT_DETECTION: dict[str, str] = {
    "wrong-type": "response_schema_conformance",             # totalCount is a string
    "required-field-missing": "response_schema_conformance",  # User.enabledUser missing from listings
}

ROSTERING = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"
SUBSET = {
    f"GET {ROSTERING}/users", f"GET {ROSTERING}/users/{{sourcedId}}", f"POST {ROSTERING}/users",
    f"PUT {ROSTERING}/users/{{sourcedId}}", f"DELETE {ROSTERING}/users/{{sourcedId}}",
    f"GET {ROSTERING}/enrollments", f"GET {ROSTERING}/enrollments/{{sourcedId}}", f"POST {ROSTERING}/enrollments",
    f"GET {ROSTERING}/students", f"GET {ROSTERING}/students/{{sourcedId}}",
    f"GET {ROSTERING}/classes/{{classSourcedId}}/students",
    f"GET {GRADEBOOK}/categories", f"GET {GRADEBOOK}/categories/{{sourcedId}}", f"POST {GRADEBOOK}/categories",
    f"PUT {GRADEBOOK}/categories/{{sourcedId}}", f"DELETE {GRADEBOOK}/categories/{{sourcedId}}",
    f"GET {GRADEBOOK}/results",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(["oneroster"])


@pytest.fixture(scope="module")
def all_pairs(catalog):
    return semantic_pairs(catalog, ["oneroster"])


@pytest.fixture(scope="module")
def subset_pairs(all_pairs):
    pairs = [(r, op) for r, op in all_pairs if op.label in SUBSET]
    covered = {r.id for r, _ in pairs}
    assert covered == {r.id for r in rules_for("oneroster")}, "the subset must reach every rule"
    return pairs


@pytest.fixture(scope="module")
def healthy():
    with run_sandbox(SandboxConfig()) as running:
        yield running


def _context(running: RunningSandbox, catalog: Catalog, writes: bool = True,
             readonly_client: bool = True) -> CheckContext:
    session = HarnessSession(running.base_url, TokenProvider(running.token_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
                             writes_allowed=writes)
    readonly = HarnessSession(running.base_url,
                              TokenProvider(running.token_url, READONLY_CLIENT_ID, READONLY_CLIENT_SECRET),
                              writes_allowed=writes) if readonly_client else None
    return CheckContext(RunConfig(target=running.base_url, allow_writes=writes), catalog, session, readonly)


def _run(ctx: CheckContext, pairs) -> list:
    try:
        return [run_rule(ctx, rule, op) for rule, op in pairs]
    finally:
        problems = ctx.cleanup.run(ctx.session) if ctx.session.writes_allowed else []
        ctx.session.close()
        if ctx.readonly is not None:
            ctx.readonly.close()
        ctx.close()
        assert not problems, problems


def _broken(results) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for result in results:
        if result.status in ("failed", "error"):
            out[result.id].append(result)
    return out


def _warned(results) -> set[str]:
    return {r.id for r in results if r.status == "warning"}


def test_every_fault_is_documented_and_classified():
    assert set(SEMANTIC_DETECTION) | set(CONTRACT_DETECTION) | set(CALIPER_DETECTION) | set(EDUBRIDGE_DETECTION) \
        | set(QTI_DETECTION) == set(FAULTS)
    assert not set(SEMANTIC_DETECTION) & set(CONTRACT_DETECTION)
    assert not (set(SEMANTIC_DETECTION) | set(CONTRACT_DETECTION)) & set(CALIPER_DETECTION)
    assert not (set(SEMANTIC_DETECTION) | set(CONTRACT_DETECTION) | set(CALIPER_DETECTION)) & set(EDUBRIDGE_DETECTION)
    assert not (set(SEMANTIC_DETECTION) | set(CONTRACT_DETECTION) | set(CALIPER_DETECTION)
                | set(EDUBRIDGE_DETECTION)) & set(QTI_DETECTION)
    assert set(WARNING_DETECTION) <= set(FAULTS)
    assert len(FAULTS) >= 20


def test_healthy_sandbox_passes_every_rule_on_every_operation(healthy, catalog, all_pairs):
    results = _run(_context(healthy, catalog), all_pairs)
    broken = _broken(results)
    assert not broken, {k: [(r.operation, r.status, r.message[:300]) for r in v[:2]] for k, v in broken.items()}
    for result in results:
        assert result.status in ("passed", "skipped")
        if result.status == "skipped":
            assert result.message, f"{result.id} {result.operation} skipped without a reason"
    passed = {r.id for r in results if r.status == "passed"}
    assert passed == {r.id for r in rules_for("oneroster")}, "every rule must be judged somewhere"


def test_writes_off_sends_no_write(healthy, catalog, all_pairs):
    """Every rule over the subset plus every write operation (the auth rules probe all of them)."""
    pairs = [(r, op) for r, op in all_pairs if op.label in SUBSET or op.is_write]
    ctx = _context(healthy, catalog, writes=False)
    results = _run(ctx, pairs)
    assert ctx.session.writes_sent == 0 and ctx.readonly.writes_sent == 0
    assert ctx.session.sent > 0
    broken = _broken(results)
    assert not broken, {k: [(r.operation, r.message[:300]) for r in v[:2]] for k, v in broken.items()}
    writing = {r.id for r, op in pairs if r.writes}
    for result in results:
        if result.id in writing:
            assert result.status == "skipped"
    write_ops = {op.label for _, op in pairs if op.is_write}
    auth = [r for r in results if r.id.startswith("oneroster.auth.") and r.operation in write_ops]
    assert auth and all(r.status == "skipped" for r in auth)


def test_write_guard_blocks_before_sending(healthy):
    session = HarnessSession(healthy.base_url, None, writes_allowed=False)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(WriteBlocked):
            session.request(method, f"{ROSTERING}/users/x", json={})
    assert session.sent == 0 and session.writes_sent == 0
    session.close()


@pytest.mark.parametrize("fault", sorted(SEMANTIC_DETECTION) + sorted(CONTRACT_DETECTION))
def test_fault_is_detected_by_exactly_its_rules(fault, catalog, subset_pairs):
    expected = SEMANTIC_DETECTION.get(fault, set())
    # no activity history: these rules never read Caliper events, and it is 0.9 s of seeding per fault
    with run_sandbox(SandboxConfig(faults=frozenset({fault}), history_weeks=0)) as running:
        results = _run(_context(running, catalog), subset_pairs)
    broken = _broken(results)
    summary = {k: [(r.operation, r.status, r.message[:200]) for r in v[:1]] for k, v in broken.items()}
    assert set(broken) == expected, summary
    for rule_id in expected:
        assert all(r.status == "failed" and r.message.strip() for r in broken[rule_id]), summary
    assert _warned(results) == WARNING_DETECTION.get(fault, set()), \
        [(r.id, r.operation, r.message[:200]) for r in results if r.status == "warning"][:5]


def _scope_results(running: RunningSandbox, catalog: Catalog, all_pairs) -> list:
    pairs = [(r, op) for r, op in all_pairs if r.id == "oneroster.auth.scope-enforced"]
    assert pairs
    return _run(_context(running, catalog, readonly_client=False), pairs)


def test_scope_is_checked_with_a_reduced_token_when_no_read_only_client_is_given(healthy, catalog, all_pairs):
    results = _scope_results(healthy, catalog, all_pairs)
    assert results and all(r.status == "passed" for r in results), [(r.operation, r.status, r.message) for r in results]


def test_scope_fault_is_caught_without_a_read_only_client(catalog, all_pairs):
    with run_sandbox(SandboxConfig(faults=frozenset({"scope-not-enforced"}))) as running:
        results = _scope_results(running, catalog, all_pairs)
    assert results and all(r.status == "failed" for r in results), [(r.operation, r.status) for r in results]
    assert "only the read-only scopes" in results[0].message
    for result in results:  # the report shows the write the reduced token got through with
        exchange = result.exchange
        assert exchange is not None and exchange.method in ("POST", "DELETE") and 200 <= (exchange.status or 0) < 300
        assert exchange.request_headers.get("Authorization", "").startswith("Bearer ")


def _refuse(answer, body):
    raise TokenError(400, "invalid_scope", "this server does not narrow scopes")


def _ignore(answer, body):
    return answer(body.replace(b"scope=", b"ignored="))  # a full token, and it says so in `scope`


def _silent(answer, body):
    return {k: v for k, v in answer(body).items() if k != "scope"}  # reduced, perhaps, but not confirmed


@pytest.mark.parametrize("endpoint, reason", [
    (_refuse, "refused a token limited to the read-only scopes"),
    (_ignore, "did not reduce the token to the read-only scopes"),
    (_silent, "names no scope, so the reduction to the read-only scopes is not confirmed"),
], ids=["refused", "not-reduced", "not-confirmed"])
def test_the_scope_rule_skips_when_the_reduction_is_not_confirmed(catalog, all_pairs, endpoint, reason):
    """No read-only client, and a token endpoint that will not (or does not say it will) narrow scopes:
    skipped with that reason, never failed, even on a sandbox that does not enforce scopes."""
    with run_sandbox(SandboxConfig(faults=frozenset({"scope-not-enforced"}))) as running:
        auth = running.sandbox.auth
        plain = auth.token_response
        auth.token_response = lambda headers, body: (endpoint(lambda b: plain(headers, b), body)
                                                     if b"scope=" in body else plain(headers, body))
        results = _scope_results(running, catalog, all_pairs)
    assert results and all(r.status == "skipped" for r in results), [(r.operation, r.status) for r in results]
    assert all(reason in r.message for r in results), results[0].message


@pytest.fixture(scope="module")
def caliper_catalog() -> Catalog:
    return Catalog.load(["caliper"])


def _caliper_results(caliper_catalog: Catalog, faults: frozenset[str]) -> list:
    config = SandboxConfig(faults=faults, delivery_backoff=CALIPER_BACKOFF)
    with run_sandbox(config) as running:
        return _run(_context(running, caliper_catalog), semantic_pairs(caliper_catalog, ["caliper"]))


def test_caliper_rules_pass_on_the_healthy_sandbox(caliper_catalog):
    results = _caliper_results(caliper_catalog, frozenset())
    assert results and all(r.status == "passed" for r in results), \
        [(r.id, r.status, r.message[:200]) for r in results if r.status != "passed"]
    assert {r.id for r in results} == {r.id for r in rules_for("caliper")}
    proven = set().union(*CALIPER_DETECTION.values())
    assert proven | CALIPER_UNPROVEN == {r.id for r in rules_for("caliper")} and not proven & CALIPER_UNPROVEN


@pytest.mark.parametrize("fault", sorted(CALIPER_DETECTION))
def test_caliper_fault_is_detected_by_exactly_its_rules(fault, caliper_catalog):
    expected = CALIPER_DETECTION[fault]
    results = _caliper_results(caliper_catalog, frozenset({fault}))
    broken = _broken(results)
    summary = {k: [(r.operation, r.status, r.message[:200]) for r in v[:1]] for k, v in broken.items()}
    assert set(broken) == expected, summary
    assert all(r.status == "failed" and r.message.strip() for rule_id in expected for r in broken[rule_id]), summary
    assert not _warned(results)


@pytest.fixture(scope="module")
def edubridge_catalog() -> Catalog:
    return Catalog.load(["edubridge"])


def test_every_edubridge_rule_is_proven_by_a_fault():
    proven = set().union(*EDUBRIDGE_DETECTION.values())
    assert proven == {r.id for r in rules_for("edubridge")}
    assert all(name.startswith("edubridge-") for name in EDUBRIDGE_DETECTION)


@pytest.mark.parametrize("fault", sorted(EDUBRIDGE_DETECTION))
def test_edubridge_fault_is_detected_by_exactly_its_rules(fault, edubridge_catalog, monkeypatch):
    from tbconform.harness.checks import edubridge as edubridge_checks

    monkeypatch.setattr(edubridge_checks, "ANALYTICS_WAIT", EDUBRIDGE_WAIT)
    expected = EDUBRIDGE_DETECTION[fault]
    with run_sandbox(SandboxConfig(faults=frozenset({fault}))) as running:
        results = _run(_context(running, edubridge_catalog), semantic_pairs(edubridge_catalog, ["edubridge"]))
    assert {r.id for r in results} == {r.id for r in rules_for("edubridge")}
    broken = _broken(results)
    summary = {k: [(r.operation, r.status, r.message[:200]) for r in v[:1]] for k, v in broken.items()}
    assert set(broken) == expected, summary
    assert all(r.status == "failed" and r.message.strip() for rule_id in expected for r in broken[rule_id]), summary
    assert all(r.status == "passed" for r in results if r.id not in expected), \
        [(r.id, r.status, r.message[:200]) for r in results if r.id not in expected and r.status != "passed"]

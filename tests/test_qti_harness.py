"""The `qti.*` harness rules: registered with stable ids on their operations, 0 failures against the
conformant sandbox, no write with writes off, the independent evaluator right on hand-derived cases,
and detection: each QTI fault of `mocks/faults/qti.py` fails exactly its rules, every other rule
passing."""
from __future__ import annotations

import pytest

from tbconform.harness.catalog import Catalog
from tbconform.harness.checks import qti_scoring as S
from tbconform.harness.config import RunConfig
from tbconform.harness.context import CheckContext
from tbconform.harness.http import HarnessSession, TokenProvider
from tbconform.harness.rules import rules_for
from tbconform.harness.semantic import run_rule, semantic_pairs
from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.faults import FAULTS
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox

PROCESS = "POST /assessment-items/{identifier}/process-response"
LISTS = ["GET /assessment-items", "GET /assessment-tests", "GET /stimuli"]
ORDER = "PUT /assessment-tests/{assessmentTestIdentifier}/test-parts/{testPartIdentifier}/sections/{identifier}/items/order"
RULES = {  # rule id -> (the operations it is judged on, writes)
    "qti.items.round-trip": (["POST /assessment-items"], True),
    "qti.scoring.correct-max": ([PROCESS], True),
    "qti.scoring.wrong-min": ([PROCESS], True),
    "qti.scoring.partial-mapped": ([PROCESS], True),
    "qti.scoring.case-sensitive": ([PROCESS], True),
    "qti.validate.refuses-broken": (["POST /validate"], True),
    "qti.validate.accepts-valid": (["POST /validate"], True),
    "qti.xml.bomb-refused": (["POST /assessment-items"], True),
    "qti.xml.xxe-refused": (["POST /assessment-items"], True),
    "qti.tests.round-trip": (["POST /assessment-tests"], True),
    "qti.tests.ordering": ([ORDER], True),
    "qti.paging.consistent": (LISTS, False),
    "qti.search.query": (LISTS, False),
}

# fault -> the qti rules that must fail (exactly these)
QTI_DETECTION: dict[str, set[str]] = {
    # the wrong, the partial and the wrong-case responses all score full marks
    "qti-scores-everything-correct": {"qti.scoring.wrong-min", "qti.scoring.partial-mapped",
                                      "qti.scoring.case-sensitive"},
    "qti-mapping-ignored": {"qti.scoring.partial-mapped"},
    "qti-partial-rounded-up": {"qti.scoring.partial-mapped"},
    "qti-mapping-unbounded": {"qti.scoring.wrong-min"},
    "qti-case-insensitive": {"qti.scoring.case-sensitive"},
    "qti-point-areas-ignored": {"qti.scoring.correct-max"},   # a point in its area scores 0; wrong ones do too
    "qti-validate-accepts-broken": {"qti.validate.refuses-broken"},
    "qti-validate-refuses-valid": {"qti.validate.accepts-valid"},
    "qti-round-trip-drops-declaration": {"qti.items.round-trip"},
    "qti-test-section-dropped": {"qti.tests.round-trip"},
    "qti-reorder-ignored": {"qti.tests.ordering"},
    "qti-questions-unordered": {"qti.tests.ordering"},
    "qti-paging-total-off-by-one": {"qti.paging.consistent"},
    "qti-query-ignored": {"qti.search.query"},
    "qti-validate-resolves-entities": {"qti.xml.xxe-refused"},
    "qti-validate-bomb-500": {"qti.xml.bomb-refused"},
}

NO_HISTORY = 0  # the QTI rules never read Caliper events: sandboxes here seed no activity history


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(["qti"])


def _ctx(base_url: str, catalog: Catalog, writes: bool, token_url: str | None) -> CheckContext:
    tokens = TokenProvider(token_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET) if token_url else None
    session = HarnessSession(base_url, tokens, writes_allowed=writes)
    return CheckContext(RunConfig(target=base_url, allow_writes=writes), catalog, session)


def _run_all(running, catalog: Catalog, writes: bool = True):
    ctx = _ctx(running.base_url, catalog, writes, running.token_url)
    try:
        results = [run_rule(ctx, rule, op) for rule, op in semantic_pairs(catalog, ["qti"])]
    finally:
        problems = ctx.cleanup.run(ctx.session) if writes else []
        ctx.session.close()
    return ctx, results, problems


def test_rules_are_registered_with_stable_ids_on_their_operations(catalog):
    rules = rules_for("qti")
    assert {r.id: r.writes for r in rules} == {rid: writes for rid, (_, writes) in RULES.items()}
    assert all(r.statement.endswith(".") and len(r.statement) > 40 for r in rules)
    pairs = sorted((r.id, op.label) for r, op in semantic_pairs(catalog, ["qti"]))
    assert pairs == sorted((rid, label) for rid, (labels, _) in RULES.items() for label in labels)


def test_healthy_sandbox_passes_every_rule_and_cleans_up(catalog):
    with run_sandbox(SandboxConfig(history_weeks=NO_HISTORY)) as running:
        ctx, results, problems = _run_all(running, catalog)
        left = [i for i in running.sandbox.store.select("assessmentItems") if f'"{ctx.config.run_id}-' in i]
    assert {r.id for r in results} == set(RULES)
    assert all(r.status == "passed" for r in results), [(r.id, r.operation, r.status, r.message[:300])
                                                        for r in results if r.status != "passed"]
    assert problems == []
    assert left == [], f"{len(left)} of the run's items were not deleted"


def test_writes_off_skips_the_write_rules_and_sends_no_write(catalog):
    with run_sandbox(SandboxConfig()) as running:
        ctx, results, _ = _run_all(running, catalog, writes=False)
    for result in results:
        if RULES[result.id][1]:
            assert result.status == "skipped" and "pass --allow-writes" in result.message, (result.id, result.message)
        else:
            assert result.status == "passed", (result.id, result.operation, result.message[:300])
    assert ctx.session.writes_sent == 0 and ctx.session.sent > 0


def test_every_qti_fault_has_its_detection_row():
    qti = {name for name in FAULTS if name.startswith("qti-")}
    assert qti == set(QTI_DETECTION)
    assert len(QTI_DETECTION) >= 10
    proven = set().union(*QTI_DETECTION.values())
    assert proven == set(RULES)


def _detect(fault: str, expected: set[str], catalog: Catalog) -> None:
    """Only `fault` on: exactly the `expected` rules fail (with a message), every other rule passes."""
    with run_sandbox(SandboxConfig(faults=frozenset({fault}), history_weeks=NO_HISTORY)) as running:
        _, results, _ = _run_all(running, catalog)
    failing = {r.id for r in results if r.status in ("failed", "error")}
    assert failing == expected, [(r.id, r.operation, r.status, r.message[:200]) for r in results
                                 if (r.id in failing) != (r.id in expected)]
    assert all(r.status == "failed" and r.message.strip() for r in results if r.id in expected)
    assert all(r.status == "passed" for r in results if r.id not in expected), \
        [(r.id, r.status, r.message[:200]) for r in results if r.id not in expected and r.status != "passed"]


@pytest.mark.parametrize("fault", sorted(QTI_DETECTION))
def test_qti_fault_is_detected_by_exactly_its_rules(fault, catalog):
    _detect(fault, QTI_DETECTION[fault], catalog)


# ---------------------------------------------------------------------------------------------
# The independent evaluator, on hand-derived cases

NS = 'xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0"'
T = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"


def _item(decl: str, body: str, template: str) -> S.Item:
    return S.read_item(f'<qti-assessment-item {NS} identifier="x" title="x" adaptive="false" time-dependent="false">'
                       f"{decl}<qti-item-body>{body}</qti-item-body>"
                       f'<qti-response-processing template="{T}{template}.xml"/></qti-assessment-item>')


CHOICES = ('<qti-choice-interaction response-identifier="R" max-choices="0">'
           + "".join(f'<qti-simple-choice identifier="{c}">{c}</qti-simple-choice>' for c in "ABCD")
           + "</qti-choice-interaction>")


def test_map_response_sums_distinct_values_within_bounds():
    item = _item('<qti-response-declaration identifier="R" cardinality="multiple" base-type="identifier">'
                 "<qti-correct-response><qti-value>A</qti-value><qti-value>C</qti-value></qti-correct-response>"
                 '<qti-mapping default-value="-0.25" lower-bound="0" upper-bound="1">'
                 '<qti-map-entry map-key="A" mapped-value="0.75"/><qti-map-entry map-key="C" mapped-value="0.5"/>'
                 "</qti-mapping></qti-response-declaration>", CHOICES, "map_response")
    assert S.expected(item, "R", ["A", "C"]) == 1.0            # 1.25 capped at the upper bound
    assert S.expected(item, "R", ["A"]) == 0.75
    assert S.expected(item, "R", ["A", "A"]) == 0.75           # a value counts once
    assert S.expected(item, "R", ["A", "B"]) == 0.5            # B unmapped: the default -0.25
    assert S.expected(item, "R", ["B", "D"]) == 0.0            # -0.5 raised to the lower bound
    assert S.expected(item, "R", []) == 0.0
    assert S.partial_response(item, "R") == (["A"], 0.75)      # the first correct value alone, below the full 1
    assert S.expected(item, "R", S.wrong_response(item, "R")) == S.minimum(item, "R") == 0.0


def test_match_correct_compares_sets_sequences_and_pairs():
    multiple = _item('<qti-response-declaration identifier="R" cardinality="multiple" base-type="identifier">'
                     "<qti-correct-response><qti-value>A</qti-value><qti-value>B</qti-value></qti-correct-response>"
                     "</qti-response-declaration>", CHOICES, "match_correct")
    assert S.expected(multiple, "R", ["B", "A"]) == 1.0 and S.expected(multiple, "R", ["A"]) == 0.0
    ordered = _item('<qti-response-declaration identifier="R" cardinality="ordered" base-type="identifier">'
                    "<qti-correct-response><qti-value>A</qti-value><qti-value>B</qti-value></qti-correct-response>"
                    "</qti-response-declaration>", CHOICES, "match_correct")
    assert S.expected(ordered, "R", ["A", "B"]) == 1.0 and S.expected(ordered, "R", ["B", "A"]) == 0.0
    pair = _item('<qti-response-declaration identifier="R" cardinality="multiple" base-type="pair">'
                 "<qti-correct-response><qti-value>A B</qti-value></qti-correct-response>"
                 "</qti-response-declaration>", CHOICES, "match_correct")
    assert S.expected(pair, "R", ["B A"]) == 1.0               # a pair has no direction
    directed = _item('<qti-response-declaration identifier="R" cardinality="multiple" base-type="directedPair">'
                     "<qti-correct-response><qti-value>A B</qti-value></qti-correct-response>"
                     "</qti-response-declaration>", CHOICES, "match_correct")
    assert S.expected(directed, "R", ["B A"]) == 0.0


def test_case_sensitivity_follows_the_map_entry():
    def item(sensitive: str) -> S.Item:
        return _item('<qti-response-declaration identifier="R" cardinality="single" base-type="string">'
                     "<qti-correct-response><qti-value>Paris</qti-value></qti-correct-response>"
                     f'<qti-mapping default-value="0"><qti-map-entry map-key="Paris" mapped-value="1" '
                     f'case-sensitive="{sensitive}"/></qti-mapping></qti-response-declaration>',
                     '<qti-text-entry-interaction response-identifier="R"/>', "map_response")
    assert S.expected(item("true"), "R", "paris") == 0.0 and S.expected(item("true"), "R", "Paris") == 1.0
    assert S.expected(item("false"), "R", "PARIS") == 1.0
    assert S.case_variant(item("true"), "R") == ("pARIS", 0.0)
    assert S.case_variant(item("false"), "R") is None         # nothing to judge: the item is not sensitive


def test_map_response_point_counts_each_area_once():
    item = _item('<qti-response-declaration identifier="R" cardinality="multiple" base-type="point">'
                 "<qti-correct-response><qti-value>10 10</qti-value></qti-correct-response>"
                 '<qti-area-mapping default-value="0" upper-bound="1">'
                 '<qti-area-map-entry shape="circle" coords="10,10,5" mapped-value="0.75"/>'
                 '<qti-area-map-entry shape="rect" coords="50,50,60,60" mapped-value="0.5"/>'
                 "</qti-area-mapping></qti-response-declaration>",
                 '<qti-select-point-interaction response-identifier="R" max-choices="2"/>', "map_response_point")
    assert S.expected(item, "R", ["12 11"]) == 0.75
    assert S.expected(item, "R", ["12 11", "11 12"]) == 0.75   # the second point in the same area adds nothing
    assert S.expected(item, "R", ["12 11", "55 55"]) == 1.0    # 1.25 capped
    assert S.expected(item, "R", ["200 200"]) == 0.0


def test_custom_processing_is_not_judged_by_the_score_rules():
    from tbconform.fixtures.qti import build_item
    import random

    slider = S.read_item(build_item("slider", "s", "s", random.Random(1)))
    assert slider.template == "custom" and S.expected(slider, "RESPONSE", "40") is None
    text = S.read_item(build_item("extended-text", "e", "e", random.Random(1)))
    assert text.template is None and S.correct_response(text, "RESPONSE") is None


def test_run_against_the_sandbox_reports_no_qti_rule_failure(tmp_path):
    """`tbconform run --api qti --allow-writes` (the pytest plugin, reports and all): every qti rule passed
    on each of its operations. (The contract layer's verdicts on the QTI spec are the spec's tests'.)"""
    import json
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(sys.executable).parent / "tbconform"
    report = tmp_path / "report"
    done = subprocess.run([str(cli), "run", "--api", "qti", "--allow-writes", "--workers", "1", "--quiet",
                           "--report-dir", str(report)], capture_output=True, text=True, timeout=300)
    assert (report / "summary.json").exists(), done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((report / "summary.json").read_text())
    results = json.loads((report / "run.json").read_text())["results"]
    failing = [(r["id"], r["operation"], r["message"][:200]) for r in results
               if r["id"].startswith("qti.") and r["status"] in ("failed", "error")]
    assert failing == []
    rules = {rid: counts for rid, counts in summary["rules"].items() if rid.startswith("qti.")}
    assert set(rules) == set(RULES)
    assert all(c["passed"] == c["total"] == len(RULES[rid][0]) for rid, c in rules.items()), rules


def test_scoring_rules_also_judge_the_items_the_target_lists(catalog):
    """The seeded items the scoring rules find: several interaction types, all standard templates, and
    the healthy sandbox scores each one's correct response as the independent reading says."""
    from tbconform.harness.checks import qti as checks

    with run_sandbox(SandboxConfig()) as running:
        ctx = _ctx(running.base_url, catalog, True, running.token_url)
        found = checks.found_items(ctx)
        judged = checks._judge(ctx, found, checks._correct, "correct")
        ctx.session.close()
    kinds = {item.interactions[0][0] for _, item in found}
    assert len(found) == checks.FOUND_ITEMS and len(kinds) >= 6, kinds
    assert all(item.template in S.TEMPLATES and not ctx.own(identifier) for identifier, item in found)
    assert judged == len(found)

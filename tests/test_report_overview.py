"""index.html's overview (scores, matrix, failing rules, warnings), `--compare` changes in the page
and in summary.json, and the Allure severity choice."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tbconform.harness.cli import main
from tbconform.reports import CheckResult, Exchange, RunResult, write_reports
from tbconform.reports.allure_labels import severity
from tbconform.reports.overview import api_scores

TOKEN = "eyJhbGciOiJIUzI1NiJ9.b3ZlcnZpZXctdG9rZW4.c2lnbmF0dXJl"
USERS, CLASSES, ORGS = "GET /users", "GET /classes", "GET /orgs"


def res(rule: str, op: str, status: str, api: str = "oneroster", exchange: Exchange | None = None,
        message: str = "") -> CheckResult:
    return CheckResult(id=rule, api=api, operation=op, status=status, rule=f"statement of {rule}",
                       message=message or ("broken" if status in ("failed", "error") else ""), exchange=exchange)


def answered(status: int | None) -> Exchange:
    return Exchange("GET", "https://t.example/users?limit=1", {"Authorization": f"Bearer {TOKEN}"},
                    status=status, response_body='{"users": [], "access_token": "%s"}' % TOKEN)


def current() -> RunResult:
    return RunResult(target="https://t.example", started="2025-02-01T00:00:00Z", finished="2025-02-01T00:00:03Z",
                     operations={"oneroster": [USERS, CLASSES, ORGS, "GET /never"], "qti": ["GET /items"]},
                     results=[
                         res("oneroster.paging.total", USERS, "failed", exchange=answered(200)),
                         res("oneroster.paging.total", CLASSES, "failed", exchange=answered(200)),
                         res("oneroster.paging.link", USERS, "warning", message="no Link header"),
                         res("oneroster.filter.eq", USERS, "passed"),
                         res("oneroster.filter.eq", CLASSES, "passed"),
                         res("oneroster.filter.eq", ORGS, "failed", exchange=answered(None)),  # no HTTP answer
                         res("oneroster.sort.asc", ORGS, "skipped"),
                         res("qti.items.list", "GET /items", "passed", api="qti"),
                     ])


def base() -> RunResult:
    return RunResult(target="https://t.example", started="2025-01-01T00:00:00Z", finished="2025-01-01T00:00:03Z",
                     results=[
                         res("oneroster.paging.total", USERS, "failed"),      # still failing
                         res("oneroster.filter.eq", CLASSES, "failed"),       # fixed
                         res("oneroster.sort.asc", ORGS, "failed"),           # skipped now: not rechecked
                         res("oneroster.paging.total", CLASSES, "passed"),    # new failure
                     ])


def test_scores_count_judged_checks_and_answered_operations() -> None:
    scores = {s.api: s for s in api_scores(current())}
    one = scores["oneroster"]
    # 2 passed + 1 warning of 6 judged (the skip is left out); USERS and CLASSES answered, ORGS only
    # failed without an HTTP answer (and its other check was skipped), GET /never was not tried.
    assert (one.passed, one.judged, one.answered, one.operations) == (3, 6, 2, 4)
    assert one.score == 50.0 and one.answered_share == 50.0
    assert scores["qti"].score == 100.0 and scores["qti"].answered_share == 100.0


def test_overview_comes_first_with_matrix_failing_rules_and_warnings(tmp_path: Path) -> None:
    page = write_reports(current(), tmp_path / "r", secrets=[TOKEN])["index.html"].read_text("utf-8")
    assert TOKEN not in page
    assert page.index('id=overview') < page.index('id=failing-rules') < page.index('id=warnings') < page.index('id=detail')
    assert "compliance: 3 of 6 checks passed" in page and ">50.0%</div>" in page and "2 of 4 operations answered (50.0%)" in page and "counts as answered" in page
    matrix = re.search(r"<table id=matrix.*?</table>", page, re.S).group(0)
    assert '<td class="cell failed" title="2 failed">2 of 2 fail</td>' in matrix
    assert '<td class="cell warning"' in matrix and '<td class="cell na">—</td>' in matrix  # qti row for oneroster rule
    rows = re.findall(r"<tr><td><code>([^<]+)</code>", matrix)
    assert rows[:2] == ["oneroster.filter.eq", "oneroster.paging.total"]  # failing rules first
    failing = re.search(r"<section id=failing-rules>.*?</section>", page, re.S).group(0)
    assert "Failing rules (2)" in failing and "fails on 2 operations" in failing
    assert failing.index("oneroster.paging.total") < failing.index("oneroster.filter.eq")  # most operations first
    assert "statement of oneroster.paging.total" in failing
    assert "curl -sS -X GET -H &#x27;Authorization: Bearer ***&#x27;" in failing and "data-copy=\"curl-0\"" in failing
    assert "response status <b>200</b>" in failing and "&quot;access_token&quot;: &quot;***&quot;" in failing
    warnings = re.search(r"<section id=warnings>.*?</section>", page, re.S).group(0)
    assert "Warnings (1)" in warnings and "no Link header" in warnings
    assert "oneroster.paging.link" not in failing
    assert 'id=fstatus' in page and 'id=fapi' in page and 'data-s="warning"' in page and 'data-api="qti"' in page
    assert "Changed since base" not in page


def test_warnings_never_change_the_verdict(tmp_path: Path) -> None:
    run = RunResult("t", "s", "f", results=[res("oneroster.paging.link", USERS, "warning"),
                                            res("oneroster.filter.eq", USERS, "passed")])
    paths = write_reports(run, tmp_path / "w")
    summary = json.loads(paths["summary.json"].read_text())
    assert (summary["verdict"], summary["warnings"]) == ("PASS", 1)
    assert "Warnings (1)" in paths["index.html"].read_text() and "Failing rules (0)" in paths["index.html"].read_text()


def test_compare_adds_changes_to_page_and_summary(tmp_path: Path, capsys) -> None:
    base_dir, now_dir = tmp_path / "base", tmp_path / "now"
    write_reports(base(), base_dir)
    write_reports(current(), now_dir, secrets=[TOKEN])
    assert main(["report", "--from", str(now_dir), "--compare", str(base_dir)]) == 0
    summary = json.loads((now_dir / "summary.json").read_text())
    changes = summary["changes"]
    keys = {kind: [(c["id"], c["operation"]) for c in changes[kind]]
            for kind in ("new_failures", "fixed", "still_failing", "not_rechecked")}
    assert keys == {"new_failures": [("oneroster.filter.eq", ORGS), ("oneroster.paging.total", CLASSES)],
                    "fixed": [("oneroster.filter.eq", CLASSES)],
                    "still_failing": [("oneroster.paging.total", USERS)],
                    "not_rechecked": [("oneroster.sort.asc", ORGS)]}
    assert changes["new_failures_count"] == 2 and changes["base"]["verdict"] == "FAIL"
    page = (now_dir / "index.html").read_text("utf-8")
    section = re.search(r"<section id=changes>.*?</section>", page, re.S).group(0)
    assert "New failures (2)" in section and "Fixed (1)" in section and "Still failing (1)" in section
    assert page.index("id=changes") < page.index("id=failing-rules")
    assert TOKEN not in page and TOKEN not in (now_dir / "summary.json").read_text()


@pytest.mark.parametrize("bad", ["missing", "notjson"])
def test_compare_with_a_bad_base_is_a_one_line_usage_error(tmp_path: Path, capsys, bad: str) -> None:
    now_dir = tmp_path / "now"
    write_reports(current(), now_dir)
    before = (now_dir / "index.html").read_bytes()
    base_dir = tmp_path / "base"
    if bad == "notjson":
        base_dir.mkdir()
        (base_dir / "run.json").write_text("{nope")
    assert main(["report", "--from", str(now_dir), "--compare", str(base_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--compare" in err and "run.json" in err
    assert (now_dir / "index.html").read_bytes() == before  # nothing re-rendered


def test_allure_severity() -> None:
    assert severity("oneroster.auth.forged-token", [res("oneroster.auth.forged-token", USERS, "passed")]) == "critical"
    assert severity("oneroster.paging.link", [res("oneroster.paging.link", USERS, "warning")]) == "minor"
    assert severity("oneroster.paging.total", [res("oneroster.paging.total", USERS, "failed")]) == "normal"
    contract = [res("contract.not_a_server_error", USERS, "failed"), res("contract.status_code_conformance", USERS, "passed")]
    assert severity("contract (schemathesis checks)", contract) == "critical"

"""Report writers: counts, formats, escaping, self-containment, round trip, and no leaked secrets."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tbconform.reports import CheckResult, Exchange, RunResult, redact, redact_headers, render_from, write_reports
from tbconform.reports.model import EXCERPT_LIMIT

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.Zm9vYmFy"
CLIENT_SECRET = "s3cr3t-Client-Value+42"
PASSWORD = "hunter2-passw0rd"
MESSAGE_SECRET = "sekrit-in-message-9f8e"
ALL_SECRETS = [TOKEN, CLIENT_SECRET, PASSWORD, MESSAGE_SECRET]
USERS = "GET /ims/oneroster/rostering/v1p2/users"
ODD = "odd \U0001F600 \x00nul \x07bell \x1b[31m <script>alert('x')</script> & \ufffe end"


def make_run() -> RunResult:
    failing_exchange = Exchange(
        method="post", url="https://api.example.test/auth/1.0/token?debug=1",
        request_headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-www-form-urlencoded"},
        request_body=f"grant_type=client_credentials&client_id=abc&client_secret={CLIENT_SECRET}",
        status=400, response_headers={"Content-Type": "application/json", "Set-Cookie": "sid=zzz"},
        response_body=json.dumps({"error": "invalid_client", "access_token": TOKEN, "password": PASSWORD,
                                  "detail": "expected totalCount=3"}),
    )
    results = [
        CheckResult(id="oneroster.pagination.total-matches", api="oneroster", operation=USERS, status="passed",
                    message="", rule="X-Total-Count equals the number of records", layer="semantic", duration=0.12),
        CheckResult(id="contract.response_schema_conformance", api="oneroster", operation=USERS, status="passed",
                    rule="Responses match the schema", layer="contract", duration=0.05),
        CheckResult(id="oneroster.auth.token-endpoint", api="oneroster", operation="POST /auth/1.0/token",
                    status="failed", message=f"token rejected; used {MESSAGE_SECRET}; {ODD}",
                    rule="A valid client gets a token", layer="semantic", duration=0.3, exchange=failing_exchange),
        CheckResult(id="oneroster.filter.odd", api="oneroster", operation=USERS, status="error",
                    message=ODD, rule="<b>filters</b> work", layer="semantic",
                    exchange=Exchange("GET", "https://api.example.test/users?filter=x", status=None)),
        CheckResult(id="qti.items.list", api="qti", operation="GET /api/items", status="skipped",
                    message="QTI not served by target", rule="Items list", layer="contract"),
        CheckResult(id="qti.items.get", api="qti", operation="GET /api/items/{id}", status="passed",
                    rule="Items get", layer="contract", duration=0.01),
    ]
    return RunResult(target="https://api.example.test", started="2024-05-01T10:00:00Z",
                     finished="2024-05-01T10:00:05Z", duration=5.0,
                     settings={"seed": 42, "apis": ["oneroster", "qti"], "client_id": "abc",
                               "_secrets": [MESSAGE_SECRET]},
                     results=results)


@pytest.fixture()
def written(tmp_path: Path) -> dict[str, Path]:
    return write_reports(make_run(), tmp_path / "out", secrets=[TOKEN, CLIENT_SECRET, PASSWORD])


def test_writes_all_files(written: dict[str, Path]) -> None:
    assert set(written) == {"run.json", "summary.json", "junit.xml", "index.html", "allurerc.mjs"}
    assert "groupBy" in written["allurerc.mjs"].read_text()
    assert all(p.is_file() for p in written.values())
    assert not [p for p in written["run.json"].parent.iterdir() if p.name.endswith(".tmp")]


def test_summary_counts_and_checks(written: dict[str, Path]) -> None:
    s = json.loads(written["summary.json"].read_text("utf-8"))
    assert (s["passed"], s["failed"], s["skipped"], s["errors"], s["total"]) == (3, 1, 1, 1, 6)
    assert all(isinstance(s[k], int) for k in ("passed", "failed", "skipped", "errors", "total"))
    assert s["target"] == "https://api.example.test" and s["verdict"] == "FAIL"
    assert s["started"] == "2024-05-01T10:00:00Z" and s["duration"] == 5.0
    assert [c["id"] for c in s["checks"]][:3] == ["oneroster.pagination.total-matches",
                                                 "contract.response_schema_conformance",
                                                 "oneroster.auth.token-endpoint"]
    assert set(s["checks"][0]) == {"id", "api", "operation", "status", "message"}
    assert s["rules"]["oneroster.auth.token-endpoint"]["failed"] == 1
    assert s["apis"]["qti"] == {"passed": 1, "failed": 0, "skipped": 1, "errors": 0, "warnings": 0, "total": 2}
    assert "changes" not in s  # only with a base run


def test_junit_counts_and_failure_text(written: dict[str, Path]) -> None:
    root = ET.parse(written["junit.xml"]).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("6", "1", "1", "1")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"oneroster", "qti"}
    assert (suites["oneroster"].get("tests"), suites["oneroster"].get("failures")) == ("4", "1")
    assert suites["qti"].get("skipped") == "1"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    case = cases["POST /auth/1.0/token :: oneroster.auth.token-endpoint"]
    assert case.get("classname") == "tbconform.oneroster.semantic"
    text = case.find("failure").text
    assert "curl -sS -X POST" in text and "'Authorization: Bearer ***'" in text
    assert "response status: 400" in text and "invalid_client" in text
    assert "\x00" not in text and "\U0001F600" in text
    assert cases[f"{USERS} :: oneroster.filter.odd"].find("error") is not None
    assert cases["GET /api/items :: qti.items.list"].find("skipped").get("message") == "QTI not served by target"


def test_html_content_escaping_and_self_contained(written: dict[str, Path]) -> None:
    page = written["index.html"].read_text("utf-8")
    assert "oneroster.auth.token-endpoint" in page and "A valid client gets a token" in page
    assert "curl -sS -X POST" in page and "Authorization: Bearer ***" in page
    assert "invalid_client" in page and "<b>400</b>" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "&lt;b&gt;filters&lt;/b&gt;" in page
    assert "\x00" not in page and "\x07" not in page
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:[a-z]+:)?//""", page, re.I)
    assert not re.search(r"<link\b|@import|url\(|<script[^>]*\bsrc", page, re.I)
    assert page.count("<script>") == 1  # our own filter script, nothing from the data
    assert "<details" in page and "By operation" in page and "By rule" in page


def test_secrets_never_written(written: dict[str, Path]) -> None:
    for path in written.values():
        content = path.read_text("utf-8")
        for secret in ALL_SECRETS:
            assert secret not in content, f"{secret!r} leaked into {path.name}"
        assert "_secrets" not in content
        assert "sid=zzz" not in content


def test_render_from_round_trip(written: dict[str, Path], tmp_path: Path) -> None:
    before = {n: p.read_bytes() for n, p in written.items()}
    again = render_from(written["run.json"].parent)
    assert {n: p.read_bytes() for n, p in again.items()} == before
    run = RunResult.from_json(before["run.json"])
    assert run.counts() == {"passed": 3, "failed": 1, "skipped": 1, "error": 1, "warning": 0}
    assert run.results[2].exchange is not None and run.results[2].exchange.status == 400


def test_render_from_missing_or_invalid(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="run.json"):
        render_from(tmp_path / "nope")
    (tmp_path / "run.json").write_text("{not json", "utf-8")
    with pytest.raises(ValueError, match="not valid JSON") as info:
        render_from(tmp_path)
    assert "\n" not in str(info.value)
    (tmp_path / "run.json").write_text('{"target": 1}', "utf-8")
    with pytest.raises(ValueError, match="not a tbconform run"):
        render_from(tmp_path)


def test_redact_helpers() -> None:
    assert redact_headers({"Authorization": "Basic dXNlcjpwYXNz", "authorization": "Bearer x", "X-Y": "z"}) == \
        {"Authorization": "Basic ***", "authorization": "Bearer ***", "X-Y": "z"}
    assert redact('{"client_secret": "a\\"b", "password":"p", "access_token": 5}') == \
        '{"client_secret": "***", "password":"***", "access_token": "***"}'
    assert redact("a=1&password=p%20w&client_secret=x") == "a=1&password=***&client_secret=***"
    assert redact("used Bearer abc.def-123 for Bearer authentication") == "used Bearer *** for Bearer authentication"
    assert redact("https://u:pw@host/x") == "https://***:***@host/x"
    assert redact("key is s3cr3t!", ["s3cr3t!"]) == "key is ***"
    assert redact('{\\"password\\": \\"p\\"}') == '{\\"password\\": \\"***\\"}'


def test_curl_and_excerpt() -> None:
    ex = Exchange("get", "https://h/x?a=1&b=2", {"Accept": "application/json"}, "it's", 200, {}, "é" * 5000)
    assert ex.curl() == "curl -sS -X GET -H 'Accept: application/json' --data-raw 'it'\"'\"'s' 'https://h/x?a=1&b=2'"
    assert len(ex.response_body.encode("utf-8")) <= EXCERPT_LIMIT and "truncated" in ex.response_body


def test_invalid_status_rejected() -> None:
    with pytest.raises(ValueError, match="status"):
        CheckResult(id="x", api="a", operation="GET /", status="ok")


def test_settings_masked_and_odd_values_survive(tmp_path: Path) -> None:
    run = RunResult("https://t", "a", "b", 0.1, {"client_secret": "zzz-leak", "nested": {"password": "pw-leak"},
                                                 "path": tmp_path},
                    [CheckResult("r.id", "x", "GET /", "failed", "lone \ud800 surrogate")])
    paths = write_reports(run, tmp_path / "o", secrets=["x"])  # too short to mask: must not shred markup
    ET.parse(paths["junit.xml"])
    assert json.loads(paths["summary.json"].read_text("utf-8"))["failed"] == 1
    for path in paths.values():
        text = path.read_text("utf-8")
        assert "zzz-leak" not in text and "pw-leak" not in text


def test_an_interrupted_run_is_incomplete_unless_something_failed(tmp_path: Path) -> None:
    ok = CheckResult(id="oneroster.x", api="oneroster", operation="GET /x", status="passed")
    bad = CheckResult(id="oneroster.y", api="oneroster", operation="GET /y", status="failed", message="no")
    run = RunResult(target="http://t", started="s", finished="f", results=[ok], interrupted=True)
    assert run.verdict() == "INCOMPLETE"
    assert RunResult(target="t", started="s", finished="f", results=[ok, bad], interrupted=True).verdict() == "FAIL"
    assert RunResult.from_json(run.to_json()).interrupted
    old = json.loads(run.to_json())
    del old["interrupted"]  # a run.json written before the field existed
    assert RunResult.from_dict(old).verdict() == "PASS"
    paths = write_reports(run, tmp_path / "r", secrets=[])
    assert json.loads(paths["summary.json"].read_text())["verdict"] == "INCOMPLETE"
    assert "INCOMPLETE" in paths["index.html"].read_text()

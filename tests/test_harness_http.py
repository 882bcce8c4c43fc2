"""The harness's HTTP path: token caching and refresh from a token URL on another host,
429 + Retry-After, the rate cap and the write guard."""
from __future__ import annotations

import json
import time

import pytest
from werkzeug import Response

from tbconform.harness.config import RunConfig, is_loopback
from tbconform.harness.http import HarnessSession, RateLimiter, TokenProvider, WriteBlocked, retry_after_seconds


@pytest.fixture
def token_host(httpserver):
    calls = []

    def issue(request):
        calls.append(request.headers.get("Authorization"))
        return Response(f'{{"access_token": "tok-{len(calls)}", "token_type": "Bearer", "expires_in": 61}}',
                        content_type="application/json")

    httpserver.expect_request("/oauth2/token", method="POST").respond_with_handler(issue)
    return httpserver, calls


def test_token_is_cached_then_refreshed_before_expiry(token_host, readonly_sandbox):
    server, calls = token_host
    provider = TokenProvider(server.url_for("/oauth2/token"), "id", "secret")
    assert provider.token() == "tok-1" and provider.token() == "tok-1" and len(calls) == 1
    assert calls[0].startswith("Basic ")
    time.sleep(1.2)  # 61 s lifetime minus the 60 s safety margin
    assert provider.token() == "tok-2" and len(calls) == 2


def test_requests_carry_the_token_from_the_other_host(token_host):
    server, calls = token_host
    seen = []
    server.expect_request("/api/thing").respond_with_handler(
        lambda request: seen.append(request.headers.get("Authorization")) or Response("{}", content_type="application/json"))
    session = HarnessSession(server.url_for("/api"), TokenProvider(server.url_for("/oauth2/token"), "id", "secret"), False)
    assert session.get("/thing").status_code == 200
    assert seen == ["Bearer tok-1"]


def test_429_retry_after_is_honoured(httpserver):
    answers = iter([Response("busy", status=429, headers={"Retry-After": "1"}), Response("{}", status=200)])
    stamps = []
    httpserver.expect_request("/x").respond_with_handler(lambda request: stamps.append(time.monotonic()) or next(answers))
    session = HarnessSession(httpserver.url_for(""), None, False)
    assert session.get("/x").status_code == 200
    assert len(stamps) == 2 and stamps[1] - stamps[0] >= 0.95


def test_retry_after_parsing():
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds(None) == 1.0 and retry_after_seconds("soon") == 1.0
    assert retry_after_seconds("100000") == 30.0


def test_rate_limiter_spaces_requests():
    limiter = RateLimiter(20)
    start = time.monotonic()
    for _ in range(11):
        limiter.wait()
    assert time.monotonic() - start >= 0.45


def test_write_guard_and_safe_defaults(httpserver):
    session = HarnessSession(httpserver.url_for(""), None, writes_allowed=False)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(WriteBlocked):
            session.request(method, "/anything")
    assert session.writes_sent == 0 and not httpserver.log
    remote = RunConfig(target="https://api.staging.alpha-1edtech.ai")
    assert not remote.writes_enabled and remote.rate_limit == 10
    assert RunConfig(target="https://api.staging.alpha-1edtech.ai", allow_writes=True).writes_enabled
    assert RunConfig(target="http://127.0.0.1:8765").writes_enabled and RunConfig().rate_limit is None
    assert is_loopback("http://localhost:1") and is_loopback("http://[::1]:2") and not is_loopback("http://10.0.0.1")


def test_parallel_workers_share_the_rate_cap(monkeypatch):
    from tbconform.harness.config import MAX_AUTO_WORKERS, auto_workers
    from tbconform.harness.options import WORKERS
    from tbconform.harness.pytest_plugin import ConformanceRun

    remote = RunConfig(target="https://api.staging.alpha-1edtech.ai", client_id="id", client_secret="s3cr3t",
                       readonly_client_id="ro", readonly_client_secret="ro-s3cr3t")
    assert remote.worker_rate_limit(1) == 10 and remote.worker_rate_limit(4) == 2.5
    assert RunConfig(target="http://127.0.0.1:1").worker_rate_limit(3) is None
    assert 1 <= auto_workers() <= MAX_AUTO_WORKERS and WORKERS("auto") == auto_workers() and WORKERS("3") == 3
    for bad in ("0", "-2", "many"):
        with pytest.raises(Exception, match="positive integer or 'auto'"):
            WORKERS(bad)
    # Under xdist each worker process builds its own session: each gets its share, both clients one limiter.
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    run = ConformanceRun(remote)
    assert run.session.limiter.interval == pytest.approx(1 / 5)
    assert run.context.readonly is not None and run.context.readonly.limiter is run.session.limiter


@pytest.mark.parametrize("answer, reason", [
    ({"access_token": "t", "expires_in": 600}, "names no scope"),
    ({"access_token": "t", "expires_in": 600, "scope": "https://purl.imsglobal.org/spec/or/v1p1/scope/admin"},
     "did not reduce"),
    (None, "refused a token limited to the read-only scopes"),
])
def test_reduced_scope_token_must_be_confirmed(httpserver, answer, reason):
    """Without a read-only client the scope rule asks for a reduced token; an endpoint that refuses,
    or does not confirm the reduction in its answer's `scope`, makes the rule skip with that reason."""
    from tbconform.harness.catalog import Catalog
    from tbconform.harness.context import CheckContext
    from tbconform.harness.rules import NotApplicable

    asked = []

    def issue(request):
        asked.append(request.form.get("scope", ""))
        if answer is None:
            return Response('{"error": "invalid_scope"}', status=400, content_type="application/json")
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request("/oauth2/token", method="POST").respond_with_handler(issue)
    session = HarnessSession(httpserver.url_for(""), TokenProvider(httpserver.url_for("/oauth2/token"), "id", "s"), True)
    ctx = CheckContext(RunConfig(target=httpserver.url_for("")), Catalog.load(["oneroster"]), session)
    for _ in range(2):  # asked once, the verdict kept
        with pytest.raises(NotApplicable, match=reason):
            ctx.readonly_session()
    assert len(asked) == 1 and asked[0].split() and all(s.endswith("readonly") for s in asked[0].split())


def test_request_timeout_option_reaches_the_config():
    from tbconform.harness.options import RUN_OPTIONS, build_config

    defaults = {o.dest: o.default if not o.flag else False for o in RUN_OPTIONS}
    assert build_config(lambda dest: defaults[dest]).request_timeout == 10.0
    assert build_config(lambda dest: {**defaults, "request_timeout": 2.5}[dest]).request_timeout == 2.5

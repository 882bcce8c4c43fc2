"""Realistic target conditions: `--latency MS[:JITTER]` and `--rate-limit N/s`."""
from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest

from tbconform.harness.cli import _latency, _rate, main
from tbconform.mocks.conditions import TokenBucket
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox

NOWHERE = "/tbconform-no-such-path"  # the cheapest answer (404), so timings measure the delay


def _timings(base_url: str, count: int) -> list[float]:
    out = []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.get(NOWHERE)  # connect first
        for _ in range(count):
            start = time.perf_counter()
            assert client.get(NOWHERE).status_code == 404
            out.append((time.perf_counter() - start) * 1000)
    return out


def test_latency_delays_every_answer_within_bounds(readonly_sandbox):
    baseline = statistics.median(_timings(readonly_sandbox.base_url, 15))
    with run_sandbox(SandboxConfig(latency_ms=60, jitter_ms=20)) as sb:
        delayed = _timings(sb.base_url, 25)
        token = httpx.post(sb.token_url, data={"grant_type": "client_credentials"}, auth=("x", "y"))
        start = time.perf_counter()
        httpx.post(sb.token_url, data={"grant_type": "client_credentials"}, auth=("x", "y"))
        token_ms = (time.perf_counter() - start) * 1000
    assert token.status_code == 401 and token_ms >= 40  # the token endpoint is delayed too
    assert min(delayed) >= 40, delayed  # never below MS - JITTER
    assert 45 <= statistics.median(delayed) <= 75 + baseline + 30, (baseline, delayed)
    assert max(delayed) - min(delayed) > 5, "jitter must vary the delay"


def test_latency_does_not_block_other_requests():
    with run_sandbox(SandboxConfig(latency_ms=300)) as sb:
        codes: list[int] = []
        threads = [threading.Thread(target=lambda: codes.append(httpx.get(sb.base_url + NOWHERE).status_code))
                   for _ in range(6)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    assert codes == [404] * 6
    assert 0.3 <= elapsed < 1.2, elapsed  # six answers in parallel, not 6 x 300 ms in a row


def test_rate_limit_answers_429_with_retry_after_and_recovers():
    with run_sandbox(SandboxConfig(rate_limit=5)) as sb, httpx.Client(base_url=sb.base_url, timeout=10) as client:
        answers = [client.get(NOWHERE) for _ in range(5)]
        assert [a.status_code for a in answers] == [404] * 5
        refused = client.get(NOWHERE)
        assert refused.status_code == 429
        retry = refused.headers["Retry-After"]
        assert retry.isdigit() and int(retry) >= 1
        body = refused.json()
        assert body["imsx_codeMajor"] == "failure" and "5 requests per second" in body["imsx_description"]
        assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "server_busy"
        token = client.post("/oauth2/token", data={"grant_type": "client_credentials"})
        assert token.status_code == 429 and token.headers["Retry-After"]  # the token endpoint is limited too
        time.sleep(int(retry))
        assert client.get(NOWHERE).status_code == 404


def test_token_bucket_admits_n_per_second_and_fractional_rates():
    now = [0.0]
    bucket = TokenBucket(3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(1 / 3)
    now[0] += 1 / 3
    assert bucket.take() == 0.0
    slow = TokenBucket(0.5, clock=lambda: now[0])
    assert slow.take() == 0.0 and slow.take() == pytest.approx(2.0)


def test_flag_values_parse():
    assert _latency("80:20") == (80.0, 20.0) and _latency("5") == (5.0, 0.0) and _latency("0.5:0") == (0.5, 0.0)
    assert _rate("20/s") == 20.0 and _rate("7") == 7.0 and _rate("2.5/S") == 2.5


@pytest.mark.parametrize("argv", [
    ["mock", "--latency", "fast"], ["mock", "--latency", "-5"], ["mock", "--latency", "50:"],
    ["mock", "--latency", "50:x"], ["mock", "--latency", "nan"], ["mock", "--rate-limit", "0"],
    ["mock", "--rate-limit", "ten/s"], ["mock", "--rate-limit", "-1/s"], ["mock", "--rate-limit", "5/min"],
])
def test_bad_condition_flags_are_one_line_exit_2(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tbconform mock:") and "\n" not in err and argv[1] in err


def test_help_explains_the_condition_flags(capsys):
    with pytest.raises(SystemExit):
        main(["mock", "--help"])
    out = capsys.readouterr().out
    assert "--latency MS[:JITTER]" in out and "--rate-limit N/s" in out and "Retry-After" in out

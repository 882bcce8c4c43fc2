"""Proof of no false alarms (issue 7 item 4): `tbconform run --workers 2 --allow-writes`, repeated 5
times against a healthy sandbox started with `tbconform mock --latency 20:10` (every answer 10-30 ms
late), ends every time with 0 failures and 0 errors.

With writes on, one worker's write rules create, change and delete records while the other worker's
read rules list and GET; the latency widens every gap between two reads, so the race of the issue (a
record the run created, listed, then deleted by the other worker before the GET) is there to hit.

Bounded form (the default, in `make test`, about 2.5 minutes on two cores): five runs of both
layers side by side, each against a sandbox process of its own, with `--max-examples 1`: the
contract layer's fuzzed writes add to the traffic while the semantic rules compare several reads.
`--run-heavy` (or TBCONFORM_HEAVY=1) uses the default number of examples instead.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.testing import free_port

REPEATS = 5
LATENCY = "20:10"  # ms, ± ms


def _wait_for(port: int, process: subprocess.Popen, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"sandbox exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"sandbox did not listen on {port}")


def _slowest_and_fastest(port: int, tries: int = 5) -> tuple[float, float]:
    """Seconds an (unauthenticated, so cheap) request takes: the latency really is on."""
    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(tries):
            started = time.perf_counter()
            client.get("/ims/oneroster/rostering/v1p2/users")
            times.append(time.perf_counter() - started)
    return max(times), min(times)


@pytest.mark.heavy
def test_repeated_runs_with_writes_on_a_slow_target_report_no_failure(request, tmp_path: Path):
    heavy = request.config.getoption("--run-heavy", default=False) or os.environ.get("TBCONFORM_HEAVY")
    examples = "5" if heavy else "1"
    sandboxes, runs = [], []
    try:
        for i in range(REPEATS):
            port = free_port()
            sandboxes.append(subprocess.Popen(
                [sys.executable, "-m", "tbconform.harness.cli", "mock", "--port", str(port), "--latency", LATENCY],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            _wait_for(port, sandboxes[-1])
            slowest, fastest = _slowest_and_fastest(port)
            assert fastest >= 0.009, f"--latency {LATENCY} is not in effect: an answer took {fastest * 1000:.1f} ms"
            out = tmp_path / f"run{i}"
            runs.append((out, subprocess.Popen(
                [sys.executable, "-m", "tbconform.harness.cli", "run", "--target", f"http://127.0.0.1:{port}",
                 "--client-id", DEFAULT_CLIENT_ID, "--client-secret", DEFAULT_CLIENT_SECRET, "--allow-writes",
                 "--workers", "2", "--max-examples", examples, "--seed", str(i), "--quiet",
                 "--report-dir", str(out)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for out, run in runs:
            output, _ = run.communicate(timeout=900)
            assert (out / "run.json").is_file(), (out.name, output[-1500:])
            results = json.loads((out / "run.json").read_text())["results"]
            bad = [(r["status"], r["id"], r["operation"], r["message"][:300]) for r in results
                   if r["status"] in ("failed", "error")]
            assert not bad and run.returncode == 0, (out.name, bad[:5], output[-1500:])
            assert output.startswith("tbconform: PASS"), (out.name, output[-1500:])
            judged = [r for r in results if r["status"] == "passed" and r["layer"] == "semantic"]
            assert len(judged) > 500, f"{out.name}: only {len(judged)} semantic checks passed"
            # the run really wrote (so its workers raced): records were created, changed and removed
            for rule_id in ("oneroster.write.round-trip", "oneroster.delete.soft"):
                assert any(r["id"] == rule_id and r["status"] == "passed" for r in results), (out.name, rule_id)
            settings = json.loads((out / "run.json").read_text()).get("settings", {})
            assert settings["workers"] == 2 and settings["allowWrites"] is True, settings
    finally:
        for _, run in runs:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=30)
        for sandbox in sandboxes:
            sandbox.terminate()
            sandbox.wait(timeout=30)

"""Proof of no false alarms: repeated `tbconform run --workers 2 --allow-writes` against a healthy
sandbox that answers slowly (20 ms ± 10 ms), so one worker's writes land between another's reads.
Every run must end with 0 failures and 0 errors.

Bounded form (the default, in `make test`): five semantic-layer runs (the layer whose rules compare
several reads; its write rules still write while the other worker reads), side by side, each
against a sandbox process of its own. `--run-heavy` (or TBCONFORM_HEAVY=1) runs both layers, where
the contract layer's fuzzed writes add to the traffic.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.testing import free_port

REPEATS = 5


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


@pytest.mark.heavy
def test_repeated_runs_with_writes_on_a_slow_target_report_no_failure(request, tmp_path: Path):
    heavy = request.config.getoption("--run-heavy", default=False) or os.environ.get("TBCONFORM_HEAVY")
    layers = "contract,semantic" if heavy else "semantic"
    sandboxes, runs = [], []
    try:
        for i in range(REPEATS):
            port = free_port()
            sandboxes.append(subprocess.Popen(
                [sys.executable, "-m", "tbconform.harness.cli", "mock", "--port", str(port), "--latency", "20:10"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            _wait_for(port, sandboxes[-1])
            out = tmp_path / f"run{i}"
            runs.append((out, subprocess.Popen(
                [sys.executable, "-m", "tbconform.harness.cli", "run", "--target", f"http://127.0.0.1:{port}",
                 "--client-id", DEFAULT_CLIENT_ID, "--client-secret", DEFAULT_CLIENT_SECRET, "--allow-writes",
                 "--workers", "2", "--max-examples", "2", "--seed", str(i), "--layers", layers, "--quiet",
                 "--report-dir", str(out)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for out, run in runs:
            output, _ = run.communicate(timeout=900)
            results = json.loads((out / "run.json").read_text())["results"]
            bad = [(r["status"], r["id"], r["operation"], r["message"][:300]) for r in results
                   if r["status"] in ("failed", "error")]
            assert not bad and run.returncode == 0, (out.name, bad[:5], output[-1500:])
            judged = [r for r in results if r["status"] == "passed" and r["layer"] == "semantic"]
            assert len(judged) > 500, f"{out.name}: only {len(judged)} semantic checks passed"
            # the run really wrote (and so raced): records were created and removed
            assert any(r["id"] == "oneroster.delete.soft" and r["status"] == "passed" for r in results)
    finally:
        for _, run in runs:
            if run.poll() is None:
                run.kill()
        for sandbox in sandboxes:
            sandbox.terminate()
            sandbox.wait(timeout=30)

"""Ctrl-C in the middle of a run still removes every record the run created."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx

from mocks.testing import free_port
from tests.conftest import GRADEBOOK, ROSTERING

RUN_ID = "ctrlc"


def test_interrupted_run_cleans_up(tmp_path):
    port = free_port()
    mock = subprocess.Popen([sys.executable, "-m", "harness.cli", "mock", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/_sandbox", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        (tmp_path / "pytest.ini").write_text("[pytest]\n")
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), "-q",
             "-p", "no:cacheprovider", "--tbconform-target", base, "--tbconform-client-id", "tbconform-sandbox",
             "--tbconform-client-secret", "tbconform-sandbox-secret", "--tbconform-run-id", RUN_ID,
             "--tbconform-layers", "semantic", "--tbconform-rules", "oneroster.write,oneroster.delete,oneroster.auth"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
        token = httpx.post(base + "/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("tbconform-sandbox", "tbconform-sandbox-secret")).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def tagged() -> list[dict]:
            found = []
            for path, key in ((f"{ROSTERING}/users", "users"), (f"{ROSTERING}/classes", "classes"),
                              (f"{ROSTERING}/enrollments", "enrollments"), (f"{GRADEBOOK}/categories", "categories"),
                              (f"{GRADEBOOK}/lineItems", "lineItems"), (f"{GRADEBOOK}/results", "results")):
                body = httpx.get(base + path, params={"filter": f"sourcedId~'{RUN_ID}-'", "limit": 3000},
                                 headers=headers).json()
                found.extend(body.get(key, []))
            return found

        while time.monotonic() < deadline and run.poll() is None and not tagged():
            time.sleep(0.05)
        assert run.poll() is None, "run ended before it created anything: " + (run.stdout.read() if run.stdout else "")
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=120)
        assert run.returncode != 0, out[-2000:]
        records = tagged()
        assert records, "no tagged record found after the run"
        alive = [r["sourcedId"] for r in records if r.get("status") != "tobedeleted"]
        assert not alive, f"records left behind after Ctrl-C: {alive}"
    finally:
        mock.terminate()
        mock.wait(timeout=20)

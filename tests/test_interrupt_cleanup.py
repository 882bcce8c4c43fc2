"""Ctrl-C in the middle of a run stops it and still removes every record the run created: the
semantic layer in one pytest process, and the contract layer under `tbconform run` in one process
(a Ctrl-C landing in hypothesis' gc callback used to be swallowed there) and with 2 workers, where
the terminal's SIGINT reaches the controller and every worker."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tbconform.mocks.testing import free_port
from tests.conftest import GRADEBOOK, ROSTERING

CLIENT = ("tbconform-sandbox", "tbconform-sandbox-secret")
LISTINGS = ((f"{ROSTERING}/users", "users"), (f"{ROSTERING}/classes", "classes"),
            (f"{ROSTERING}/enrollments", "enrollments"), (f"{ROSTERING}/orgs", "orgs"),
            (f"{ROSTERING}/academicSessions", "academicSessions"), (f"{ROSTERING}/courses", "courses"),
            (f"{GRADEBOOK}/categories", "categories"), (f"{GRADEBOOK}/lineItems", "lineItems"),
            (f"{GRADEBOOK}/results", "results"), (f"{GRADEBOOK}/scoreScales", "scoreScales"),
            (f"{GRADEBOOK}/assessmentLineItems", "assessmentLineItems"))


def semantic_in_pytest(base: str, tmp_path) -> list[str]:
    # Unthrottled it can finish between two looks for its records; 40 requests/s leaves it running.
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return [sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), "-q",
            "-p", "no:cacheprovider", "--tbconform-target", base, "--tbconform-client-id", CLIENT[0],
            "--tbconform-client-secret", CLIENT[1], "--tbconform-run-id", "tbcctrlc", "--tbconform-max-rps", "40",
            "--tbconform-layers", "semantic", "--tbconform-rules", "oneroster.write,oneroster.delete,oneroster.auth"]


def contract_cli(workers: int):
    def command(base: str, tmp_path) -> list[str]:
        return [sys.executable, "-m", "tbconform.harness.cli", "run", "--target", base, "--client-id", CLIENT[0],
                "--client-secret", CLIENT[1], "--layers", "contract", "--workers", str(workers), "--quiet",
                "--report-dir", str(tmp_path / "report")]

    command.__name__ = f"contract_with_{workers}_workers"
    return command


@pytest.mark.parametrize("command", [semantic_in_pytest, contract_cli(1), contract_cli(2)],
                         ids=lambda command: command.__name__)
def test_interrupted_run_cleans_up(tmp_path, command):
    port = free_port()
    mock = subprocess.Popen([sys.executable, "-m", "tbconform.harness.cli", "mock", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/_sandbox", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        # Its own session, so SIGINT goes to the run's whole process group as a terminal's Ctrl-C does.
        run = subprocess.Popen(command(base, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=tmp_path, start_new_session=True)
        token = httpx.post(base + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=CLIENT).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}

        def tagged() -> list[dict]:  # every run id starts with "tbc"; seeded ids are hex
            found = []
            for path, key in LISTINGS:
                body = httpx.get(base + path, params={"filter": "sourcedId~'tbc'", "limit": 3000}, headers=headers).json()
                found.extend(body.get(key, []))
            return found

        while time.monotonic() < deadline and run.poll() is None and not tagged():
            time.sleep(0.05)
        assert run.poll() is None, "run ended before it created anything: " + (run.stdout.read() if run.stdout else "")
        os.killpg(run.pid, signal.SIGINT)
        out, _ = run.communicate(timeout=120)
        assert run.returncode != 0, out[-2000:]
        records = tagged()
        assert records, "no tagged record found after the run"
        alive = [r["sourcedId"] for r in records if r.get("status") != "tobedeleted"]
        assert not alive, f"records left behind after Ctrl-C: {alive}\n{out[-2000:]}"
        summary = tmp_path / "report" / "summary.json"
        if summary.exists():  # the CLI's reports say the run did not check everything
            assert json.loads(summary.read_text())["verdict"] == "INCOMPLETE", out[-2000:]
    finally:
        mock.terminate()
        mock.wait(timeout=20)

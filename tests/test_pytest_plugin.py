"""The suite inside a team's own pytest run, and `tbconform run` end to end on the sandbox."""
from __future__ import annotations

import json
import subprocess
import sys

from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tests.conftest import REPO


def pytest_in_subprocess(tmp_path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return subprocess.run([sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
                           "-p", "no:cacheprovider", *args], capture_output=True, text=True, timeout=600, cwd=tmp_path)


def test_plugin_runs_selected_rules_with_api_marker(tmp_path):
    with run_sandbox(SandboxConfig()) as sb:
        result = pytest_in_subprocess(
            tmp_path, "--tbconform-target", sb.base_url, "--tbconform-client-id", DEFAULT_CLIENT_ID,
            "--tbconform-client-secret", DEFAULT_CLIENT_SECRET, "-m", "oneroster", "--tbconform-layers", "semantic",
            "--tbconform-rules", "oneroster.auth.missing-token,oneroster.pagination", "--tbconform-report-dir",
            str(tmp_path / "rep"), "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    ids = {c["id"] for c in summary["checks"]}
    assert ids and all(i.startswith(("oneroster.auth.missing-token", "oneroster.pagination")) for i in ids)
    assert summary["failed"] == 0 and summary["passed"] >= 153  # missing-token on every operation
    assert DEFAULT_CLIENT_SECRET not in (tmp_path / "rep" / "index.html").read_text()


def test_plugin_is_inert_without_a_target(tmp_path):
    (tmp_path / "test_nothing.py").write_text("def test_ok():\n    assert True\n")
    result = pytest_in_subprocess(tmp_path, "-q", str(tmp_path / "test_nothing.py"))
    assert result.returncode == 0 and "1 passed" in result.stdout


def test_plugin_reports_a_broken_target_as_failures(tmp_path):
    with run_sandbox(SandboxConfig(faults=frozenset({"auth-not-enforced"}))) as sb:
        result = pytest_in_subprocess(
            tmp_path, "--tbconform-target", sb.base_url, "--tbconform-client-id", DEFAULT_CLIENT_ID,
            "--tbconform-client-secret", DEFAULT_CLIENT_SECRET, "--tbconform-layers", "semantic",
            "--tbconform-rules", "oneroster.auth.missing-token", "-q")
    assert result.returncode == 1
    assert "oneroster.auth.missing-token" in result.stdout


def test_tbconform_run_end_to_end(tmp_path):
    report = tmp_path / "latest"
    result = subprocess.run([sys.executable, "-m", "tbconform.harness.cli", "run", "--report-dir", str(report), "--quiet",
                             "--max-examples", "1"], capture_output=True, text=True, timeout=900, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["failed"] == 0 and summary["errors"] == 0 and summary["passed"] > 500
    layers = {c["id"].split(".")[0] for c in summary["checks"]}
    assert {"contract", "oneroster"} <= layers
    assert any((report / "allure-results").glob("*-result.json"))
    for path in report.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert DEFAULT_CLIENT_SECRET not in text and "tbs1." not in text, path
    assert DEFAULT_CLIENT_SECRET not in result.stdout + result.stderr and "tbs1." not in result.stdout + result.stderr

"""allure-results read well in the real Allure 3 report: run a few rules (one broken on purpose)
with allure-pytest, generate the report with the Allure CLI from the npm registry, and inspect
its data files: the behaviours tree is API → operation → rule, and a failure carries its curl
command and response excerpt, redacted.

The CLI is installed once into ~/.cache/tbconform/allure (TBCONFORM_ALLURE_DIR overrides). Skipped,
with the reason, where npm is absent; in CI (CI=true) a failed install fails instead of skipping.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tbconform.reports import ALLURE_CONFIG as CONFIG  # the file every report dir ships

FORGED = "oneroster.auth.forged-token"
USERS = "GET /ims/oneroster/rostering/v1p2/users"


@pytest.fixture(scope="module")
def allure_cli() -> Path:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("npm/node not found: install Node.js to generate the Allure report with the Allure 3 CLI")
    home = Path(os.environ.get("TBCONFORM_ALLURE_DIR") or Path.home() / ".cache" / "tbconform" / "allure")
    exe = home / "node_modules" / ".bin" / "allure"
    if not exe.exists():
        home.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(home), "allure@3"],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not exe.exists():
            reason = f"npm install allure@3 failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(reason)
            pytest.skip(reason)
    return exe


def allure_results(tmp_path: Path) -> Path:
    """A small suite run (forged tokens accepted on purpose) recorded by allure-pytest."""
    results = tmp_path / "allure-results"
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    with run_sandbox(SandboxConfig(faults=frozenset({"forged-token-accepted"}))) as sb:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
             "-p", "no:cacheprovider", "-q", "--tbconform-target", sb.base_url,
             "--tbconform-client-id", DEFAULT_CLIENT_ID, "--tbconform-client-secret", DEFAULT_CLIENT_SECRET,
             "--tbconform-layers", "semantic", "--tbconform-rules", f"{FORGED},oneroster.auth.missing-token",
             "-k", "rostering/v1p2/users", "--alluredir", str(results)],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    return results


def test_allure_report_behaviours_tree_and_failure_attachments(allure_cli: Path, tmp_path: Path) -> None:
    results = allure_results(tmp_path)
    raw = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    assert raw and all("::" not in r["fullName"] and "test_semantic[" not in r["name"] for r in raw)
    (tmp_path / "allurerc.mjs").write_text(CONFIG)
    out = tmp_path / "allure-report"
    gen = subprocess.run([str(allure_cli), "generate", str(results), "-o", str(out), "--config",
                          str(tmp_path / "allurerc.mjs")], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert gen.returncode == 0, gen.stdout[-2000:] + gen.stderr[-2000:]

    tree = json.loads((out / "widgets" / "tree.json").read_text())
    nodes = tree["groupsById"]
    apis = [nodes[g] for g in tree["root"]["groups"]]
    assert [a["name"] for a in apis] == ["oneroster"]
    operations = {nodes[g]["name"]: nodes[g] for g in apis[0]["groups"]}
    assert USERS in operations and all(name.split(" ", 1)[0].isupper() for name in operations)
    rules = {nodes[g]["name"]: nodes[g] for g in operations[USERS]["groups"]}
    assert set(rules) == {FORGED, "oneroster.auth.missing-token"}
    assert rules[FORGED]["statistic"]["failed"] == 1 and rules["oneroster.auth.missing-token"]["statistic"].get("passed") == 1

    leaf = rules[FORGED]["leaves"][0]
    test = json.loads((out / "data" / "test-results" / f"{leaf}.json").read_text())
    assert test["name"].endswith(f" — {USERS}") and "forged" in test["name"].lower()
    labels = {lab["name"]: lab.get("value") for lab in test["labels"]}
    assert (labels["epic"], labels["feature"], labels["story"]) == ("oneroster", USERS, FORGED)
    assert (labels["parentSuite"], labels["suite"], labels["subSuite"]) == ("oneroster", "semantic", USERS)
    assert labels["severity"] == "critical"
    params = {p["name"]: p["value"] for p in test["parameters"]}
    assert params["rule"] == repr(FORGED) and params["operation"] == repr(USERS)
    attachments = {s["link"]["name"]: (out / "data" / "attachments" / (s["link"]["id"] + s["link"]["ext"])).read_text()
                   for s in test["steps"] if s.get("type") == "attachment"}
    curl = attachments[f"{FORGED} curl"]
    assert curl.startswith("curl -sS -X GET") and "Authorization: Bearer ***" in curl and "/v1p2/users" in curl
    response = next(text for name, text in attachments.items() if name.startswith(f"{FORGED} response"))
    assert response.startswith("HTTP 200")
    for path in [*results.iterdir(), *out.rglob("*.json"), *out.rglob("*.txt")]:
        if path.is_file():
            text = path.read_text(errors="replace")
            assert DEFAULT_CLIENT_SECRET not in text and "tbs1." not in text, path

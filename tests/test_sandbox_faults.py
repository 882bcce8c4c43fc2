"""Faults are registered wrappers: each does what its description says, at HTTP level, and the
healthy sandbox runs the plain steps (no fault code in its path)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tbconform.mocks.actions import ACTIONS
from tbconform.mocks.faults import FAULTS, REGISTRY, check
from tbconform.mocks.query import Compiler
from tbconform.mocks.sandbox import Sandbox, SandboxConfig
from tbconform.mocks.stages import Stages
from tbconform.mocks.testing import run_sandbox
from tests.conftest import REPO, ROSTERING

USERS = f"{ROSTERING}/users"
STUDENTS = {"filter": "roles.role='student'", "limit": 3000}


def _list(client: httpx.Client, params: dict) -> tuple[httpx.Response, list[dict]]:
    response = client.get(USERS, params=params)
    assert response.status_code == 200, response.text
    return response, response.json()["users"]


def test_every_fault_is_registered_with_a_one_line_description():
    assert set(FAULTS) == set(REGISTRY) and len(FAULTS) == 82  # 37 OneRoster + 17 Caliper + 12 EduBridge + 16 QTI
    assert {"filter-drops-record", "link-header-missing", "scope-not-enforced"} <= set(FAULTS)
    for name, description in FAULTS.items():
        assert description.strip() and "\n" not in description, name
    with pytest.raises(ValueError, match="no-such-fault"):
        check({"no-such-fault"})


def test_the_healthy_sandbox_runs_the_plain_steps():
    stages = Sandbox(SandboxConfig()).stages
    plain = Stages()
    assert stages.actions == ACTIONS and stages.filter_compiler is Compiler
    for name in ("authenticate", "authorize", "query", "render", "references", "signature", "seeded"):
        assert getattr(stages, name) is getattr(plain, name), name


def test_actions_app_and_behaviours_hold_no_fault_branch():
    sources = [REPO / "mocks" / "actions.py", REPO / "mocks" / "app.py", REPO / "mocks" / "auth.py",
               *sorted((REPO / "mocks" / "behaviours").glob("*.py"))]
    for path in sources:
        text = path.read_text()
        assert "fault" not in text.replace("default", ""), path
        assert not [name for name in FAULTS if f'"{name}"' in text], path


@pytest.mark.parametrize("first", ["tbconform.mocks.faults", "tbconform.mocks.sandbox", "tbconform.mocks.app"])
def test_no_import_circle(first):
    """Each module imports first in a fresh interpreter (a circle fails for one of the orders)."""
    done = subprocess.run([sys.executable, "-c", f"import {first}"], capture_output=True, text=True, cwd=Path.cwd())
    assert done.returncode == 0, done.stderr


def test_filter_drops_record_leaves_out_one_match_but_counts_it(readonly_sandbox):
    with readonly_sandbox.client() as client:
        healthy, expected = _list(client, STUDENTS)
    with run_sandbox(SandboxConfig(faults=frozenset({"filter-drops-record"}))) as sb, sb.client() as client:
        broken, got = _list(client, STUDENTS)
        _, unfiltered = _list(client, {"limit": 5})
    assert len(expected) > 1
    assert [u["sourcedId"] for u in got] == [u["sourcedId"] for u in expected[1:]]
    assert broken.json()["totalCount"] == healthy.json()["totalCount"] == len(expected)
    assert broken.headers["X-Total-Count"] == healthy.headers["X-Total-Count"] == str(len(expected))
    assert len(unfiltered) == 5  # an unfiltered list is served whole


def test_link_header_missing_drops_link_from_every_list(readonly_sandbox):
    params = {"limit": 2, "offset": 2}
    with readonly_sandbox.client() as client:
        healthy, _ = _list(client, params)
    assert 'rel="next"' in healthy.headers["Link"]
    with run_sandbox(SandboxConfig(faults=frozenset({"link-header-missing"}))) as sb, sb.client() as client:
        for query in (params, STUDENTS, {}):
            response, users = _list(client, query)
            assert "link" not in response.headers and users
            assert response.headers["X-Total-Count"]
        assert client.get(f"{USERS}/{users[0]['sourcedId']}").status_code == 200  # reads by id are untouched

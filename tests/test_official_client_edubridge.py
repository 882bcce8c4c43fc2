"""Timeback's official EduBridge client (`timeback-edubridge`) works against the sandbox unchanged,
through every public method it offers.

As for the OneRoster client (tests/test_official_client.py), the client needs Python >= 3.12, so it
lives in a venv of its own: built once from the package index, cached under
`.venv-client/edubridge-py<X.Y>/` in the repository root (or under $TBCONFORM_CLIENT_VENV_DIR), and
`tests/edubridge_client_driver.py` runs in it as a subprocess against an in-process sandbox. The
test skips with the reason when no such interpreter exists or the package index cannot be reached.
Environment:

* TBCONFORM_PY312                 an interpreter >= 3.12 to build the client venv with
* TBCONFORM_EDUBRIDGE_CLIENT_VENV an existing venv that already has the client (no install at all)
* TBCONFORM_EDUBRIDGE_CLIENT_SPEC the requirements to install, space-separated
                                  (default ``timeback-edubridge>=0.4.0``)
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_official_client import build_client_venv, check_one_client

DRIVER = Path(__file__).with_name("edubridge_client_driver.py")
CLIENT_SPEC = os.environ.get("TBCONFORM_EDUBRIDGE_CLIENT_SPEC", "timeback-edubridge>=0.4.0").split()
IMPORTS = "import timeback_edubridge"

# Every public method of the client (timeback-edubridge 0.4.0), and the driver operation that calls it.
COVERED = {
    "EdubridgeClient.check_auth": "edubridge.check_auth",
    "EdubridgeClient.get_transport": "edubridge.get_transport",
    "EdubridgeClient.close / async with": "edubridge.close",
    "users.list": "edubridge.users.list (roles, limit, offset, sort, filter, orgSourcedIds)",
    "users.list_students": "edubridge.users.list_students",
    "users.list_teachers": "edubridge.users.list_teachers",
    "users.search": "edubridge.users.search",
    "enrollments.get_default_class (with school)": "edubridge.enrollments.get_default_class (course, school)",
    "enrollments.get_default_class (without school)": "edubridge.enrollments.get_default_class (course only)",
    "enrollments.enroll (with school, options)": "edubridge.enrollments.enroll (course, school, options)",
    "enrollments.enroll (without school)": "edubridge.enrollments.enroll (course only, default role and school)",
    "enrollments.list": "edubridge.enrollments.list",
    "enrollments.reset_goals": "edubridge.enrollments.reset_goals",
    "enrollments.reset_progress": "edubridge.enrollments.reset_progress",
    "enrollments.unenroll (with school)": "edubridge.enrollments.unenroll (course, school)",
    "enrollments.unenroll (without school)": "edubridge.enrollments.unenroll (course only)",
    "analytics.get_activity (studentId)": "edubridge.analytics.get_activity (studentId)",
    "analytics.get_activity (email)": "edubridge.analytics.get_activity (email, timezone)",
    "analytics.get_weekly_facts": "edubridge.analytics.get_weekly_facts",
    "analytics.get_enrollment_facts": "edubridge.analytics.get_enrollment_facts",
    "analytics.get_highest_grade_mastered": "edubridge.analytics.get_highest_grade_mastered",
    "applications.list": "edubridge.applications.list",
    "applications.get_metrics": "edubridge.applications.get_metrics",
    "subject_tracks.upsert": "edubridge.subject_tracks.upsert (create, then same key updates)",
    "subject_tracks.list": "edubridge.subject_tracks.list",
    "subject_tracks.list_groups": "edubridge.subject_tracks.list_groups",
    "subject_tracks.delete": "edubridge.subject_tracks.delete",
    "learning_reports.get_map_profile": "edubridge.learning_reports.get_map_profile",
    "learning_reports.get_time_saved": "edubridge.learning_reports.get_time_saved",
}


def edubridge_client_venv() -> Path:
    """The venv's python with the client (built once and cached; skips when impossible)."""
    return build_client_venv("edubridge-py", list(CLIENT_SPEC), IMPORTS, "TBCONFORM_EDUBRIDGE_CLIENT_VENV")


@pytest.fixture(scope="module")
def edubridge_client_python() -> Path:
    return edubridge_client_venv()


@pytest.mark.client
def test_official_edubridge_client_against_sandbox(edubridge_client_python: Path, tmp_path: Path,
                                                   record_property, request) -> None:
    check_one_client(edubridge_client_python, DRIVER, tmp_path, "timeback-edubridge", COVERED, record_property,
                     request)

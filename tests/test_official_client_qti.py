"""Timeback's official QTI client (`timeback-qti`) works against the sandbox unchanged, through every
public method it offers.

As for the other official clients, the client needs Python >= 3.12, so it lives in a venv of its
own: built once from the package index, cached under `.venv-client/qti-py<X.Y>/` in the repository
root (or under $TBCONFORM_CLIENT_VENV_DIR), and `tests/qti_client_driver.py` runs in it as a
subprocess against an in-process sandbox (the client calls the API at the root: its QTI path base
is empty). The test skips with the reason when no such interpreter exists or the package index
cannot be reached. Environment:

* TBCONFORM_PY312           an interpreter >= 3.12 to build the client venv with
* TBCONFORM_QTI_CLIENT_VENV an existing venv that already has the client (no install at all)
* TBCONFORM_QTI_CLIENT_SPEC the requirements to install, space-separated (default ``timeback-qti>=0.4.0``)
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_official_client import build_client_venv, check_one_client

DRIVER = Path(__file__).with_name("qti_client_driver.py")
CLIENT_SPEC = os.environ.get("TBCONFORM_QTI_CLIENT_SPEC", "timeback-qti>=0.4.0").split()
IMPORTS = "import timeback_qti"
ITEMS_LIST = "qti.assessment_items.list (query, page, sort, where)"
TEST_PARTS = "qti.test_parts.create / list / get / update"
SECTIONS = "qti.sections.create / list / get / update / delete"
REFS = "qti.section_items.add / reorder / remove, assessment_tests.get_questions"
STIMULI = "qti.stimuli.create / get / list / stream / update / upsert / delete"
FEEDBACK = "qti.lesson.submit_lesson / submit_question / get_lesson"
TESTS_WRITE = "qti.assessment_tests.update / upsert / delete"
DELETES = "qti.assessment_items.delete, assessment_tests.delete"

# Every public method of the client (timeback-qti 0.4.0), and the driver operation that calls it.
COVERED = {
    "QtiClient.check_auth": "qti.check_auth",
    "QtiClient.get_transport": "qti.get_transport",
    "QtiClient.close / async with": "qti.close",
    "assessment_items.list": ITEMS_LIST,
    "assessment_items.stream": "qti.assessment_items.stream",
    "assessment_items.get": "qti.assessment_items.get",
    "assessment_items.create (JSON)": "qti.assessment_items.create (JSON)",
    "assessment_items.create (format xml)": "qti.assessment_items.create (format xml)",
    "assessment_items.create_from_xml": "qti.assessment_items.create_from_xml",
    "assessment_items.create_from_metadata": "qti.assessment_items.create_from_metadata",
    "assessment_items.update": "qti.assessment_items.update",
    "assessment_items.upsert": "qti.assessment_items.upsert (create, then update)",
    "assessment_items.delete": DELETES,
    "assessment_items.process_response": "qti.assessment_items.process_response",
    "assessment_tests.list / stream": "qti.assessment_tests.list / stream",
    "assessment_tests.get": "qti.assessment_tests.get",
    "assessment_tests.create": "qti.assessment_tests.create",
    "assessment_tests.update / upsert": TESTS_WRITE,
    "assessment_tests.delete": DELETES,
    "assessment_tests.update_metadata": "qti.assessment_tests.update_metadata",
    "assessment_tests.get_questions": REFS,
    "test_parts.list / get / create / update": TEST_PARTS,
    "test_parts.delete": "qti.test_parts.delete",
    "sections.list / get / create / update / delete": SECTIONS,
    "section items.add / reorder / remove": REFS,
    "stimuli.list / stream / get / create / update / upsert / delete": STIMULI,
    "validate.validate / batch": "qti.validate.validate / batch",
    "lesson.submit_lesson / submit_question / get_lesson": FEEDBACK,
    "general.delete_by_id": "qti.general.delete_by_id",
}


def qti_client_venv() -> Path:
    """The venv's python with the client (built once and cached; skips when impossible)."""
    return build_client_venv("qti-py", list(CLIENT_SPEC), IMPORTS, "TBCONFORM_QTI_CLIENT_VENV")


@pytest.fixture(scope="module")
def qti_client_python() -> Path:
    return qti_client_venv()


@pytest.mark.client
def test_official_qti_client_against_sandbox(qti_client_python: Path, tmp_path: Path, record_property,
                                             request) -> None:
    check_one_client(qti_client_python, DRIVER, tmp_path, "timeback-qti", COVERED, record_property, request)

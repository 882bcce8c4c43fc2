"""Timeback's official Caliper and Webhooks clients (`timeback-caliper`, `timeback-webhooks`) work
against the sandbox unchanged, through every public method they offer.

As for the OneRoster client (tests/test_official_client.py), the clients need Python >= 3.12, so
they live in a venv of their own: built once from the package index, cached under
`.venv-client/caliper-py<X.Y>/` in the repository root (or under $TBCONFORM_CLIENT_VENV_DIR), and
`tests/caliper_client_driver.py` runs in it as a subprocess against an in-process sandbox. The test
skips with the reason when no such interpreter exists or the package index cannot be reached.
Environment:

* TBCONFORM_PY312               an interpreter >= 3.12 to build the client venv with
* TBCONFORM_CALIPER_CLIENT_VENV an existing venv that already has both clients (no install at all)
* TBCONFORM_CALIPER_CLIENT_SPEC the requirements to install, space-separated
                                (default ``timeback-caliper>=0.4.0 timeback-webhooks>=0.4.0``)
"""
from __future__ import annotations

import copy
import os
import uuid
from pathlib import Path

import pytest

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tests.test_official_client import (assert_driver_succeeded, build_client_venv, run_client_driver,
                                        show_line)

DRIVER = Path(__file__).with_name("caliper_client_driver.py")
CLIENT_SPEC = os.environ.get("TBCONFORM_CALIPER_CLIENT_SPEC",
                             "timeback-caliper>=0.4.0 timeback-webhooks>=0.4.0").split()
IMPORTS = "import timeback_caliper, timeback_webhooks"

CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"

# Every public method of both clients, and the driver operation(s) that call it.
COVERED = {
    "CaliperClient.check_auth": "caliper.check_auth",
    "CaliperClient.get_transport": "caliper.get_transport",
    "CaliperClient.close / async with": "caliper.close",
    "events.send": "caliper.events.send",
    "events.send_envelope": "caliper.events.send_envelope",
    "events.send_activity": "caliper.events.send_activity",
    "events.send_time_spent": "caliper.events.send_time_spent",
    "events.send_question_seen": "caliper.events.send_question_seen",
    "events.send_question_answered": "caliper.events.send_question_answered",
    "events.send_question_graded": "caliper.events.send_question_graded",
    "events.validate": "caliper.events.validate (valid)",
    "events.list": "caliper.events.list (sensor)",
    "events.get": "caliper.events.get",
    "events.stream (Paginator: __aiter__, to_list, to_array, first, first_page, total, reset)":
        "caliper.events.stream (iterate, to_list, to_array, first, first_page, max_items, offset)",
    "jobs.get_status": "caliper.jobs.get_status (unknown is NotFound)",
    "jobs.wait_for_completion": "caliper.jobs.wait_for_completion",
    "platform=LEARNWITH_AI with base_url (all send methods)":
        "caliper[LEARNWITH_AI, base_url].events.send* (all 7 send methods)",
    "platform=LEARNWITH_AI with its path profile": "caliper[LEARNWITH_AI, path profile].events.send_activity -> /caliper/v1p2",
    "WebhooksClient.check_auth": "webhooks.check_auth",
    "WebhooksClient.get_transport": "webhooks.get_transport",
    "WebhooksClient.close": "webhooks.close",
    "webhooks.create": "webhooks.webhooks.create",
    "webhooks.get": "webhooks.webhooks.get",
    "webhooks.list": "webhooks.webhooks.list (all, sensor)",
    "webhooks.update": "webhooks.webhooks.update",
    "webhooks.activate": "webhooks.webhooks.activate (resumes delivery)",
    "webhooks.deactivate": "webhooks.webhooks.deactivate (stops delivery)",
    "webhooks.delete": "webhooks.webhooks.delete",
    "webhook_filters.create": "webhooks.webhook_filters.create",
    "webhook_filters.get / list / list_by_webhook": "webhooks.webhook_filters.get + list + list_by_webhook",
    "webhook_filters.update": "webhooks.webhook_filters.update",
    "webhook_filters.delete": "webhooks.webhook_filters.delete",
    "delivery of a client-sent event to a client-created webhook":
        "webhooks delivery (signed, filtered) of events sent by the Caliper client",
}


def caliper_client_venv() -> Path:
    """The venv's python with both clients (built once and cached; skips when impossible)."""
    return build_client_venv("caliper-py", list(CLIENT_SPEC), IMPORTS, "TBCONFORM_CALIPER_CLIENT_VENV")


@pytest.fixture(scope="module")
def caliper_client_python() -> Path:
    return caliper_client_venv()


def _lwai_event() -> dict:
    """What timeback-caliper 0.4 sends for send_activity with platform="LEARNWITH_AI"."""
    return {"@context": CONTEXT, "id": f"urn:uuid:{uuid.uuid4()}", "type": "ActivityEvent",
            "profile": "AggregationProfile", "actor": {"type": "Person", "id": "https://example.org/users/9"},
            "action": "Completed",
            "object": {"type": "AssignableDigitalResource", "id": "https://example.org/a/1",
                       "extensions": {"app": {"name": "App", "type": "SoftwareApplication"}}},
            "generated": {"id": f"urn:uuid:{uuid.uuid4()}", "type": "ActivityMetricsCollection",
                          "items": [{"id": f"urn:uuid:{uuid.uuid4()}", "type": "ActivityMetric",
                                     "metricType": "XpEarned", "metricValue": 5}]},
            "eventTime": "2025-09-15T14:03:12.000Z", "session": "urn:tag:auto-attach"}


def test_learnwith_ai_envelope_on_the_beyond_send_path() -> None:
    """The client with platform="LEARNWITH_AI" and an explicit base_url keeps Beyond's send path:
    its LearnWith.AI-shaped envelope is judged there as on /caliper/v1p2. Needs no Python 3.12."""
    with run_sandbox(SandboxConfig(apis=["caliper"])) as running, running.client() as client:
        lwai = _lwai_event()
        env = {"sensor": "https://example.org/sensors/lwai", "sendTime": "2025-09-15T14:05:00.000Z",
               "dataVersion": CONTEXT, "data": [lwai]}
        answer = client.post("/caliper/event", json=env)
        assert answer.status_code == 200 and answer.json()["jobId"], answer.text
        stored = client.get(f"/caliper/events/{lwai['id']}").json()["event"]
        assert stored["profile"] == "AggregationProfile" and stored["session"] == "urn:tag:auto-attach"
        # the envelope is still judged, and an item without an id is still refused
        assert client.post("/caliper/event", json={**env, "dataVersion": "x"}).status_code == 400
        no_id = copy.deepcopy(env)
        no_id["data"][0].pop("id")
        assert client.post("/caliper/event", json=no_id).status_code == 400
        # an envelope that is not LearnWith.AI-shaped throughout keeps the full Caliper judgement
        plain = copy.deepcopy(lwai)
        plain.pop("session")
        plain.update(id=f"urn:uuid:{uuid.uuid4()}", profile="TimebackProfile")  # Person actor: invalid here
        first = _lwai_event()
        refused = client.post("/caliper/event", json={**env, "data": [first, plain]})
        assert refused.status_code == 400, refused.text
        assert {e["index"] for e in refused.json()["errors"]} == {0, 1}, refused.text
        for event in (first, plain):
            assert client.get(f"/caliper/events/{event['id']}").status_code == 404


@pytest.mark.client
def test_official_caliper_and_webhooks_clients_against_sandbox(caliper_client_python: Path, tmp_path: Path,
                                                               record_property, request) -> None:
    report, proc = run_client_driver(caliper_client_python, DRIVER, tmp_path, "official-caliper-clients.json")
    summary, client = report["summary"], report["client"]
    record_property("client_operations", summary["operations"])
    record_property("client_versions", f"caliper {client['caliper']}, webhooks {client['webhooks']}")
    line = (f"official clients timeback-caliper {client['caliper']} + timeback-webhooks {client['webhooks']} "
            f"(Python {client['python']}): {summary['ok']}/{summary['operations']} operations ok, "
            f"{summary['seconds']} s")
    show_line(request, line)
    assert_driver_succeeded(report, proc, COVERED)
    # every send helper really stored its event
    assert {"send_activity", "send_time_spent", "send_question_seen", "send_question_answered",
            "send_question_graded", "send", "send_envelope"} <= set(report["sent"]), report["sent"]

"""The token endpoint honours `scope`: a subset of the client's scopes yields a token limited to them."""
from __future__ import annotations

import httpx
import pytest

from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tests.conftest import ROSTERING

SCOPE = "https://purl.imsglobal.org/spec/or/v1p1/scope/"
READ = SCOPE + "roster.readonly"
USERS = f"{ROSTERING}/users"


def _token(sb, **form: str) -> httpx.Response:
    return httpx.post(sb.token_url, data={"grant_type": "client_credentials", **form},
                      auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))


def _new_user(sb, headers: dict[str, str]) -> dict:
    """A valid POST body: a copy of a listed user under a new id."""
    user = httpx.get(sb.base_url + USERS, headers=headers, params={"limit": 1}).json()["users"][0]
    return {"user": {**user, "sourcedId": "tbconform-scope-test"}}


def _bearer(response: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_without_scope_the_answer_lists_every_scope_of_the_client(readonly_sandbox):
    response = _token(readonly_sandbox)
    assert response.status_code == 200
    granted = set(response.json()["scope"].split())
    assert granted == set(readonly_sandbox.sandbox.auth.clients[DEFAULT_CLIENT_ID].scopes) and READ in granted


def test_a_subset_yields_a_token_limited_to_it(readonly_sandbox):
    sb = readonly_sandbox
    wanted = f"{READ} {SCOPE}gradebook.readonly"
    response = _token(sb, scope=wanted)
    assert response.status_code == 200
    assert set(response.json()["scope"].split()) == set(wanted.split())
    headers = _bearer(response)
    assert httpx.get(sb.base_url + USERS, headers=headers, params={"limit": 1}).status_code == 200
    refused = httpx.post(sb.base_url + USERS, headers=headers, json=_new_user(sb, headers))  # roster.createput was not asked for
    assert refused.status_code == 403
    assert refused.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "forbidden"


@pytest.mark.parametrize("scope", [SCOPE + "no-such-scope", f"{READ} {SCOPE}no-such-scope"])
def test_a_scope_the_client_lacks_is_invalid_scope(readonly_sandbox, scope):
    response = _token(readonly_sandbox, scope=scope)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_scope" and "no-such-scope" in body["error_description"]
    assert "access_token" not in body


def test_scope_not_enforced_also_ignores_a_reduced_token():
    with run_sandbox(SandboxConfig(faults=frozenset({"scope-not-enforced"}))) as sb:
        headers = _bearer(_token(sb, scope=READ))
        created = httpx.post(sb.base_url + USERS, headers=headers, json=_new_user(sb, headers))
        assert created.status_code in (200, 201), created.text
    with run_sandbox(SandboxConfig()) as sb:  # the same request on a healthy sandbox is refused
        headers = _bearer(_token(sb, scope=READ))
        assert httpx.post(sb.base_url + USERS, headers=headers, json=_new_user(sb, headers)).status_code == 403

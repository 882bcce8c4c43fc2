"""Auth table: the sandbox's token endpoint and 401/403 answers, in the IMS envelope."""
from __future__ import annotations

import httpx
import pytest

from tbconform.mocks.auth import AuthService, Client, Principal, READONLY_CLIENT_ID, READONLY_CLIENT_SECRET
from tests.conftest import GRADEBOOK, ROSTERING

USERS = f"{ROSTERING}/users"


def envelope_minor(response: httpx.Response) -> str:
    body = response.json()
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error" and body["imsx_description"]
    return body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]


def test_token_with_basic_and_with_form_fields(readonly_sandbox):
    sb = readonly_sandbox
    basic = httpx.post(sb.token_url, data={"grant_type": "client_credentials"}, auth=("tbconform-sandbox", "tbconform-sandbox-secret"))
    form = httpx.post(sb.token_url, data={"grant_type": "client_credentials", "client_id": "tbconform-sandbox",
                                          "client_secret": "tbconform-sandbox-secret"})
    for response in (basic, form):
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]
        assert httpx.get(sb.base_url + USERS, headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200


@pytest.mark.parametrize("data, auth, status, code", [
    ({"grant_type": "client_credentials"}, ("tbconform-sandbox", "wrong"), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
    ({"grant_type": "authorization_code"}, ("tbconform-sandbox", "tbconform-sandbox-secret"), 400, "unsupported_grant_type"),
])
def test_token_refusals(readonly_sandbox, data, auth, status, code):
    response = httpx.post(readonly_sandbox.token_url, data=data, auth=auth)
    assert response.status_code == status and response.json()["error"] == code


def _forged(sandbox) -> str:
    other = AuthService([Client("tbconform-sandbox", "x", frozenset())])
    return other.issue(Principal("tbconform-sandbox", sandbox.sandbox.auth.clients["tbconform-sandbox"].scopes))


@pytest.mark.parametrize("case", ["missing", "malformed", "wrong-scheme", "forged", "expired", "tampered"])
@pytest.mark.parametrize("method, path", [("GET", USERS), ("POST", USERS), ("GET", f"{GRADEBOOK}/lineItems"),
                                          ("DELETE", f"{ROSTERING}/users/anything")])
def test_401_for_bad_tokens(readonly_sandbox, case, method, path):
    sb = readonly_sandbox
    good = sb.token()
    head, payload, sig = good.split(".")
    header = {
        "missing": None,
        "malformed": "Bearer not-a-token",
        "wrong-scheme": f"Basic {good}",
        "forged": f"Bearer {_forged(sb)}",
        "expired": "Bearer " + sb.sandbox.auth.issue(Principal("tbconform-sandbox", frozenset({"x"})), ttl=-5),
        "tampered": f"Bearer {head}.{payload[:-1]}{'A' if payload[-1] != 'A' else 'B'}.{sig}",
    }[case]
    headers = {"Authorization": header} if header else {}
    response = httpx.request(method, sb.base_url + path, headers=headers, json={"user": {}})
    assert response.status_code == 401
    assert envelope_minor(response) == "unauthorisedrequest"


@pytest.mark.parametrize("method, path, body", [
    ("POST", USERS, {"user": {"givenName": "A", "familyName": "B", "enabledUser": "true", "roles": []}}),
    ("PUT", f"{GRADEBOOK}/categories/c-1", {"category": {"title": "x", "status": "active"}}),
    ("DELETE", f"{ROSTERING}/orgs/whatever", None),
])
def test_403_for_read_only_client_on_writes(readonly_sandbox, method, path, body):
    sb = readonly_sandbox
    with sb.client(READONLY_CLIENT_ID, READONLY_CLIENT_SECRET) as client:
        assert client.get(USERS, params={"limit": 1}).status_code == 200
        before = sb.sandbox.store.counts()
        response = client.request(method, path, json=body)
        assert response.status_code == 403
        assert envelope_minor(response) == "forbidden"
        assert sb.sandbox.store.counts() == before


def test_sandbox_info_shows_default_credentials(readonly_sandbox):
    info = httpx.get(readonly_sandbox.base_url + "/_sandbox").json()
    assert {"clientId": "tbconform-sandbox", "clientSecret": "tbconform-sandbox-secret", "access": "all scopes"} in info["clients"]
    assert info["tokenUrl"].endswith("/oauth2/token") and info["operations"] >= 153

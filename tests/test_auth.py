"""Token endpoint and bearer checks of the sandbox's OAuth2 service (unit level)."""
from __future__ import annotations

import base64

import pytest

from tbconform.mocks.auth import AuthRejected, AuthService, Client, Principal, TokenError, allowed

SCOPES = frozenset({"x.readonly", "x.createput"})


@pytest.fixture
def auth() -> AuthService:
    return AuthService([Client("id", "secret", SCOPES)])


def basic(cid: str, secret: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()}


def test_basic_and_form_credentials(auth):
    body = b"grant_type=client_credentials"
    token = auth.token_response(basic("id", "secret"), body)
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    assert auth.authenticate("Bearer " + token["access_token"]).scopes == SCOPES
    form = auth.token_response({}, b"grant_type=client_credentials&client_id=id&client_secret=secret")
    assert auth.authenticate("Bearer " + form["access_token"]).client_id == "id"


@pytest.mark.parametrize("headers, body, status, code", [
    ({}, b"grant_type=client_credentials", 401, "invalid_client"),
    ({}, b"grant_type=password&client_id=id&client_secret=secret", 400, "unsupported_grant_type"),
    ({"authorization": "Basic !!!"}, b"grant_type=client_credentials", 401, "invalid_client"),
    ({}, b"grant_type=client_credentials&client_id=id&client_secret=wrong", 401, "invalid_client"),
    ({}, b"grant_type=client_credentials&client_id=id&client_secret=secret&scope=admin", 400, "invalid_scope"),
])
def test_token_refusals(auth, headers, body, status, code):
    with pytest.raises(TokenError) as info:
        auth.token_response(headers, body)
    assert (info.value.status, info.value.code) == (status, code)


def test_requested_scope_narrows_grant(auth):
    token = auth.token_response(basic("id", "secret"), b"grant_type=client_credentials&scope=x.readonly")
    assert auth.authenticate("Bearer " + token["access_token"]).scopes == {"x.readonly"}


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer nonsense", "Bearer tbs1.abc.def"])
def test_missing_or_malformed_tokens(auth, header):
    with pytest.raises(AuthRejected):
        auth.authenticate(header)


def test_forged_and_expired_tokens(auth):
    other = AuthService([Client("id", "secret", SCOPES)])
    with pytest.raises(AuthRejected, match="signature"):
        auth.authenticate("Bearer " + other.issue(Principal("id", SCOPES)))
    good = auth.issue(Principal("id", SCOPES))
    head, payload, sig = good.split(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    with pytest.raises(AuthRejected):
        auth.authenticate(f"Bearer {head}.{tampered}.{sig}")
    with pytest.raises(AuthRejected, match="expired"):
        auth.authenticate("Bearer " + auth.issue(Principal("id", SCOPES), ttl=-1))


def test_scope_requirements():
    reader = Principal("r", frozenset({"x.readonly"}))
    assert allowed(reader, [{"OAuth2": ["x.readonly"]}, {"OAuth2": ["admin"]}])
    assert not allowed(reader, [{"OAuth2": ["x.createput"]}, {"OAuth2": ["admin"]}])

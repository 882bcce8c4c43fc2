"""OAuth2 client credentials for the sandbox: token endpoint, signed bearer tokens, scope checks.

Tokens are HMAC-signed (client id, scopes, expiry), so a forged or altered token fails without a
lookup table, and an expired one is told apart from a forged one.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qs

import orjson

TOKEN_PREFIX = "tbs1"
DEFAULT_TTL = 3600
DEFAULT_CLIENT_ID = "tbconform-sandbox"
DEFAULT_CLIENT_SECRET = "tbconform-sandbox-secret"
READONLY_CLIENT_ID = "tbconform-readonly"
READONLY_CLIENT_SECRET = "tbconform-readonly-secret"


@dataclass
class Client:
    client_id: str
    secret: str = field(repr=False)
    scopes: frozenset[str]


@dataclass(frozen=True)
class Principal:
    client_id: str
    scopes: frozenset[str]


class TokenError(Exception):
    """OAuth2 token-endpoint error: `code` is the RFC 6749 error code."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


class AuthRejected(Exception):
    """A bearer token is missing, malformed, forged or expired (401)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signature_valid(key: bytes, payload: str, signature: str) -> bool:
    """The token's HMAC-SHA256 signature over its payload part, compared in constant time."""
    return hmac.compare_digest(_b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()), signature)


def readonly_scopes(scopes: set[str]) -> frozenset[str]:
    return frozenset(s for s in scopes if s.endswith("readonly"))


class AuthService:
    def __init__(self, clients: list[Client], ttl: int = DEFAULT_TTL, key: bytes | None = None,
                 signature: Callable[[bytes, str, str], bool] = signature_valid) -> None:
        self.clients = {c.client_id: c for c in clients}
        self.ttl = ttl
        self.key = key or os.urandom(32)
        self.signature = signature  # a replaceable step (mocks/stages.py): (key, payload, signature) -> valid
        self._cache: dict[str, tuple[Principal, float]] = {}

    # -- token endpoint -------------------------------------------------------------------
    def token_response(self, headers: dict[str, str], body: bytes) -> dict[str, object]:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = headers.get("authorization", "")
        if basic[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(basic[6:].strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise TokenError(401, "invalid_client", "malformed HTTP Basic credentials") from None
        if form.get("grant_type") != "client_credentials":
            raise TokenError(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if not client_id or secret is None:
            raise TokenError(401, "invalid_client", "client credentials missing (HTTP Basic or client_id/client_secret form fields)")
        client = self.clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            raise TokenError(401, "invalid_client", "unknown client or wrong secret")
        requested = set(form.get("scope", "").split())
        if requested - client.scopes:
            raise TokenError(400, "invalid_scope", f"scope not granted to this client: {' '.join(sorted(requested - client.scopes))}")
        granted = frozenset(requested) if requested else client.scopes
        token = self.issue(Principal(client.client_id, granted))
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.ttl, "scope": " ".join(sorted(granted))}

    def issue(self, principal: Principal, ttl: int | None = None) -> str:
        payload = {"c": principal.client_id, "s": sorted(principal.scopes), "e": int(time.time()) + (self.ttl if ttl is None else ttl), "n": secrets.token_hex(4)}
        body = _b64(orjson.dumps(payload))
        sig = _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())
        return f"{TOKEN_PREFIX}.{body}.{sig}"

    # -- bearer check ---------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthRejected("missing Authorization header; get a token from POST /oauth2/token and send 'Authorization: Bearer <token>'")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthRejected("Authorization header must be 'Bearer <token>'")
        token = token.strip()
        now = time.time()
        cached = self._cache.get(token)
        if cached and cached[1] > now:
            return cached[0]
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise AuthRejected("malformed bearer token")
        if not self.signature(self.key, parts[1], parts[2]):
            raise AuthRejected("bearer token signature is invalid (forged, altered or issued by another sandbox run)")
        try:
            payload = orjson.loads(_unb64(parts[1]))
            principal = Principal(payload["c"], frozenset(payload["s"]))
            expires = float(payload["e"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise AuthRejected("malformed bearer token") from None
        if expires <= now:
            raise AuthRejected("bearer token has expired; request a new one")
        if len(self._cache) > 10000:
            self._cache.clear()
        self._cache[token] = (principal, expires)
        return principal


def allowed(principal: Principal, security: list[dict[str, list[str]]]) -> bool:
    """True when any one requirement of the operation's `security` list is fully granted."""
    if not security:
        return True
    return any(all(set(scopes) <= principal.scopes for scopes in req.values()) for req in security)


def is_public(security: list[dict[str, list[str]]] | None) -> bool:
    return security is not None and (security == [] or any(not req for req in security))

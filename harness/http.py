"""The one HTTP path every harness request takes (contract and semantic layers alike).

A `requests.Session` (schemathesis' transport) that adds: OAuth2 client-credentials tokens
(cached, refreshed before expiry, token URL on any host), a request-rate cap, honouring 429 +
Retry-After, a write guard for shared targets, run-id tagging of created records with cleanup,
and a record of the last exchange for reports.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from typing import Any

import requests

from tbconform.reports.model import Exchange

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_RETRIES_429 = 3
MAX_RETRY_AFTER = 30.0


class WriteBlocked(Exception):
    """A write request was about to reach a target that is not loopback, without --allow-writes."""


class RequestTimedOut(requests.exceptions.Timeout):
    """The target sent no answer within --request-timeout: the check fails with that reason and the
    run goes on (a requests subclass, so code that catches RequestException still does)."""


class ConnectionDropped(requests.exceptions.ConnectionError):
    """The connection closed or failed before an answer came: the check fails with that reason."""


class TokenFailure(Exception):
    """The token endpoint could not be reached, refused the request, or rejected the credentials."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # unreachable | refused | bad-credentials


@dataclass
class TokenProvider:
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    timeout: float = 15.0
    granted: str | None = None  # the `scope` the last token answer named (None: it named none)
    _token: str | None = field(default=None, repr=False)
    _expires: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def token(self, force: bool = False) -> str:
        with self._lock:
            if force or self._token is None or time.monotonic() > self._expires - 60:
                grant = request_token(self.token_url, self.client_id, self.client_secret, self.scope, self.timeout)
                self._token, self.granted = grant.token, grant.scope
                self._expires = time.monotonic() + grant.lifetime
            return self._token

    @property
    def issued(self) -> str | None:
        """The token currently held (so report writers can scrub it), if any."""
        return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None


@dataclass(frozen=True)
class TokenGrant:
    token: str = field(repr=False)
    lifetime: float
    scope: str | None  # what the answer says it granted; None when it says nothing


def fetch_token(url: str, client_id: str, secret: str, scope: str | None = None, timeout: float = 15) -> tuple[str, float]:
    grant = request_token(url, client_id, secret, scope, timeout)
    return grant.token, grant.lifetime


def request_token(url: str, client_id: str, secret: str, scope: str | None = None, timeout: float = 15) -> TokenGrant:
    """A client-credentials token; `scope` asks for a reduced one (the answer's `scope` says what was granted)."""
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    try:
        response = requests.post(url, data=data, auth=(client_id, secret), timeout=timeout)
    except requests.RequestException as exc:
        raise TokenFailure("unreachable", f"cannot reach the token URL {url}: {type(exc).__name__}") from None
    if response.status_code in (400, 401, 403):
        try:
            code = response.json().get("error", "")
        except ValueError:
            code = ""
        if response.status_code == 401 or code in ("invalid_client", "unauthorized_client"):
            raise TokenFailure("bad-credentials", f"the token URL {url} rejected the client credentials "
                                                  f"(HTTP {response.status_code} {code}); check CLIENT_ID / CLIENT_SECRET")
        raise TokenFailure("refused", f"the token URL {url} refused the token request (HTTP {response.status_code} {code})")
    if response.status_code != 200:
        raise TokenFailure("refused", f"the token URL {url} answered HTTP {response.status_code} to a token request")
    try:
        body = response.json()
        token = body["access_token"]
    except (ValueError, KeyError, TypeError):
        raise TokenFailure("refused", f"the token URL {url} answered without an access_token") from None
    granted = body.get("scope")
    return TokenGrant(token, float(body.get("expires_in") or 3600), granted if isinstance(granted, str) else None)


class RateLimiter:
    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


def retry_after_seconds(value: str | None) -> float:
    if not value:
        return 1.0
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        pass
    try:
        return min(MAX_RETRY_AFTER, max(0.0, parsedate_to_datetime(value).timestamp() - time.time()))
    except (TypeError, ValueError):
        return 1.0


def to_exchange(response: requests.Response | None, request: requests.PreparedRequest | None = None) -> Exchange | None:
    request = request or (response.request if response is not None else None)
    if request is None:
        return None
    body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
    return Exchange(
        method=request.method or "GET", url=request.url or "", request_headers=dict(request.headers),
        request_body=body, status=response.status_code if response is not None else None,
        response_headers=dict(response.headers) if response is not None else {},
        response_body=response.text if response is not None else None,
    )


class HarnessSession(requests.Session):
    def __init__(self, base_url: str, tokens: TokenProvider | None, writes_allowed: bool,
                 max_rps: float | None = None, timeout: float = 30.0) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.writes_allowed = writes_allowed
        self.limiter = RateLimiter(max_rps)
        self.timeout = timeout
        self.sent = 0
        self.writes_sent = 0
        self.local = threading.local()
        self._env_cache: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        """requests reads proxy variables and ~/.netrc on every request; once per host is enough."""
        if proxies or not isinstance(verify, (bool, type(None), str)) or not isinstance(cert, (str, type(None))):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert)
        cached = self._env_cache.get(key)
        if cached is None:
            cached = self._env_cache[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in cached.items()}

    @property
    def last(self) -> Exchange | None:
        return getattr(self.local, "last", None)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def request(self, method: str, url: str, *args: Any, authenticate: bool = True, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        method = method.upper()
        if method not in SAFE_METHODS and not self.writes_allowed:
            raise WriteBlocked(f"{method} {url} not sent: the target is shared (not loopback); pass --allow-writes to test writes")
        headers = dict(kwargs.pop("headers", None) or {})
        if authenticate and self.tokens is not None and not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = f"Bearer {self.tokens.token()}"
        if kwargs.get("timeout") is None:  # schemathesis passes timeout=None explicitly
            kwargs["timeout"] = self.timeout
        kwargs.setdefault("allow_redirects", False)
        for attempt in range(MAX_RETRIES_429 + 1):
            self.limiter.wait()
            self.sent += 1
            if method not in SAFE_METHODS:
                self.writes_sent += 1
            response = self._send(method, url, args, headers, kwargs)
            self.local.last = to_exchange(response)
            if response.status_code not in (429, 503) or attempt == MAX_RETRIES_429:
                return response
            time.sleep(retry_after_seconds(response.headers.get("Retry-After")))
        return response

    def _send(self, method: str, url: str, args: tuple[Any, ...], headers: dict[str, str],
              kwargs: dict[str, Any]) -> requests.Response:
        """One exchange; a timeout or a dropped connection becomes an exception that says so in words
        (and is kept as the last exchange, without an answer), so the check fails with that reason."""
        full = self.url(url)
        try:
            return super().request(method, full, *args, headers=headers, **kwargs)
        except requests.exceptions.Timeout as exc:
            self.local.last = self._unanswered(method, full, headers, kwargs)
            seconds = kwargs.get("timeout")
            seconds = seconds[-1] if isinstance(seconds, tuple) else seconds
            raise RequestTimedOut(f"timeout after {seconds:g} s: {method} {full} got no answer") from exc
        except requests.exceptions.ConnectionError as exc:
            self.local.last = self._unanswered(method, full, headers, kwargs)
            raise ConnectionDropped(f"connection dropped: {method} {full} ({_reason(exc)})") from exc

    @staticmethod
    def _unanswered(method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> Exchange:
        body = kwargs.get("json")
        text = json.dumps(body) if body is not None else kwargs.get("data")
        params = kwargs.get("params")
        if params:
            url = requests.Request(method, url, params=params).prepare().url or url
        return Exchange(method=method, url=url, request_headers=dict(headers),
                        request_body=text if isinstance(text, str) else None, status=None)


def _reason(exc: Exception) -> str:
    """The innermost cause of a connection error, short (RemoteDisconnected, Connection refused, ...)."""
    inner: BaseException = exc
    for _ in range(8):  # bounded: a cycle in the chain must not hang the run
        nxt = inner.__cause__ or inner.__context__
        if nxt is None:
            break
        inner = nxt
    text = str(inner) or type(inner).__name__
    return f"{type(inner).__name__}: {text}"[:200]

"""Before a run: start the embedded sandbox or make sure the target and its token URL answer.

Each problem gets its own one-line message, so an unreachable target, a refused token request
and bad credentials are told apart.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import requests

from tbconform.harness.config import RunConfig
from tbconform.harness.http import TokenFailure, fetch_token


class PreflightError(Exception):
    """The run cannot start (exit code 2)."""


def check_target(config: RunConfig) -> None:
    assert config.target
    try:
        requests.get(config.target, timeout=10, allow_redirects=False)
    except requests.exceptions.InvalidURL:
        raise PreflightError(f"target URL {config.target!r} is not a valid URL") from None
    except requests.exceptions.MissingSchema:
        raise PreflightError(f"target URL {config.target!r} needs a scheme, e.g. https://") from None
    except requests.RequestException as exc:
        raise PreflightError(f"cannot reach the target {config.target} ({_reason(exc)}); check the URL and network") from None
    if not config.client_id or not config.client_secret:
        raise PreflightError("no client credentials: pass --client-id and --client-secret (or set CLIENT_ID and CLIENT_SECRET)")
    auth_url = config.auth_url or config.target.rstrip("/") + "/oauth2/token"
    try:
        fetch_token(auth_url, config.client_id, config.client_secret)
    except TokenFailure as exc:
        prefix = {"unreachable": "token URL unreachable", "refused": "token request refused",
                  "bad-credentials": "bad credentials"}[exc.kind]
        raise PreflightError(f"{prefix}: {exc}") from None


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host",
                   "Temporary failure in name resolution", "certificate verify failed"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


@contextmanager
def embedded_sandbox(config: RunConfig) -> Iterator[RunConfig]:
    """Serve the sandbox on a free loopback port for the run and point the config at it."""
    from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, READONLY_CLIENT_ID, READONLY_CLIENT_SECRET
    from tbconform.mocks.sandbox import SandboxConfig
    from tbconform.mocks.testing import run_sandbox

    with run_sandbox(SandboxConfig(seed=config.seed, apis=config.apis)) as running:
        config.target = running.base_url
        config.auth_url = running.token_url
        config.client_id, config.client_secret = DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
        config.readonly_client_id, config.readonly_client_secret = READONLY_CLIENT_ID, READONLY_CLIENT_SECRET
        yield config

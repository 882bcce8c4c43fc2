"""Run settings from flags and the environment variables Timeback's docs use."""
from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ENV_TARGET = "TIMEBACK_API_URL"
ENV_AUTH = "TIMEBACK_AUTH_URL"
ENV_CLIENT_ID = "CLIENT_ID"
ENV_CLIENT_SECRET = "CLIENT_SECRET"
DEFAULT_REMOTE_RPS = 10.0
# `--workers auto` uses every CPU the process may run on, up to this many: past it, worker start-up
# and the shared target stop paying back.
MAX_AUTO_WORKERS = 4


def auto_workers() -> int:
    """Parallel workers for `--workers auto`: the CPUs this process may use, at most MAX_AUTO_WORKERS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_AUTO_WORKERS))


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class RunConfig:
    target: str | None = None           # None: start the embedded sandbox
    auth_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    readonly_client_id: str | None = None
    readonly_client_secret: str | None = field(default=None, repr=False)
    apis: list[str] | None = None
    allow_writes: bool = False
    max_examples: int = 5
    workers: int = 1
    max_rps: float | None = None
    request_timeout: float = 10.0       # seconds one request may take before its check fails
    report_dir: Path = Path("reports/latest")
    seed: int = 42
    run_id: str = field(default_factory=lambda: "tbc" + secrets.token_hex(3))
    layers: tuple[str, ...] = ("contract", "semantic")

    @property
    def loopback(self) -> bool:
        return self.target is None or is_loopback(self.target)

    @property
    def writes_enabled(self) -> bool:
        """Writes are on for loopback targets (the sandbox) or when asked for explicitly."""
        return self.allow_writes or self.loopback

    @property
    def rate_limit(self) -> float | None:
        """The cap on the whole run's request rate (every worker together), None for no cap."""
        if self.max_rps is not None:
            return self.max_rps if self.max_rps > 0 else None
        return None if self.loopback else DEFAULT_REMOTE_RPS

    def worker_rate_limit(self, workers: int) -> float | None:
        """One worker's share of `rate_limit`, so parallel workers together stay under the cap."""
        rate = self.rate_limit
        return None if rate is None else rate / max(1, workers)

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.client_secret, self.readonly_client_secret) if s]

    def public_settings(self) -> dict[str, object]:
        return {
            "target": self.target or "embedded sandbox", "authUrl": self.auth_url, "clientId": self.client_id,
            "apis": self.apis, "allowWrites": self.writes_enabled, "maxExamples": self.max_examples,
            "workers": self.workers, "maxRps": self.rate_limit,
            "requestTimeout": self.request_timeout, "seed": self.seed, "runId": self.run_id,
            "layers": list(self.layers),
        }


def from_environment(config: RunConfig, environ: dict[str, str] | None = None) -> RunConfig:
    """Fill what flags left unset from TIMEBACK_API_URL, TIMEBACK_AUTH_URL, CLIENT_ID, CLIENT_SECRET."""
    env = os.environ if environ is None else environ
    config.target = config.target or env.get(ENV_TARGET) or None
    config.auth_url = config.auth_url or env.get(ENV_AUTH) or None
    config.client_id = config.client_id or env.get(ENV_CLIENT_ID) or None
    config.client_secret = config.client_secret or env.get(ENV_CLIENT_SECRET) or None
    return config

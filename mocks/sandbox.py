"""The sandbox's state: compiled specs, store, auth and the API plug-ins' behaviours."""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tbconform.mocks import behaviours as behaviours_pkg
from tbconform.mocks import faults as faults_mod
from tbconform.mocks.stages import Stages
from tbconform.mocks.auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TTL,
    READONLY_CLIENT_ID,
    READONLY_CLIENT_SECRET,
    AuthService,
    Client,
    readonly_scopes,
)
from tbconform.mocks.background import Deliveries, RetryPolicy
from tbconform.mocks.errors import ERROR_STYLES
from tbconform.mocks.model import Collection, CompiledOperation, compile_collections, compile_operations
from tbconform.mocks.router import Router
from tbconform.mocks.store import Store
from tbconform.specs.loader import SPEC_ROOT, SpecDocument, SpecError, load_all

WriteHook = Callable[..., Any]


@dataclass
class SandboxConfig:
    seed: int = 42
    size: str = "small"
    history_weeks: int | None = None  # school weeks of seeded Caliper activity history (fixtures/caliper.py);
    #                                   0: none; None: the size's default (4, 1 for large)
    db: str | None = None
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = field(default=DEFAULT_CLIENT_SECRET, repr=False)
    apis: list[str] | None = None
    token_ttl: int = DEFAULT_TTL
    max_body_bytes: int = 1 << 20
    spec_root: Path | None = None  # another folder of specs (tests, vendors' own variants)
    faults: frozenset[str] = frozenset()  # deliberately broken behaviours (mocks/faults/), for detection tests
    latency_ms: float = 0.0  # every answer is delayed by latency_ms ± jitter_ms (mocks/conditions.py)
    jitter_ms: float = 0.0
    rate_limit: float | None = None  # requests per second across all clients; beyond it 429 + Retry-After
    # outbound webhook deliveries (mocks/background.py): attempts in all, seconds before the first
    # retry (doubled each time, capped), seconds per attempt
    delivery_attempts: int = 6
    delivery_backoff: float = 1.0
    delivery_max_delay: float = 30.0
    delivery_timeout: float = 5.0
    delivery_any_host: bool = False  # False: deliver to loopback targets only (others are logged, refused)
    analytics_delay: float = 0.0  # EduBridge analytics leave out events stored less than this many seconds ago
    qti_xsd_dir: Path | None = None  # `--qti-xsd DIR`: QTI POST /validate also checks against the XSD there


def _scopes(docs: list[SpecDocument]) -> set[str]:
    scopes: set[str] = set()
    for doc in docs:
        for scheme in (doc.raw.get("components", {}).get("securitySchemes") or {}).values():
            for flow in (scheme.get("flows") or {}).values():
                scopes.update((flow.get("scopes") or {}).keys())
    return scopes


def discover_plugins() -> dict[str, Any]:
    """`mocks/behaviours/<api>.py` modules, by API name; the core never names one."""
    found = {}
    for info in pkgutil.iter_modules(behaviours_pkg.__path__):
        found[info.name] = importlib.import_module(f"{behaviours_pkg.__name__}.{info.name}")
    return found


class Sandbox:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.config.faults = self.faults = faults_mod.check(frozenset(self.config.faults))
        self.stages: Stages = faults_mod.apply(self.faults, Stages())
        self.docs = load_all(self.config.apis, self.config.spec_root or SPEC_ROOT)
        self.collections: dict[str, Collection] = compile_collections(self.docs)
        self.operations: list[CompiledOperation] = compile_operations(self.docs)
        self.router = Router(self.operations)
        self.behaviours: dict[str, Callable[..., Any]] = {}
        self.write_hooks: dict[str, list[WriteHook]] = {}
        for name, module in discover_plugins().items():
            self.behaviours.update(getattr(module, "BEHAVIOURS", {}))
            for coll, hook in getattr(module, "WRITE_HOOKS", {}).items():
                self.write_hooks.setdefault(coll, []).append(hook)
            ERROR_STYLES.update(getattr(module, "ERROR_STYLES", {}))
        faults_mod.apply_to_behaviours(self.faults, self.behaviours)
        missing = sorted({op.behaviour for op in self.operations if op.behaviour} - set(self.behaviours))
        if missing:
            raise SpecError(f"specs name behaviours no plug-in provides: {', '.join(missing)}")
        scopes = _scopes(self.docs)
        self.auth = AuthService(
            [
                Client(self.config.client_id, self.config.client_secret, frozenset(scopes)),
                Client(READONLY_CLIENT_ID, READONLY_CLIENT_SECRET, readonly_scopes(scopes)),
            ],
            ttl=self.config.token_ttl,
            signature=self.stages.signature,
        )
        self.deliveries = Deliveries(RetryPolicy(self.config.delivery_attempts, self.config.delivery_backoff,
                                                 self.config.delivery_max_delay, self.config.delivery_timeout),
                                     loopback_only=not self.config.delivery_any_host)
        indexed = [c.fields[f] for c in self.collections.values() for f in c.indexed]
        keys = {c.name: c.key for c in self.collections.values() if c.key != "sourcedId"}
        self.store = Store(self.config.db or ":memory:", indexed, keys)
        if self.store.is_empty():
            self.reseed()

    def reseed(self, seed: int | None = None, size: str | None = None) -> dict[str, int]:
        """Replace all data with a fresh deterministic world (one transaction)."""
        from tbconform.fixtures.world import generate

        seed = self.config.seed if seed is None else seed
        size = size or self.config.size
        stream = ((c, r) for c, r in generate(seed, size, self.config.history_weeks)
                  if c in self.collections)
        with self.store.transaction():
            self.store.clear()
            self.deliveries.clear()
            self.store.load(stream)
            self.store.set_meta("seed", str(seed))
            self.store.set_meta("size", size)
            self.stages.seeded(self)
        return self.store.counts()

    def info(self, base_url: str) -> dict[str, Any]:
        default_secret = self.config.client_secret == DEFAULT_CLIENT_SECRET
        return {
            "name": "tbconform sandbox",
            "baseUrl": base_url,
            "tokenUrl": f"{base_url}/oauth2/token",
            "clients": [
                {"clientId": self.config.client_id,
                 "clientSecret": self.config.client_secret if default_secret else "(as given with --client-secret)",
                 "access": "all scopes"},
                {"clientId": READONLY_CLIENT_ID, "clientSecret": READONLY_CLIENT_SECRET, "access": "read-only scopes"},
            ],
            "seed": self.store.meta("seed"),
            "size": self.store.meta("size"),
            "database": self.config.db or ":memory:",
            "apis": sorted({op.api for op in self.operations}),
            "operations": len(self.operations),
            "counts": self.store.counts(),
            "faults": sorted(self.faults),
            "conditions": {"latencyMs": self.config.latency_ms, "jitterMs": self.config.jitter_ms,
                           "rateLimit": self.config.rate_limit},
        }


"""Run the sandbox with uvicorn (httptools, asyncio's own event loop)."""
from __future__ import annotations

import socket
import sys

from tbconform.mocks.app import SandboxApp
from tbconform.mocks.auth import DEFAULT_CLIENT_SECRET, READONLY_CLIENT_ID, READONLY_CLIENT_SECRET
from tbconform.mocks.sandbox import Sandbox, SandboxConfig

# asyncio's loop, not uvloop: libuv accepts one new connection per loop turn (libuv PR #3696), and
# the sandbox answers each request synchronously on the loop, so when 32 clients connect at once
# the last ones wait ~30 turns to be accepted and their first request takes up to a second
# (EduBridge analytics p99 179 ms on uvloop, 55 ms on asyncio, bench/edubridge_bench.py). asyncio
# accepts a backlog of connections per turn; it costs ~20 % on the tiniest requests.
EVENT_LOOP = "asyncio"


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def banner(sandbox: Sandbox, host: str, port: int) -> str:
    shown = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host
    base = f"http://{shown}:{port}"
    cfg = sandbox.config
    secret = cfg.client_secret if cfg.client_secret == DEFAULT_CLIENT_SECRET else "(the secret you gave)"
    counts = sandbox.store.counts()
    lines = [
        f"tbconform sandbox: {len(sandbox.operations)} operations of {', '.join(sorted({o.api for o in sandbox.operations}))}",
        f"  base URL   {base}",
        f"  token URL  {base}/oauth2/token",
        f"  client     {cfg.client_id} / {secret}  (all scopes)",
        f"  read-only  {READONLY_CLIENT_ID} / {READONLY_CLIENT_SECRET}",
        f"  data       seed {sandbox.store.meta('seed')}, size {sandbox.store.meta('size')}, "
        f"{sum(counts.values())} records, store {cfg.db or 'in memory'}",
        f"  info       GET {base}/_sandbox   reset  POST {base}/_sandbox/reset",
    ]
    if cfg.latency_ms or cfg.jitter_ms:
        lines.append(f"  latency    {cfg.latency_ms:g} ms ± {cfg.jitter_ms:g} ms on every answer")
    if cfg.rate_limit is not None:
        lines.append(f"  rate limit {cfg.rate_limit:g} requests/s (then 429 with Retry-After)")
    if sandbox.faults:
        lines.append(f"  FAULTS ON  {', '.join(sorted(sandbox.faults))} (deliberately broken behaviour)")
    return "\n".join(lines)


def serve(config: SandboxConfig, host: str, port: int, access_log: bool = False) -> None:
    import uvicorn

    sandbox = Sandbox(config)
    print(banner(sandbox, host, port), flush=True)
    uvicorn.run(SandboxApp(sandbox), host=host, port=port, log_level="warning", access_log=access_log,
                loop=EVENT_LOOP, http="httptools", lifespan="off", server_header=False, date_header=False)
    sys.stdout.flush()

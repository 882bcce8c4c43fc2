"""Run a sandbox in a background thread on a free loopback port (tests, harness, benchmarks)."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import httpx

from tbconform.mocks.app import SandboxApp
from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tbconform.mocks.sandbox import Sandbox, SandboxConfig


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningSandbox:
    def __init__(self, sandbox: Sandbox, port: int, server) -> None:
        self.sandbox = sandbox
        self.port = port
        self.server = server
        self.base_url = f"http://127.0.0.1:{port}"
        self.token_url = f"{self.base_url}/oauth2/token"

    def token(self, client_id: str = DEFAULT_CLIENT_ID, secret: str = DEFAULT_CLIENT_SECRET) -> str:
        response = httpx.post(self.token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
        response.raise_for_status()
        return response.json()["access_token"]

    def client(self, client_id: str = DEFAULT_CLIENT_ID, secret: str = DEFAULT_CLIENT_SECRET) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token(client_id, secret)}"},
                            timeout=30)


@contextmanager
def run_sandbox(config: SandboxConfig | None = None, sandbox: Sandbox | None = None,
                port: int | None = None) -> Iterator[RunningSandbox]:
    import uvicorn

    from tbconform.mocks.server import EVENT_LOOP

    sandbox = sandbox or Sandbox(config)
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(SandboxApp(sandbox), host="127.0.0.1", port=port, log_level="error",
                                           lifespan="off", http="httptools", loop=EVENT_LOOP))
    thread = threading.Thread(target=server.run, name=f"sandbox-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"sandbox did not start on port {port}")
        time.sleep(0.02)
    try:
        yield RunningSandbox(sandbox, port, server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)

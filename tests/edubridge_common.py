"""What the EduBridge test modules share: one running sandbox per module (and a client on it), and
the stored records of a collection.

Each module still gets a sandbox of its own (module scope), so a module's writes never reach
another's; only the setup is written once.
"""
from __future__ import annotations

from typing import Any, Callable

import orjson
import pytest

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox


def records(sandbox: Any, collection: str) -> list[dict[str, Any]]:
    """Every stored record of `collection` of a running sandbox, in stored order."""
    return [orjson.loads(r) for r in sandbox.sandbox.store.select(collection)]


def module_sandbox(config: Callable[[], SandboxConfig] = SandboxConfig, name: str = "sandbox") -> Any:
    """A module-scoped fixture `name`: a sandbox built from `config()` (called when the fixture is
    first used, so a config that skips, skips the tests), running for the module's tests."""
    @pytest.fixture(scope="module", name=name)
    def running() -> Any:
        with run_sandbox(config()) as sandbox:
            yield sandbox
    return running


@pytest.fixture(scope="module")
def client(sandbox: Any) -> Any:
    """An HTTP client on the module's `sandbox` (import it beside `sandbox = module_sandbox()`)."""
    with sandbox.client() as c:
        yield c

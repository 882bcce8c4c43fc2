"""Shared fixtures: a running small-world sandbox, the reference folder, heavy-test gating."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox

REPO = Path(__file__).resolve().parents[1]
ROSTERING = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"
RESOURCES = "/ims/oneroster/resources/v1p2"


def shared_dir() -> Path:
    return Path(os.environ.get("TBCONFORM_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not (path / "reference").is_dir():
        pytest.skip(f"reference material not found at {path} (set TBCONFORM_SHARED to the shared/ folder)")
    return path


@pytest.fixture(scope="session")
def readonly_sandbox():
    """One small-world sandbox that tests must not write to."""
    with run_sandbox(SandboxConfig()) as running:
        yield running


@pytest.fixture
def fresh_sandbox():
    """A sandbox of its own for a test that writes."""
    with run_sandbox(SandboxConfig()) as running:
        yield running

"""Shared fixtures: a running small-world sandbox, the reference folder, heavy-test gating."""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox

REPO = Path(__file__).resolve().parents[1]
ROSTERING = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"
RESOURCES = "/ims/oneroster/resources/v1p2"


def shared_dir() -> Path:
    return Path(os.environ.get("TBCONFORM_SHARED", REPO.parent / "shared"))


HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def route(method: str, path: str) -> tuple[str, str]:
    """An HTTP route: parameter names do not change it, so `{sourcedId}` matches `{classSourcedId}`."""
    return method.upper(), re.sub(r"\{[^}]+\}", "{}", path.rstrip("/"))


def catalog_rows(apis: set[str]) -> list[dict[str, str]]:
    """The rows of Timeback's endpoint catalog (timeback-endpoints.tsv) whose `api` is in `apis`."""
    tsv = shared_dir() / "reference" / "timeback" / "timeback-endpoints.tsv"
    if not tsv.is_file():
        pytest.skip(f"reference endpoint list not found at {tsv} (set TBCONFORM_SHARED)")
    with tsv.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["api"] in apis]


def spec_routes(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {route(m, p) for p, item in spec["paths"].items() for m in item if m in HTTP_METHODS}


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

"""pytest plugin entry point (the conformance suite's options and markers)."""
from __future__ import annotations


def pytest_addoption(parser):  # filled in by the harness
    parser.addoption("--run-heavy", action="store_true", default=False, help="run tests marked heavy in full")

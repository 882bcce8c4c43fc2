"""HTML helpers shared by the page's parts (index.html is built from html.py and overview.py)."""
from __future__ import annotations

from html import escape

from .junit import xml_safe
from .model import STATUSES, CheckResult

# Worst first: the outcome a group of checks shows is the worst status among them.
SEVERITY_ORDER = ("error", "failed", "warning", "passed", "skipped")


def e(text: object) -> str:
    """Escape for HTML text and attributes, dropping characters a parser would reject."""
    return escape(xml_safe(text), quote=True)


def worst(results: list[CheckResult]) -> str:
    """The status a group shows: any error beats a failure, a failure beats a warning, and so on."""
    present = {r.status for r in results}
    return next((s for s in SEVERITY_ORDER if s in present), "skipped")


def statuses_attr(results: list[CheckResult]) -> str:
    """Value of `data-s`: every status in the group, so the status filter finds mixed rows."""
    present = {r.status for r in results}
    return " ".join(s for s in STATUSES if s in present)

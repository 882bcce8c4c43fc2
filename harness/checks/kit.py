"""Small helpers every API's checks share (this module registers no rule).

Rules name the operations they judge by method and path, build concrete paths from templates,
and quote answers in failure messages without flooding the report.
"""
from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import quote

from tbconform.harness.catalog import OpInfo


def operation_at(api: str, method: str, path: str) -> Callable[[OpInfo], bool]:
    """A rule's `applies` predicate: the operation of `api` with this method and path (a trailing
    slash ignored, as the sandbox and Timeback's clients ignore it)."""
    wanted = path.rstrip("/")
    return lambda op: op.api == api and op.method.upper() == method and op.path.rstrip("/") == wanted


def fill_path(template: str, **values: str) -> str:
    """`template` with each `{name}` replaced by its value, percent-encoded as one path segment."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return template


def short(value: Any, limit: int = 200) -> str:
    """`value` for a failure message: a string as it is, anything else as JSON, cut at `limit`."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"

"""Allure labels, titles and attachments for the suite's items, set at run time (allure.dynamic).

Without them Allure shows raw pytest ids (`test_semantic[rule::GET /x]`) and derives suites from
the module path. With them each result reads as "<rule statement> — <operation>" and sits in the
behaviours tree API (epic) → operation (feature) → rule (story) and in the suites tree
API → layer → operation. Failures (and warnings) carry the curl command and the response excerpt,
redacted like every other report. No-ops when allure-pytest is absent or not recording.
"""
from __future__ import annotations

import json
from typing import Iterable

from .model import CheckResult
from .redaction import redact, redact_exchange

try:
    import allure
except ImportError:  # pragma: no cover - allure-pytest is a dependency, but stay usable without it
    allure = None  # type: ignore[assignment]

CONTRACT_STORY = "contract (schemathesis checks)"
STATEFUL_STORY = "stateful sequences"


def severity(rule_id: str, results: Iterable[CheckResult]) -> str:
    """Allure severity name: auth and server errors critical, warning-only outcomes minor, else normal.

    Warning rules are known only once they have run (a rule warns by raising CheckWarning), so
    the severity is set after the check, from its results."""
    results = list(results)
    if ".auth." in rule_id or any("ignored_auth" in r.id or r.id.endswith("not_a_server_error")
                                  for r in results if r.status in ("failed", "error")):
        return "critical"
    if results and any(r.status == "warning" for r in results) and not any(
            r.status in ("failed", "error") for r in results):
        return "minor"
    return "normal"


def label(*, api: str, operation: str, story: str, title: str, layer: str, param: str | None = None,
          param_value: str = "", secrets: Iterable[str] = ()) -> None:
    """Labels, suites, title and parameters of the running item (call at the start of the test)."""
    if allure is None:
        return
    secrets = list(secrets)
    r = lambda s: redact(s, secrets)  # noqa: E731
    allure.dynamic.epic(r(api))
    allure.dynamic.feature(r(operation))
    allure.dynamic.story(r(story))
    allure.dynamic.parent_suite(r(api))
    allure.dynamic.suite(layer)
    allure.dynamic.sub_suite(r(operation))
    allure.dynamic.title(r(title))
    if param:  # the pytest parameter's repr is a dataclass dump: show the short id instead
        allure.dynamic.parameter(param, r(param_value))
    allure.dynamic.parameter("API", r(api))
    allure.dynamic.parameter("operation", r(operation))
    allure.dynamic.parameter("rule", r(story))


def _response_text(status: int | None, body: str | None) -> str:
    """The response attachment: status line, then the excerpt (pretty-printed when it is JSON)."""
    head = f"HTTP {status if status is not None else '(no response)'}\n\n"
    try:
        return head + json.dumps(json.loads(body or ""), indent=2, ensure_ascii=False)
    except ValueError:
        return head + (body or "(empty body)")


def finish(rule_id: str, results: list[CheckResult], secrets: Iterable[str] = ()) -> None:
    """Severity, description and, for each failed, errored or warning result, its attachments."""
    if allure is None:
        return
    secrets = list(secrets)
    allure.dynamic.severity(allure.severity_level(severity(rule_id, results)))
    lines = [f"- **{r.status}** `{r.id}`: {r.rule}" + (f" — {r.message.splitlines()[0]}" if r.message else "")
             for r in results]
    if lines:
        allure.dynamic.description(redact("\n".join(lines), secrets))
    for result in results:
        if result.status not in ("failed", "error", "warning"):
            continue
        allure.attach(redact(f"[{result.status}] {result.id}: {result.message}", secrets),
                      f"{result.id} message", allure.attachment_type.TEXT)
        if result.exchange is None:
            continue
        exchange = redact_exchange(result.exchange, secrets)
        allure.attach(redact(exchange.curl(), secrets), f"{result.id} curl", allure.attachment_type.TEXT)
        allure.attach(redact(_response_text(exchange.status, exchange.response_body), secrets),
                      f"{result.id} response ({exchange.status})", allure.attachment_type.TEXT)

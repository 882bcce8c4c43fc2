"""Run semantic rules: which (rule, operation) pairs exist, and one pair → one CheckResult.

The pytest plugin runs each pair as a test item; tests and tools call `run_rule` directly.
"""
from __future__ import annotations

import time
import traceback

import requests

from tbconform.harness.catalog import Catalog, OpInfo
from tbconform.harness.context import CheckContext
from tbconform.harness.http import ConnectionDropped, RequestTimedOut, WriteBlocked
from tbconform.harness.rules import CheckFailed, CheckWarning, NotApplicable, Rule, rules_for
from tbconform.reports.model import CheckResult


def semantic_pairs(catalog: Catalog, apis: list[str] | None = None,
                   only: set[str] | None = None) -> list[tuple[Rule, OpInfo]]:
    pairs = []
    for api in apis or catalog.apis:
        for rule in rules_for(api):
            if only is not None and rule.id not in only:
                continue
            pairs.extend((rule, op) for op in catalog.ops if op.api == api and rule.applies(op))
    return pairs


def run_rule(ctx: CheckContext, rule: Rule, op: OpInfo) -> CheckResult:
    started = time.perf_counter()
    status, message = "passed", ""
    try:
        if rule.writes:
            ctx.require_writes()
        rule.check(ctx, op)
    except CheckFailed as exc:
        status, message = "failed", str(exc) or "rule broken"
    except CheckWarning as exc:
        status, message = "warning", str(exc) or "allowed, but harmful to clients"
    except (NotApplicable, WriteBlocked) as exc:
        status, message = "skipped", str(exc)
    except (RequestTimedOut, ConnectionDropped) as exc:  # no answer is a failure of the target, said plainly
        status, message = "failed", str(exc)
    except requests.RequestException as exc:
        status, message = "error", f"request failed: {type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug in a check must not end the run; it shows as an error
        status, message = "error", f"check crashed: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    exchange = ctx.last_exchange if status in ("failed", "error", "warning") else None
    return CheckResult(id=rule.id, api=rule.api, operation=op.label, status=status, message=message,
                       rule=rule.statement, layer="semantic", duration=time.perf_counter() - started,
                       exchange=exchange)

"""summary.json: the small, stable, machine-readable verdict (dashboards, badges, PR comments).

Unlike run.json it carries no exchanges, so it stays small however large the run.
"""
from __future__ import annotations

import json
from typing import Any

from .changes import changes_block
from .model import CheckResult, RunResult, tally


def _counts(results: list[CheckResult]) -> dict[str, int]:
    c = tally(results)
    return {"passed": c["passed"], "failed": c["failed"], "skipped": c["skipped"], "errors": c["error"],
            "warnings": c["warning"],
            "total": len(results)}


def build_summary(run: RunResult, base: RunResult | None = None) -> dict[str, Any]:
    """Top-level counts, one entry per check (run order), per-API and per-rule counts (sorted);
    with a `base` run, a `changes` block (new failures, fixed, still failing)."""
    by_rule: dict[str, list[CheckResult]] = {}
    by_api: dict[str, list[CheckResult]] = {}
    for r in run.results:
        by_rule.setdefault(r.id, []).append(r)
        by_api.setdefault(r.api, []).append(r)
    summary = {
        "target": run.target, "started": run.started, "finished": run.finished,
        "duration": round(run.duration, 3), "verdict": run.verdict(),
        **_counts(run.results),
        "apis": {api: _counts(rs) for api, rs in sorted(by_api.items())},
        "rules": {rid: _counts(rs) for rid, rs in sorted(by_rule.items())},
        "checks": [{"id": r.id, "api": r.api, "operation": r.operation, "status": r.status, "message": r.message}
                   for r in run.results],
    }
    if base is not None:
        summary["changes"] = changes_block(run, base)
    return summary


def render_summary(run: RunResult, base: RunResult | None = None) -> str:
    """summary.json text; `run` (and `base`) must already be redacted."""
    return json.dumps(build_summary(run, base), indent=2, ensure_ascii=False) + "\n"

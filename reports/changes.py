"""Changes since a base run: what a PR made worse or better, keyed by (check id, operation).

A check that fails (failed or error) now and not in the base is a new failure; one that failed in
the base and passes now (passed or warning) is fixed. A base failure that is skipped or absent now
is neither: it was not judged again, so it is listed apart rather than counted as fixed.
"""
from __future__ import annotations

from typing import Any

from .model import CheckResult, RunResult

FAILING = ("failed", "error")
PASSING = ("passed", "warning")
KINDS = ("new_failures", "fixed", "still_failing", "not_rechecked")

Key = tuple[str, str]


def _by_key(run: RunResult) -> dict[Key, CheckResult]:
    """Last result per (id, operation): contract checks are unique per operation, rules too."""
    return {(r.id, r.operation): r for r in run.results}


def compare(run: RunResult, base: RunResult) -> dict[str, list[CheckResult]]:
    """{kind: results} for each of KINDS; results come from `run` (from `base` for not_rechecked)."""
    now, before = _by_key(run), _by_key(base)
    out: dict[str, list[CheckResult]] = {kind: [] for kind in KINDS}
    for key, r in now.items():
        old = before.get(key)
        was_failing = old is not None and old.status in FAILING
        if r.status in FAILING:
            out["still_failing" if was_failing else "new_failures"].append(r)
        elif was_failing and r.status in PASSING:
            out["fixed"].append(r)
    out["not_rechecked"] = [old for key, old in before.items() if old.status in FAILING
                            and (key not in now or now[key].status == "skipped")]
    for results in out.values():
        results.sort(key=lambda r: (r.api, r.id, r.operation))
    return out


def changes_block(run: RunResult, base: RunResult) -> dict[str, Any]:
    """The `changes` block of summary.json: counts and the (id, operation) keys of each kind."""
    diff = compare(run, base)
    return {
        "base": {"target": base.target, "started": base.started, "verdict": base.verdict()},
        **{f"{kind}_count": len(rs) for kind, rs in diff.items()},
        **{kind: [{"id": r.id, "api": r.api, "operation": r.operation, "status": r.status} for r in rs]
           for kind, rs in diff.items()},
    }

"""Semantic rules: stable ids, one-line statements, and which operations each applies to.

API plug-ins (`harness/checks/<api>.py`) register rules with `@rule(...)`; the pytest plugin turns
every (rule, operation) pair into one test item.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from tbconform.harness.catalog import OpInfo
    from tbconform.harness.context import CheckContext


class CheckFailed(AssertionError):
    """The target broke the rule; the message says how (the last exchange goes in the report)."""


class CheckWarning(Exception):
    """Allowed by the spec but harmful to real clients (no `Link` header, no `X-Total-Count`, an
    optional field every client reads): reported under the rule's id, never failing the run."""


class NotApplicable(Exception):
    """The rule cannot be judged here (no data to test with, writes disabled, ...): a skip."""


RE_READS = 3  # tries of a rule whose first verdict was a failure, before giving up on stable data


def judged_stably(attempt: Callable[[], None], snapshot: Callable[[], Any], tries: int = RE_READS) -> None:
    """Run a check that compares several reads; conclude a failure only when it persists on data
    that stayed the same.

    A listing and a GET (or two listings) are separate moments: on a target that other clients, or
    this run's other workers, write to at the same time, a record can change, appear or go between
    them. So a failure is re-read: the check runs again between two `snapshot()`s of the data it
    reads. It fails when that re-run fails with equal snapshots, passes when the re-run passes (the
    first failure was a race), and is skipped when the data changed during every re-run.
    """
    try:
        attempt()
        return
    except CheckFailed as exc:
        failure = exc
    for _ in range(tries - 1):
        before = snapshot()
        try:
            attempt()
        except CheckFailed as exc:
            failure = exc
            if snapshot() == before:
                raise
            continue
        return
    raise NotApplicable(f"the data changed during each of {tries - 1} re-read(s), so this was not judged "
                        f"(last verdict: {failure})")


@dataclass(frozen=True)
class Rule:
    id: str
    api: str
    statement: str
    applies: Callable[["OpInfo"], bool] = field(repr=False)
    check: Callable[["CheckContext", "OpInfo"], None] = field(repr=False)
    writes: bool = False


REGISTRY: dict[str, Rule] = {}


def rule(rule_id: str, statement: str, applies: Callable[["OpInfo"], bool], writes: bool = False,
         api: str | None = None) -> Callable[[Callable[["CheckContext", "OpInfo"], None]], Callable[["CheckContext", "OpInfo"], None]]:
    """Register a check. `rule_id` is `<api>.<area>.<name>`; the api defaults to its first part."""

    def register(func: Callable[["CheckContext", "OpInfo"], None]) -> Callable[["CheckContext", "OpInfo"], None]:
        if rule_id in REGISTRY:
            raise ValueError(f"rule {rule_id!r} registered twice")
        REGISTRY[rule_id] = Rule(rule_id, api or rule_id.split(".", 1)[0], statement, applies, func, writes)
        return func

    return register


def load_rule_plugins() -> dict[str, Rule]:
    """Import every `harness/checks/<api>.py` so its rules register; the core names none."""
    from tbconform.harness import checks

    for info in pkgutil.iter_modules(checks.__path__):
        importlib.import_module(f"{checks.__name__}.{info.name}")
    return REGISTRY


def rules_for(api: str) -> list[Rule]:
    return sorted((r for r in load_rule_plugins().values() if r.api == api), key=lambda r: r.id)

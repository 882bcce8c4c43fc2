"""Semantic rules: stable ids, one-line statements, and which operations each applies to.

API plug-ins (`harness/checks/<api>.py`) register rules with `@rule(...)`; the pytest plugin turns
every (rule, operation) pair into one test item.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

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

"""Deliberately broken behaviours, so the harness can prove it notices each one.

A fault is a registered wrapper around one or more request steps of `mocks/stages.py` (the token
check, the scope check, query validation, error rendering, the filter compiler, the generic
actions...):

    @fault("sort-ignored", "sort and orderBy are accepted but not applied", wraps="list")
    def sort_ignored(call):
        return lambda ctx: call(with_query(ctx, sort=None, orderBy=None))

A step named `behaviour:<name>` wraps the plug-in function an operation's `x-tb-behaviour` names
(`behaviour:caliper.send`); the sandbox applies those once it has loaded its plug-ins.

`SandboxConfig(faults={...})` (or `tbconform mock --fault NAME`) wraps the named steps once, when the
sandbox starts; with no fault on, the steps are the plain functions, so a healthy sandbox pays
nothing and the code of the actions holds no fault branch. `tests/test_harness_detection.py`
pairs each fault with the rule (or contract check) that must catch it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from tbconform.mocks.stages import STEP_NAMES, Stages

Wrapper = Callable[[Callable[..., Any]], Callable[..., Any]]
ACTION_STEPS = ("list", "get", "create", "update", "upsert", "patch", "delete")
BEHAVIOUR = "behaviour:"  # step-name prefix: the x-tb-behaviour function of that name


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    wraps: tuple[str, ...]  # step names (mocks/stages.py) or generic action names
    wrapper: Wrapper


REGISTRY: dict[str, Fault] = {}
FAULTS: dict[str, str] = {}  # name -> one-line description (CLI help, detection tests)


def fault(name: str, description: str, wraps: str | tuple[str, ...]) -> Callable[[Wrapper], Wrapper]:
    """Register `wrapper(step) -> step` as the fault `name`, applied around each step in `wraps`."""
    steps = (wraps,) if isinstance(wraps, str) else tuple(wraps)
    unknown = [s for s in steps if s not in STEP_NAMES and s not in ACTION_STEPS
               and not (s.startswith(BEHAVIOUR) and len(s) > len(BEHAVIOUR))]
    if unknown or name in REGISTRY:
        raise ValueError(f"fault {name!r}: duplicate name or unknown step(s) {unknown}")

    def register(wrapper: Wrapper) -> Wrapper:
        REGISTRY[name] = Fault(name, description, steps, wrapper)
        FAULTS[name] = description
        return wrapper
    return register


def check(names: frozenset[str] | set[str]) -> frozenset[str]:
    unknown = sorted(set(names) - set(REGISTRY))
    if unknown:
        raise ValueError(f"unknown sandbox fault(s): {', '.join(unknown)}; known: {', '.join(sorted(REGISTRY))}")
    return frozenset(names)


def apply(names: frozenset[str], stages: Stages) -> Stages:
    """Wrap the steps the named faults break (registration order, so the result is deterministic)."""
    for item in REGISTRY.values():
        if item.name not in names:
            continue
        for step in item.wraps:
            if step.startswith(BEHAVIOUR):
                continue  # see apply_to_behaviours
            if step in ACTION_STEPS:
                stages.actions[step] = item.wrapper(stages.actions[step])
            else:
                setattr(stages, step, item.wrapper(getattr(stages, step)))
    return stages


def apply_to_behaviours(names: frozenset[str], behaviours: dict[str, Callable[..., Any]]) -> None:
    """Wrap, in place, the plug-in behaviours the named faults break (once the sandbox has loaded them)."""
    for item in REGISTRY.values():
        if item.name not in names:
            continue
        for step in item.wraps:
            if step.startswith(BEHAVIOUR):
                name = step[len(BEHAVIOUR):]
                if name not in behaviours:
                    raise ValueError(f"fault {item.name!r} wraps the behaviour {name!r}, which no plug-in provides")
                behaviours[name] = item.wrapper(behaviours[name])


# the fault catalogue registers itself on import
from tbconform.mocks.faults import filters, listing, reads, failures, writes, caliper, edubridge, qti  # noqa: E402,F401
